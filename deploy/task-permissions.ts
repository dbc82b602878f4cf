/**
 * What Guardian's ECS task role may do: the AWS calls Guardian's code makes, written out here by
 * hand. `test/deploy/task-permissions.test.ts` derives the calls from the code and fails, naming
 * the action, when this list and the code disagree.
 */

/**
 * DynamoDB actions on the incident table itself (the store's Get, Put, Update, Query,
 * DescribeTable, and BatchGet: the correlator's consistent reload after a failover). A merge's
 * `TransactWriteItems` needs nothing more: IAM has no action of that name and authorises a
 * transaction item by item (its two `Put`s as `PutItem`).
 */
export const TABLE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
] as const;

/** DynamoDB actions on the table's indexes (listing incidents). */
export const INDEX_ACTIONS = ['dynamodb:Query'] as const;

/**
 * Calls the store makes only when it manages its own table (`GUARDIAN_CREATE_TABLE=true`); the
 * stack defines the table and sets `GUARDIAN_CREATE_TABLE=false`, so the task role leaves them out.
 */
export const TABLE_MANAGEMENT_ACTIONS = [
  'dynamodb:CreateTable',
  'dynamodb:DescribeTimeToLive',
  'dynamodb:UpdateTimeToLive',
] as const;

/** Drafting incident messages with Claude on Bedrock (Messages API without streaming). */
export const BEDROCK_ACTIONS = ['bedrock:InvokeModel'] as const;

/**
 * What the metrics sidecar (the AWS Distro for OpenTelemetry collector, which turns Guardian's
 * OTLP metrics into CloudWatch metrics) writes: embedded-metric-format log events, to its own log
 * group only. Not a call of Guardian's code: the sidecar shares the task role.
 */
export const METRICS_SIDECAR_ACTIONS = [
  'logs:CreateLogStream',
  'logs:DescribeLogStreams',
  'logs:PutLogEvents',
] as const;
