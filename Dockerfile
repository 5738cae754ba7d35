# The Force Profiles image: Airflow 3.3 and the project from requirements.lock, the same pins as
# the tests. One image for every Airflow service in docker-compose.yml (api-server, scheduler,
# dag-processor, triggerer, celery workers, init): the command picks the role.
#
#   docker build -t force-profiles:latest .
#
# Based on Debian's slim Python rather than apache/airflow: the lock already pins Airflow and
# every provider the DAG uses, so the image holds exactly what CI tested and nothing else.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    FORCEPROFILES_HOME=/opt/force-profiles

# Pango and fonts for WeasyPrint (the PDFs); tini reaps the task processes Airflow forks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core tini \
 && rm -rf /var/lib/apt/lists/*

# The airflow user (uid 50000, group 0, as in Airflow's own images) owns the data volumes'
# mount points, so fresh named volumes are writable without a chown step.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home airflow \
 && mkdir -p /data/landing /data/central /data/lake /data/warehouse /data/out /data/distribution /opt/airflow/logs /opt/airflow/auth \
 && chown -R airflow:0 /data /opt/airflow \
 && chmod -R g+rwX /data /opt/airflow

# Dependencies first (the slow layer, cached until the lock changes).
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/venv \
 && pip install -r /tmp/requirements.lock \
 && rm /tmp/requirements.lock

# The project: an editable install keeps dags/, dbt_project/, profiles/ and expectations/ where
# the package looks for them (FORCEPROFILES_HOME); dbt writes target/ and logs/ in its project.
WORKDIR /opt/force-profiles
COPY --chown=airflow:0 . /opt/force-profiles
RUN pip install --no-deps -e . \
 && python -c "import forceprofiles, airflow, airflow.providers.celery, dbt, duckdb, great_expectations, splink, weasyprint"

USER airflow
WORKDIR /opt/airflow
ENTRYPOINT ["/usr/bin/tini", "--", "airflow"]
CMD ["version"]
