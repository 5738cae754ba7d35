"""The monthly Force Profiles job: thin Airflow glue over ``forceprofiles.pipeline``.

Every task calls one ``forceprofiles`` function and returns a small JSON summary (statuses and
row counts, never records). The same work runs without Airflow as ``forceprofiles run``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import CronDataIntervalTimetable, Param, dag, get_current_context, task, task_group

from forceprofiles import contract, pipeline, settings

DAG_ID = "force_profiles_monthly"
TIMEZONE = "Europe/London"
# The run for month M starts at 06:00 on the 2nd of M+1 (London time), giving forces the 1st to
# deliver. The data interval runs from 06:00 on the 2nd of M to 06:00 on the 2nd of M+1, so it
# always starts in the month it covers: report month = the London month of the interval start.
SCHEDULE = CronDataIntervalTimetable("0 6 2 * *", timezone=TIMEZONE)
START_DATE = datetime(2023, 11, 2, 6, 0, tzinfo=pipeline.LONDON)

# The one-slot pool that serialises every writer of the DuckDB warehouse file (stage 3).
WAREHOUSE_POOL = "duckdb_warehouse"

DOC_MD = f"""
# Force Profiles: monthly run

**What it does.** Once a month, for the *previous calendar month* (Europe/London), it pulls
each force's five feeds ({", ".join(contract.FEEDS)}), checks them and decides which forces
can go forward to the monthly profiles:

1. `plan`: the report month and the list of force x feed to ingest.
2. `ingest_feed.extract` (one mapped instance per force/feed, labelled `force/feed`): reads
   the force's file drop or its PostgreSQL database (Airflow connection `fp_force_<force>`,
   from `profiles/forces.yml`) into `lake/staging`; a delivery that cannot be read at all is
   quarantined whole.
3. `ingest_feed.validate` (runs after the extract of the same force/feed): the feed's
   Great Expectations suite; good rows go to `lake/raw`, bad rows to `lake/quarantine` with
   a readable report. Every row is accounted for: read = landed + quarantined.
4. `decide_holds`: per force, **proceed** or **held**, and the run manifest. Runs even if
   some feeds failed.

It is scheduled at 06:00 on the 2nd of each month for the month before. In the grid, a run's
*data interval* is 06:00 on the 2nd of month M to 06:00 on the 2nd of M+1: that run covers
**month M** (the month its interval starts in).

**Where to look.** Paths are under the lake, `$FORCEPROFILES_LAKE` (default `<project>/var/lake`).
- Run manifest: `manifests/<YYYY-MM>/run.json`: per force and feed, status and rows read /
  landed / quarantined per entity, the hold decisions and any crashed tasks.
- Validation report per force and feed (what failed, which rows, what to ask the force for):
  `reports/<YYYY-MM>/<force>/<feed>.md`.
- Quarantined rows (with their reasons; personal data, open only in the secure environment):
  `quarantine/<feed>/force=<id>/month=<YYYY-MM>/`; deliveries that could not be read at all
  are kept whole under its `files/`.
- Landed data: `raw/<feed>/force=<id>/month=<YYYY-MM>/`.
- Products: `$FORCEPROFILES_OUT/<YYYY-MM>/<force>/<product>.pdf`, manifest `$FORCEPROFILES_OUT/<YYYY-MM>/manifest.json`.

**What "held" means.** A force is *held* when a mandatory feed (see `profiles/forces.yml`) is
missing (late delivery), failed validation as a whole, could not be read, or its task crashed.
A held force is left out of this month's profiles; the other forces carry on. Held is a
business outcome, not a failure of the job: the run can be green with forces held. The reason
is in the return value of `decide_holds` and in the manifest. Tell the force's data team
(`contacts.data_team` in `profiles/forces.yml`), get the delivery fixed, then rerun the month.
A *crashed* task (red in the grid, after its retries) has already emailed the data team and
holds its force; the rest of the run still completes.

**Rerun a month.** Every stage replaces exactly that month's output, so rerunning is safe:
*Clear* the run of that month in the grid (all tasks, or just the failed ones), or trigger
the DAG with `report_month` = `YYYY-MM` (and optionally `forces` = `["kent"]` to redo only
some forces). Without Airflow: `forceprofiles run --month YYYY-MM --forces kent`.

**Backfill.** Months are data intervals, so a backfill of January to April 2026 is
`airflow backfill create --dag-id {DAG_ID} --from-date 2026-01-01 --to-date 2026-04-30`
(one run per month, logical dates the 2nd of each month at 06:00; `--reprocess-behavior
completed` to redo months that already ran). Runs go one at a time (`max_active_runs=1`).

