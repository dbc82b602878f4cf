"""A Spark Connect client as Guardian's Airflow operator would be: it tags its session with the
Airflow task, then runs a SQL model that fails at execution time."""
import sys

from pyspark.sql import SparkSession

# Usage: failing_sql.py ENDPOINT [DAG_ID TASK_ID RUN_ID]
endpoint = sys.argv[1]
dag_id, task_id, run_id = (sys.argv[2:5] + [None] * 3)[:3] if len(sys.argv) > 2 else (
    "silver_orders",
    "transform_orders",
    "manual__2026-03-02T02-00-00",
)
spark = SparkSession.builder.remote(endpoint).getOrCreate()
# Tags may not contain commas.
spark.addTag(f"airflow.dag_id={dag_id}".replace(",", "_"))
spark.addTag(f"airflow.task_id={task_id}".replace(",", "_"))
spark.addTag(f"airflow.run_id={run_id}".replace(",", "_"))
try:
    spark.sql("SELECT assert_true(id < 5, 'guardian engine test: bad row') FROM range(100)").collect()
except Exception as e:  # noqa: BLE001
    print("FAILED", type(e).__name__, str(e)[:300])
    # Exit 0 when run by the Spark test (it only wants the failed job), 1 from Airflow (the task fails).
    sys.exit(1 if len(sys.argv) > 2 else 0)
print("UNEXPECTED SUCCESS")
sys.exit(2)
