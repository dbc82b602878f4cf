"""A long Spark Connect job, tagged with its Airflow task, to lose a worker under."""
import sys

from pyspark.sql import SparkSession

spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
spark.addTag("airflow.dag_id=gold_daily")
spark.addTag("airflow.task_id=build_revenue")
spark.addTag("airflow.run_id=manual__2026-03-02T03-00-00")
print("STARTED", flush=True)
try:
    spark.sql(
        "SELECT count(*) FROM range(0, 400000000, 1, 8) "
        "WHERE reflect('java.lang.Thread', 'sleep', bigint(1)) IS NULL OR id % 7 = 3"
    ).collect()
except Exception as e:  # noqa: BLE001
    print("FAILED", type(e).__name__)
