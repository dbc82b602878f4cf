"""DAGs that Guardian's real-engine tests run: each fails (or not) in one way Guardian must see."""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

START = datetime(2026, 1, 1)


def boom():
    raise RuntimeError("guardian engine test: transform_orders failed")


def fail_first_try(ti=None):
    if ti.try_number < 2:
        raise RuntimeError("guardian engine test: flaky source, first try fails")


def ok():
    return "ok"


with DAG("guardian_always_fails", schedule=None, start_date=START, catchup=False, tags=["guardian-test"]):
    PythonOperator(task_id="transform_orders", python_callable=boom, retries=0)

with DAG("guardian_retry_recovers", schedule=None, start_date=START, catchup=False, tags=["guardian-test"]):
    PythonOperator(task_id="load_events", python_callable=fail_first_try, retries=1, retry_delay=timedelta(seconds=1))

with DAG("guardian_healthy", schedule=None, start_date=START, catchup=False, tags=["guardian-test"]):
    PythonOperator(task_id="extract", python_callable=ok) >> PythonOperator(task_id="publish", python_callable=ok)

with DAG("guardian_cascade", schedule=None, start_date=START, catchup=False, tags=["guardian-test"]):
    PythonOperator(task_id="build_model", python_callable=boom, retries=0) >> PythonOperator(
        task_id="export_model", python_callable=ok
    )

# Scheduled, but not before 2030: Airflow reports its next run (`next_dagrun_run_after`) and
# creates none during the test.
with DAG("guardian_scheduled_later", schedule="@daily", start_date=datetime(2030, 1, 1), catchup=False, tags=["guardian-test"]):
    PythonOperator(task_id="noop", python_callable=ok)
