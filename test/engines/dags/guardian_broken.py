# A DAG file that does not import: Guardian must report the import error.
from airflow.sdk import DAG  # noqa: F401

import guardian_module_that_does_not_exist  # noqa: F401
