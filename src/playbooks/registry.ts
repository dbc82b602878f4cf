/**
 * The playbooks Guardian loads, by file name under `playbooks/`. A new playbook is one Markdown
 * file plus one line here; a test checks that every file in the folder is listed.
 */
export const PLAYBOOK_FILES: readonly string[] = [
  'spot-loss.md',
  'executor-oom.md',
  'spark-connect-down.md',
  's3-throttling.md',
  'iceberg-commit-conflict.md',
  'sql-analysis-error.md',
  'scheduler-unhealthy.md',
  'celery-worker-lost.md',
  'ingestion-source-failing.md',
  'dag-import-error.md',
  'dag-late.md',
  'freshness-missed.md',
  'generic.md',
];
