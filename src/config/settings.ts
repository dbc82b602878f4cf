/**
 * The environment variables Guardian reads, the config path each sets, and what it is for: the
 * one list that loading, `guardian config` masking and docs/configuration.md are made from.
 */
export interface EnvSetting {
  /** The environment variable. */
  readonly env: string;
  /** The config path it sets (the YAML file's keys). */
  readonly path: readonly string[];
  /** What it is for, in one line. */
  readonly doc: string;
  /** A credential: masked by `guardian config`, from a secret store in production. */
  readonly secret?: boolean;
}

/**
 * Later entries win when two set the same path (`GUARDIAN_BEDROCK_REGION` over `AWS_REGION`).
 */
export const ENV_SETTINGS: readonly EnvSetting[] = [
  {
    env: 'GUARDIAN_ENV',
    path: ['environment'],
    doc: '`production` refuses the embedded store and the in-process queue (default `development`)',
  },
  { env: 'PORT', path: ['port'], doc: 'HTTP port of the API, the OTLP receiver and /slack/events' },
  {
    env: 'HOST',
    path: ['host'],
    doc: 'address to listen on; any but loopback needs an API key or `GUARDIAN_AUTH=off`',
  },
  {
    env: 'GUARDIAN_AUTH',
    path: ['auth', 'mode'],
    doc: '`on` (API keys; loopback only while none exists) or `off` (no authentication, warned hourly)',
  },
  { env: 'GUARDIAN_KEY_RATE', path: ['auth', 'keyRate'], doc: 'requests per second one API key may make' },
  {
    env: 'GUARDIAN_OTLP_PORT',
    path: ['otlp', 'port'],
    doc: 'also serve `POST /v1/metrics` alone on this port (ingest without the API)',
  },
  {
    env: 'GUARDIAN_DATA_DIR',
    path: ['dataDir'],
    doc: 'where the embedded store, detector state and the in-process queue journal live',
  },
  {
    env: 'GUARDIAN_DETECTOR_STATE_INTERVAL',
    path: ['detection', 'stateInterval'],
    doc: 'how often what detectors learnt is saved (0: never)',
  },
  { env: 'LOG_LEVEL', path: ['logLevel'], doc: '`trace` … `fatal`, `silent`' },
  {
    env: 'GUARDIAN_PUBLIC_URL',
    path: ['publicUrl'],
    doc: "Guardian's public base URL, for links in messages",
  },
  {
    env: 'GUARDIAN_LINK_SECRET',
    path: ['linkSecret'],
    doc: 'signs the incident-page links in Slack messages (the same on every replica)',
    secret: true,
  },
  {
    env: 'GUARDIAN_STORE',
    path: ['store', 'kind'],
    doc: '`embedded` (dynalite in-process) or `dynamodb` (the default when `DYNAMODB_ENDPOINT` is set)',
  },
  { env: 'DYNAMODB_ENDPOINT', path: ['store', 'endpoint'], doc: 'a DynamoDB-compatible endpoint (else AWS)' },
  {
    env: 'AWS_REGION',
    path: ['store', 'region'],
    doc: "DynamoDB's region (and Bedrock's, unless set apart)",
  },
  { env: 'GUARDIAN_TABLE', path: ['store', 'table'], doc: 'the DynamoDB table' },
  {
    env: 'GUARDIAN_CREATE_TABLE',
    path: ['store', 'createTable'],
    doc: 'create the table when missing (default: true when embedded, else false)',
  },
  {
    env: 'REDIS_URL',
    path: ['queue', 'redisUrl'],
    doc: 'BullMQ on this Redis (and leases, detector state); in-process queue without it',
    secret: true,
  },
  {
    env: 'SLACK_BOT_TOKEN',
    path: ['slack', 'token'],
    doc: 'the `xoxb-…` bot token; without it messages stay local',
    secret: true,
  },
  { env: 'SLACK_API_URL', path: ['slack', 'apiUrl'], doc: 'another Slack Web API base URL (tests, proxies)' },
  {
    env: 'SLACK_CHANNEL',
    path: ['slack', 'channel'],
    doc: 'where incidents go when nothing routes them elsewhere',
  },
  {
    env: 'SLACK_SIGNING_SECRET',
    path: ['slack', 'signingSecret'],
    doc: 'enables `POST /slack/events` (buttons, `/guardian`)',
    secret: true,
  },
  {
    env: 'SLACK_RESPONDERS',
    path: ['slack', 'responders'],
    doc: 'who may act from Slack: user ids (`U…`) and user-group ids (`S…`), comma-separated',
  },
  {
    env: 'SLACK_TEAM_IDS',
    path: ['slack', 'teams'],
    doc: 'accepted Slack workspaces (`T…`, `E…`), comma-separated',
  },
  {
    env: 'SLACK_ROUTES_OWNERS',
    path: ['slack', 'routes', 'owners'],
    doc: 'DAG owner → channel (`finance-data=#finance-data,…`)',
  },
  {
    env: 'SLACK_ROUTES_TAGS',
    path: ['slack', 'routes', 'tags'],
    doc: 'DAG tag → channel (`gold=#gold-models,…`)',
  },
  {
    env: 'SLACK_ROUTES_DAG_INFO_TTL',
    path: ['slack', 'routes', 'dagInfoTtl'],
    doc: "how long a DAG's owners and tags are cached",
  },
  {
    env: 'ANTHROPIC_API_KEY',
    path: ['llm', 'apiKey'],
    doc: 'lets the LLM draft messages (else the template)',
    secret: true,
  },
  { env: 'ANTHROPIC_BASE_URL', path: ['llm', 'baseUrl'], doc: 'another Anthropic API endpoint' },
  { env: 'GUARDIAN_LLM_MODEL', path: ['llm', 'model'], doc: 'Anthropic model' },
  { env: 'GUARDIAN_LLM_BUDGET', path: ['llm', 'budget'], doc: 'how long a first post waits for the draft' },
  {
    env: 'GUARDIAN_LLM_TOKENS_PER_INCIDENT',
    path: ['llm', 'tokensPerIncident'],
    doc: 'LLM token budget per incident',
  },
  { env: 'GUARDIAN_LLM_TOKENS_PER_HOUR', path: ['llm', 'tokensPerHour'], doc: 'LLM token budget per hour' },
  {
    env: 'GUARDIAN_LLM_PROVIDER',
    path: ['llm', 'provider'],
    doc: '`anthropic` (drafts when `ANTHROPIC_API_KEY` is set) or `bedrock` (AWS credentials)',
  },
  {
    env: 'AWS_REGION',
    path: ['llm', 'bedrock', 'region'],
    doc: "Bedrock's region, unless `GUARDIAN_BEDROCK_REGION`",
  },
  { env: 'GUARDIAN_BEDROCK_REGION', path: ['llm', 'bedrock', 'region'], doc: 'Bedrock Runtime region' },
  {
    env: 'GUARDIAN_BEDROCK_MODEL',
    path: ['llm', 'bedrock', 'model'],
    doc: 'Bedrock model id or inference profile',
  },
  {
    env: 'GUARDIAN_BEDROCK_ENDPOINT',
    path: ['llm', 'bedrock', 'endpoint'],
    doc: 'another Bedrock endpoint (a VPC endpoint)',
  },
  { env: 'GUARDIAN_DIAGNOSTICS', path: ['diagnostics', 'enabled'], doc: "gather the playbooks' diagnostics" },
  {
    env: 'GUARDIAN_DIAGNOSTICS_TIMEOUT',
    path: ['diagnostics', 'timeout'],
    doc: 'time limit of each diagnostic',
  },
  { env: 'GUARDIAN_PLAYBOOKS_DIR', path: ['playbooks', 'dir'], doc: 'another playbooks folder' },
  { env: 'AIRFLOW_UI_URL', path: ['links', 'airflowUrl'], doc: 'Airflow UI base, for runbook links' },
  { env: 'GRAFANA_URL', path: ['links', 'grafanaUrl'], doc: 'Grafana base, for Loki links in Explore' },
  {
    env: 'GRAFANA_LOKI_DATASOURCE',
    path: ['links', 'lokiDatasource'],
    doc: "the Loki data source's uid in Grafana",
  },
  { env: 'SPARK_UI_URL', path: ['links', 'sparkUiUrl'], doc: 'Spark UI base, for runbook links' },
  { env: 'AIRFLOW_URL', path: ['sources', 'airflow', 'url'], doc: "Airflow 3's API server; polled when set" },
  {
    env: 'AIRFLOW_USERNAME',
    path: ['sources', 'airflow', 'username'],
    doc: 'Airflow user Guardian logs in as',
  },
  {
    env: 'AIRFLOW_PASSWORD',
    path: ['sources', 'airflow', 'password'],
    doc: 'its password (exchanged for a JWT)',
    secret: true,
  },
  {
    env: 'SPARK_MASTER_UI_URL',
    path: ['sources', 'spark', 'masterUrl'],
    doc: "the standalone master's UI; polled when set",
  },
  {
    env: 'SPARK_DRIVER_UI_URL',
    path: ['sources', 'spark', 'driverUrl'],
    doc: "the Spark Connect application's UI",
  },
  {
    env: 'SPARK_CONNECT_ENDPOINT',
    path: ['sources', 'spark', 'connectEndpoint'],
    doc: '`sc://host:port`, probed',
  },
  {
    env: 'SPARK_CONNECT_NAME',
    path: ['sources', 'spark', 'connectName'],
    doc: "the endpoint's name in alerts when reached through another address",
  },
  {
    env: 'GUARDIAN_CORRELATION_LINK',
    path: ['correlation', 'link'],
    doc: 'signals linked through the causal graph join one incident within this',
  },
  {
    env: 'GUARDIAN_CORRELATION_BURST',
    path: ['correlation', 'burst'],
    doc: "failures of one outage's error class group within this",
  },
  {
    env: 'GUARDIAN_CORRELATION_PRECEDENCE',
    path: ['correlation', 'precedence'],
    doc: "how long after a failure a cause's own evidence may begin and still explain it",
  },
  {
    env: 'GUARDIAN_LOG_STREAM_HISTORY',
    path: ['detection', 'logStreamHistory'],
    doc: "a log stream's own history, before a line that is not an error can be new on it",
  },
  {
    env: 'GUARDIAN_PAGE_AFTER_DAGS',
    path: ['correlation', 'pageAfterDags'],
    doc: 'DAGs one observed cause explains from which an incident pages early',
  },
  {
    env: 'GUARDIAN_GROUP_WAIT',
    path: ['notify', 'groupWait'],
    doc: 'how long a new incident waits before its first post',
  },
  { env: 'LOKI_URL', path: ['sources', 'loki', 'url'], doc: 'Grafana Loki; polled when set' },
  { env: 'LOKI_TENANT', path: ['sources', 'loki', 'tenant'], doc: 'sent as `X-Scope-OrgID`' },
  {
    env: 'LOKI_BEARER_TOKEN',
    path: ['sources', 'loki', 'bearerToken'],
    doc: 'Loki bearer token',
    secret: true,
  },
  { env: 'LOKI_USER', path: ['sources', 'loki', 'user'], doc: 'Loki basic-auth user' },
  {
    env: 'LOKI_PASSWORD',
    path: ['sources', 'loki', 'password'],
    doc: 'Loki basic-auth password',
    secret: true,
  },
  {
    env: 'GUARDIAN_MAX_SERIES',
    path: ['detection', 'series', 'total'],
    doc: 'metric series the anomaly detector models at once; a new one past it gets no model, counted',
  },
  {
    env: 'GUARDIAN_MAX_SERIES_PER_SOURCE',
    path: ['detection', 'series', 'perSource'],
    doc: 'metric series modelled at once per `service.name` (else `job`)',
  },
  {
    env: 'GUARDIAN_OTLP_MAX_REQUESTS',
    path: ['otlp', 'maxConcurrentRequests'],
    doc: 'OTLP export requests handled at once; more are answered 429 with Retry-After',
  },
  {
    env: 'GUARDIAN_OTLP_MAX_BYTES_IN_FLIGHT',
    path: ['otlp', 'maxBytesInFlight'],
    doc: 'bytes of OTLP bodies held at once (announced, then inflated); more is answered 429',
  },
  {
    env: 'GUARDIAN_REQUEST_TIMEOUT',
    path: ['http', 'requestTimeout'],
    doc: 'a request (headers and body) must have arrived within this, else 408',
  },
  {
    env: 'GUARDIAN_HEADERS_TIMEOUT',
    path: ['http', 'headersTimeout'],
    doc: "a request's headers must have arrived within this",
  },
];

