"""A SQL model run through Spark Connect, as the platform's operator runs them: the task tags its
Spark session with itself, and the model fails at execution time. Only defined when the test that
needs it provides a Spark Connect endpoint."""

import os
from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

PYTHON = os.environ.get("GUARDIAN_SPARK_PYTHON")
ENDPOINT = os.environ.get("GUARDIAN_SPARK_CONNECT")
SCRIPT = os.environ.get("GUARDIAN_SPARK_SCRIPT")

if PYTHON and ENDPOINT and SCRIPT:
    with DAG("guardian_spark_model", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["guardian-test"]):
        BashOperator(
            task_id="build_orders_model",
            bash_command=f"{PYTHON} {SCRIPT} {ENDPOINT} {{{{ dag.dag_id }}}} {{{{ task.task_id }}}} {{{{ run_id }}}}",
            retries=0,
        )
