"""Stage 5, distribute: need-to-know email of the monthly products, exactly once, logged.

Small modules, one job each:

- ``recipients``: load and validate ``profiles/recipients.yml`` (who receives what), before
  anything is sent.
- ``crypto``: group passwords from the secret store, AES-256 zip of each PDF.
- ``ledger``: the exactly-once ledger (SQLite) with its claim -> sent state machine.
- ``disclosure_log``: the append-only disclosure log (DPA 2018 s.62), queryable by a DPO.
- ``mail``: the message (subject, body, encrypted attachment) and the SMTP transport (the
  Airflow SMTP connection under Airflow, else host and port from the environment).
- ``send``: one force x product (one mapped task), a whole month, and the run summary.
- ``sink``: a local SMTP sink that keeps every message as a ``.eml`` file (development).
"""