**Alerts.** A failed task emails `{settings.data_team_email()}` (SMTP connection
`smtp_default`). Tasks retry {{retries}} times with exponential back-off first.

**Products and email.** `render` (one mapped instance per force/product, read-only on the
warehouse) writes `$FORCEPROFILES_OUT/<YYYY-MM>/<force>/<product>.pdf` and a sidecar JSON;
`write_manifest` writes `<YYYY-MM>/manifest.json`. Held forces get no products. `distribute`
emails each product, AES-256 zipped, to the groups of `profiles/recipients.yml` through the SMTP
connection `smtp_default` (give it the extra `{{"retry_limit": 0}}`: the task retries, the hook
must not), exactly once per (month, force, product, recipient, content): the ledger
(`$FORCEPROFILES_LEDGER`) makes a retry, rerun or backfill send nothing twice, and a changed
product goes out as a marked revision. Group passwords are Airflow Variables
`fp_secret_<group secret>`. Every send, collection and warehouse build is in the disclosure log
(`forceprofiles disclosures --month YYYY-MM`). `summarise` emails the data team the run summary.

**Warehouse build.** `build_warehouse` runs one dbt build of the DuckDB warehouse as at the
month (staging, POLE, Splink person resolution, marts) in the one-slot pool `{WAREHOUSE_POOL}`,
because a DuckDB file has a single writer (create it once: `airflow pools set
{WAREHOUSE_POOL} 1 "single writer of the DuckDB warehouse"`). A failed dbt model or data test
is named in the task's log.
"""

RETRIES = 2
# Sending retries more: an SMTP outage is the failure most likely to mend itself.
DISTRIBUTE_RETRIES = 5


def _alert() -> SmtpNotifier:
    """Email the data team: which DAG, run, task and try failed, and where the log is."""
    return SmtpNotifier(
        to=settings.data_team_email(),
        from_email=settings.alert_from_email(),
        subject="[force-profiles] {{ dag.dag_id }}: "
                "{{ ti.task_id if ti is defined and ti else 'the run' }} failed ({{ run_id | default('') }})",
        html_content=(
            "<p>The monthly Force Profiles job needs attention.</p>"
            "<ul><li>DAG: {{ dag.dag_id }}</li><li>Run: {{ run_id | default('') }}</li>"
            "<li>Data interval: {{ data_interval_start | default('') }} to {{ data_interval_end | default('') }}</li>"
            "{% if ti is defined and ti %}<li>Task: {{ ti.task_id }} (map index {{ ti.map_index }}, "
            "try {{ ti.try_number }})</li><li>Log: {{ ti.log_url }}</li>{% endif %}</ul>"
            "<p>See the DAG's documentation in the Airflow UI for how to rerun a month.</p>"
        ),
    )


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-engineering",
    "retries": RETRIES,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=2),
    "on_failure_callback": _alert(),
}


@dag(
    dag_id=DAG_ID,
    schedule=SCHEDULE,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=_alert(),
    doc_md=DOC_MD.replace("{retries}", str(RETRIES)),
    tags=["force-profiles", "monthly"],
    params={
        "report_month": Param(
            None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            title="Report month",
            description="YYYY-MM to (re)run; leave empty to use the run's data interval "
                        "(the previous calendar month).",
        ),
        "forces": Param(
            None, type=["null", "array"], items={"type": "string"},
            title="Forces",
            description="Force ids to run, e.g. [\"kent\", \"essex\"]; empty = every force in profiles/forces.yml.",
        ),
    },
)
def force_profiles_monthly() -> None:
    @task
    def plan(**context: Any) -> list[dict[str, str]]:
        """The report month and one entry per force x feed to ingest."""
        params = context["params"]
        dag_run = context["dag_run"]
        month = pipeline.resolve_report_month(
            params.get("report_month"), context.get("data_interval_start"), getattr(dag_run, "run_after", None)
        )
        return pipeline.plan_month(month, params.get("forces"))

    @task(map_index_template="{{ partition }}")
    def extract(force_id: str, feed: str, month: str) -> dict[str, Any]:
        """Stage 1 for one force x feed: the delivery into lake/staging."""
        get_current_context()["partition"] = f"{force_id}/{feed}"  # type: ignore[typeddict-unknown-key]
        return pipeline.extract_partition(
            force_id, feed, month, landing_root=settings.landing_root(), lake_root=settings.lake_root()
        )

    @task(map_index_template="{{ partition }}")
    def validate(extracted: dict[str, Any]) -> dict[str, Any]:
        """Stage 2 for one force x feed: lake/raw, lake/quarantine and the row accounting."""
        get_current_context()["partition"] = f"{extracted['force_id']}/{extracted['feed']}"  # type: ignore[typeddict-unknown-key]
        return pipeline.validate_partition(
            str(extracted["force_id"]), str(extracted["feed"]), str(extracted["month"]),
            lake_root=settings.lake_root(),
        )

    @task_group
    def ingest_feed(force_id: str, feed: str, month: str) -> Any:
        """Extract then validate one force's feed (validate waits only for its own extract)."""
        return validate(extract(force_id=force_id, feed=feed, month=month))

    @task(trigger_rule="all_done")
    def decide_holds(planned: list[dict[str, str]], validations: list[dict[str, Any]]) -> dict[str, Any]:
        """Proceed or hold each force, and write lake/manifests/<month>/run.json."""
        month = planned[0]["month"]
        forces = list(dict.fromkeys(item["force_id"] for item in planned))
        return pipeline.finalise_month(
            month, forces, lake_root=settings.lake_root(),
            validations=[v for v in validations if v], run_id=get_current_context()["run_id"],
        )

    @task(pool=WAREHOUSE_POOL)
    def build_warehouse(decided: dict[str, Any]) -> dict[str, Any]:
        """Stage 3: one dbt build on DuckDB with Splink person resolution, as at the month.

        One slot in its pool: a DuckDB file has a single writer. Held forces' landed data is
        still built (the marts flag them); the products of held forces are not rendered.
        """
        return pipeline.build_month(decided["month"], lake_root=settings.lake_root(),
                                    warehouse_path=settings.warehouse_path(), central_root=settings.central_root(),
                                    run_id=get_current_context()["run_id"])

    @task
    def plan_products(decided: dict[str, Any], built: dict[str, Any]) -> list[dict[str, str]]:
        """Stage 4's work list: each product of each force of this run that is not held."""
        return pipeline.plan_products(built["month"], decided["forces_this_run"], decided["held"])

    @task(map_index_template="{{ partition }}")
    def render(month: str, force_id: str, product: str) -> dict[str, Any]:
        """Stage 4 for one force x product: the PDF and its sidecar (warehouse read-only)."""
        get_current_context()["partition"] = f"{force_id}/{product}"  # type: ignore[typeddict-unknown-key]
        return pipeline.render_one(month, force_id, product, warehouse_path=settings.warehouse_path(),
                                   out_root=settings.output_root())

    @task
    def write_manifest(built: dict[str, Any], rendered: list[dict[str, Any]]) -> dict[str, Any]:
        """out/<month>/manifest.json: every product's sha256, pages and inputs."""
        manifest = pipeline.write_products_manifest(built["month"], rendered, out_root=settings.output_root())
        return {"month": manifest["month"], "products": len(manifest["products"]), "skipped": len(manifest["skipped"])}

    @task(map_index_template="{{ partition }}", retries=DISTRIBUTE_RETRIES, retry_delay=timedelta(minutes=1))
    def distribute(sidecar: dict[str, Any]) -> dict[str, Any]:
        """Stage 5 for one force x product: encrypted email to its recipient groups, exactly once.

        The ledger makes a retry, a rerun or a backfill send only what has not been sent; a mail
        outage raises and the task retries with back-off.
        """
        from forceprofiles.distribute.send import distribute_product

        context = get_current_context()
        context["partition"] = f"{sidecar.get('force_id')}/{sidecar.get('product')}"  # type: ignore[typeddict-unknown-key]
        if sidecar.get("skipped"):
            return {"force_id": sidecar.get("force_id"), "product": sidecar.get("product"), "status": "skipped"}
        return distribute_product(sidecar, settings.output_root(), run_id=context["run_id"])

    @task(trigger_rule="all_done")
    def summarise(decided: dict[str, Any]) -> dict[str, Any]:
        """The run summary email to the data team (forces, holds, quarantined rows, products sent)."""
        from forceprofiles.distribute.send import send_run_summary

        return send_run_summary(decided["month"], run_id=get_current_context()["run_id"],
                                out_root=settings.output_root(), lake_root=settings.lake_root())

    planned = plan()
    validations = ingest_feed.expand_kwargs(planned)
    decided = decide_holds(planned, validations)
    built = build_warehouse(decided)
    rendered = render.expand_kwargs(plan_products(decided, built))
    manifest = write_manifest(built, rendered)
    distributed = distribute.expand(sidecar=rendered)
    manifest >> distributed
    distributed >> summarise(decided)


force_profiles_monthly()