/**
 * Environment variables Guardian reads that are not settings of its own: OpenTelemetry's
 * standard ones (for its own telemetry) and the config file's name.
 */
export const OTHER_ENV: readonly { readonly env: string; readonly doc: string }[] = [
  { env: 'GUARDIAN_CONFIG', doc: 'the YAML config file (or `--config FILE`)' },
  { env: 'GUARDIAN_URL', doc: "`guardian jobs`: the running Guardian's base URL (or `--url URL`)" },
  { env: 'GUARDIAN_API_KEY', doc: '`guardian jobs`: the API key it sends (or `--key KEY`)' },
  { env: 'GUARDIAN_CRASH_AT', doc: 'test-only: `<point>[:<n>]`, SIGKILL at that step (docs/operations.md)' },
  {
    env: 'OTEL_*',
    doc: "OpenTelemetry's standard variables: export Guardian's own traces and metrics when an endpoint is set",
  },
];

/**
 * The settings that are secrets: in a deployment they come from a secret store (the ECS stack in
 * `deploy/` reads each from Secrets Manager), never from plain environment values.
 */
export const SECRET_SETTINGS: readonly string[] = ENV_SETTINGS.filter((s) => s.secret).map((s) => s.env);

/** Every environment variable Guardian reads a setting from. */
export const SETTING_NAMES: readonly string[] = [...new Set(ENV_SETTINGS.map((s) => s.env))];
