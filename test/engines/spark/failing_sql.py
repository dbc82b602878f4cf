"""A Spark Connect client as Guardian's Airflow operator would be: it tags its session with the
Airflow task, then runs a SQL model that fails at execution time."""
import sys

from pyspark.sql import SparkSession

spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
spark.addTag("airflow.dag_id=silver_orders")
spark.addTag("airflow.task_id=transform_orders")
spark.addTag("airflow.run_id=manual__2026-03-02T02-00-00")
try:
    spark.sql("SELECT assert_true(id < 5, 'guardian engine test: bad row') FROM range(100)").collect()
except Exception as e:  # noqa: BLE001
    print("FAILED", type(e).__name__)
    sys.exit(0)
print("UNEXPECTED SUCCESS")
sys.exit(1)
