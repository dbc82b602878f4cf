import { z } from 'zod';
import { SEVERITIES } from '../core/index.ts';
import { parseDuration } from './duration.ts';

/** A duration: `30s`, `5m`, `1h`, or milliseconds as a number. Parsed to milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" is not a duration (use e.g. 30s, 5m, 1h or milliseconds)`,
    });
    return z.NEVER;
  }
  return ms;
});

const severity = z.enum(SEVERITIES as [string, ...string[]]) as z.ZodType<
  'info' | 'low' | 'high' | 'critical'
>;

/** An attribute matcher: a plain string must equal; `{ regex }` must match the whole value; `{ not }` must differ. */
const attributeMatcher = z.union([
  z.string(),
  z.strictObject({ regex: z.string() }),
  z.strictObject({ not: z.string() }),
]);

const ruleId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'lowercase letters, digits, ".", "_" or "-", at most 100');

/** A threshold rule: a metric series that compares badly with a value for long enough. */
export const thresholdRuleSchema = z.strictObject({
  /** Unique rule id; part of the signal fingerprint. */
  id: ruleId,
  /** Metric name, exactly as reported over OTLP. */
  metric: z.string().min(1),
  /** Attribute matchers (resource and point attributes together). All must hold. */
  match: z.record(z.string(), attributeMatcher).default({}),
  op: z.enum(['>', '>=', '<', '<=', '==', '!=']),
  value: z.number(),
  /** How long the condition must hold before it fires. @defaultValue 0 (first breaching point) */
  for: duration.default(0),
  severity: severity.default('high'),
  /**
   * What is compared with `value`: the point's `value`, or its `rate` per second. `auto` compares
   * monotonic cumulative sums (counters such as `ingest.errors`) as rates, whose running total
   * only grows and so could never clear, and everything else as values. @defaultValue auto
   */
  compare: z.enum(['auto', 'value', 'rate']).default('auto'),
  /**
   * Title for humans; `{series}` (the series' human name), `{key}` (its key), `{value}` and
   * `{metric}` are filled in.
   */
  title: z.string().optional(),
  /**
   * Attributes whose values split breaching series into groups, like Alertmanager's `group_by`:
   * the series of one group that breach make one signal (one incident) that counts them and names
   * the worst. @defaultValue the series' host (`host.name`, `host.id`, `host`), else its function
   * (`faas.name`), else its service (`service.name`); a series with none of them groups with every
   * other such series of the rule.
   */
  groupBy: z.array(z.string().min(1)).max(10).optional(),
});

/** A staleness rule: a series that stops reporting. */
export const stalenessRuleSchema = z.strictObject({
  id: ruleId,
  metric: z.string().min(1),
  match: z.record(z.string(), attributeMatcher).default({}),
  /**
   * Silence that makes a series stale. Without it, a series is stale after 3 of its own learnt
   * reporting intervals (and at least `minSilence`).
   */
  after: duration.optional(),
  /** @defaultValue 1m */
  minSilence: duration.default(60_000),
  /**
   * A series silent this long is no longer watched: its state is dropped and, if it was stale,
   * the signal resolves as retired (a replaced spot worker's series never come back).
   * @defaultValue 24h
   */
  retireAfter: duration.default(86_400_000),
  severity: severity.default('low'),
});

/**
 * An anomaly rule: how the learnt anomaly detector treats matching series. Without rules every
 * series is watched with the defaults; the first rule that matches a series applies to it.
 */
export const anomalyRuleSchema = z.strictObject({
  id: ruleId,
  metric: z.string().min(1),
  match: z.record(z.string(), attributeMatcher).default({}),
  /** false: do not model these series at all (no state, no signals). @defaultValue true */
  watch: z.boolean().default(true),
  /** Severity of their `metric.anomaly` signals (high and critical page). @defaultValue low */
  severity: severity.default('low'),
  /** Severity of their `metric.silent` signals. @defaultValue low */
  silentSeverity: severity.default('low'),
  /**
   * Which departures matter: `up` (spikes, rises, higher than usual for the time), `down` (dips,
   * falls, lower than usual) or `both`, which also counts changes of variance. @defaultValue both
   */
  direction: z.enum(['both', 'up', 'down']).default('both'),
  /** Whether a value stuck where the series usually changes fires. @defaultValue true */
  stuck: z.boolean().default(true),
  /**
   * Anomaly score (0–1) at which a point fires; 0.5 is a one-in-ten-thousand point for the
   * series, 0.6 (the default) one in a million. @defaultValue 0.6
   */
  fireScore: z.number().gt(0).lt(1).optional(),
});

export type ThresholdRule = z.output<typeof thresholdRuleSchema>;
export type AnomalyRule = z.output<typeof anomalyRuleSchema>;
export type StalenessRule = z.output<typeof stalenessRuleSchema>;
export type AttributeMatcher = z.output<typeof attributeMatcher>;

const port = z.coerce.number().int().min(0).max(65535);

/** A boolean, also as the strings `true` / `false` that environment variables carry. */
const booleanish = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/**
 * Key → Slack channel: a mapping in YAML, or `key=#channel,key2=C0123456789` in an environment
 * variable (`#name` or, better, a channel id).
 */
const channelMap = z.preprocess(
  (value, ctx) => {
    if (typeof value !== 'string') return value;
    const map: Record<string, string> = {};
    for (const pair of value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const eq = pair.indexOf('=');
      const key = eq > 0 ? pair.slice(0, eq).trim() : '';
      const channel = eq > 0 ? pair.slice(eq + 1).trim() : '';
      if (!key || !channel) {
        ctx.addIssue({ code: 'custom', message: `"${pair}" is not key=channel`, input: value });
        return z.NEVER;
      }
      map[key] = channel;
    }
    return map;
  },
  z.record(z.string().min(1), z.string().regex(/^[^\s,]+$/, 'a channel name or id, without spaces')),
);

/** A list of ids: a YAML list, or `a,b,c` in an environment variable. */
function idList(pattern: RegExp, what: string) {
  return z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean)
        : value,
    z.array(z.string().regex(pattern, what)),
  );
}

/** Everything a user can set. Environment variables win over the YAML file. */
export const configSchema = z.strictObject({
  /**
   * `GUARDIAN_ENV`: `production` refuses to start on what only suits one machine (the embedded
   * store, the in-process queue), naming what is missing. @defaultValue development
   */
  environment: z.enum(['development', 'production']).default('development'),
  /** HTTP port of the API and the OTLP receiver (`PORT`). @defaultValue 8080 */
  port: port.default(8080),
  /**
   * Address to listen on (`HOST`). Loopback by default: with no API key defined, Guardian answers
   * only clients on this machine, and refuses to listen elsewhere unless `auth.mode` is `off`.
   * The image sets `0.0.0.0` (and needs a key). @defaultValue 127.0.0.1
   */
  host: z.string().min(1).default('127.0.0.1'),

  /** Who may call the HTTP API; see docs/security.md. */
  auth: z
    .strictObject({
      /**
       * `GUARDIAN_AUTH`: `on` (API keys; protected mode while none exists) or `off` (no
       * authentication at all: every request is let through; Guardian warns at startup and every
       * hour). @defaultValue on
       */
      mode: z.enum(['on', 'off']).default('on'),
      /** `GUARDIAN_KEY_RATE`: requests per second one key may make (429 beyond). @defaultValue 50 */
      keyRate: z.coerce.number().positive().default(50),
      /** Requests one key may make at once after a quiet spell. @defaultValue 200 */
      keyBurst: z.coerce.number().int().positive().default(200),
    })
    .prefault({}),
  /** Where embedded stores keep their data (`GUARDIAN_DATA_DIR`). @defaultValue ./.guardian-data */
  dataDir: z.string().default('.guardian-data'),
  /** `LOG_LEVEL` @defaultValue info */
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Base URL people reach Guardian at, for links in Slack (`GUARDIAN_PUBLIC_URL`). */
  publicUrl: z.url().optional(),
  /**
   * Signs the short-lived incident-page links in Slack messages (`GUARDIAN_LINK_SECRET`); every
   * replica needs the same one. Without it each process signs with a random secret of its own,
   * so links stop working when it restarts.
   */
  linkSecret: z.string().min(32, 'at least 32 characters').optional(),
  /** How long a signed incident-page link works. @defaultValue 24h */
  linkLifetime: duration.default(86_400_000),
  /** The recent points kept per series for charts. */
  history: z
    .strictObject({
      /** Series with a history at most; beyond it, series not written lately give theirs up. @defaultValue 20000 */
      maxSeries: z.number().int().min(1).max(1_000_000).default(20_000),
      /** Points kept per series. @defaultValue 120 */
      points: z.number().int().min(2).max(10_000).default(120),
    })
    .prefault({}),

  store: z
    .strictObject({
      /**
       * `embedded`: dynalite in-process, data under `dataDir` (no AWS account needed).
       * `dynamodb`: a real DynamoDB (or any compatible endpoint). `GUARDIAN_STORE`.
       */
      kind: z.enum(['embedded', 'dynamodb']).default('embedded'),
      /** `DYNAMODB_ENDPOINT`; unset = the AWS regional endpoint. */
      endpoint: z.url().optional(),
      /** `AWS_REGION` @defaultValue us-east-1 */
      region: z.string().min(1).default('us-east-1'),
      /** `GUARDIAN_TABLE` @defaultValue guardian */
      table: z
        .string()
        .regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'a DynamoDB table name')
        .default('guardian'),
      /** Create the table when it is missing (`GUARDIAN_CREATE_TABLE`). @defaultValue true for embedded, false otherwise */
      createTable: booleanish.optional(),
    })
    .prefault({}),

  queue: z
    .strictObject({
      /** `REDIS_URL`: BullMQ on Redis when set, the in-process queue otherwise. */
      redisUrl: z
        .string()
        .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
        .optional(),
      /**
       * A queue with jobs ready to run that this replica consumes, and none of them taken for this
       * long, makes `/readyz` answer 503: the pipeline is not moving. @defaultValue 1m
       */
      stuckAfter: duration.default(60_000),
      /**
       * Shutdown finishes within this, whatever the dependencies do: what has not closed by then
       * is dropped (its connections closed). @defaultValue 20s
       */
      shutdownTimeout: duration.default(20_000),
    })
    .prefault({}),

  slack: z
    .strictObject({
      /** `SLACK_BOT_TOKEN`; without it messages go to the log and the API's outbox. */
      token: z.string().min(1).optional(),
      /** `SLACK_API_URL`: another base URL for the Web API. */
      apiUrl: z.url().optional(),
      /** `SLACK_CHANNEL` @defaultValue #data-platform-alerts */
      channel: z.string().min(1).default('#data-platform-alerts'),
      /**
       * `SLACK_SIGNING_SECRET`: enables the Slack app at `POST /slack/events` (buttons, `/guardian`)
       * and the buttons on incident messages.
       */
      signingSecret: z.string().min(1).optional(),
      /**
       * Who may act from Slack (buttons, `/guardian silence`, `unsilence`): Slack user ids (`U…`,
       * `W…`) and user-group ids (`S…`, members looked up with `usergroups.users.list`, which
       * needs the `usergroups:read` scope) — `SLACK_RESPONDERS`, comma-separated. Empty: any
       * member of an accepted workspace (Guardian warns at startup).
       */
      responders: idList(/^[UWS][A-Z0-9]{2,30}$/, 'a Slack user id (U…, W…) or user-group id (S…)').default(
        [],
      ),
      /**
       * Workspaces (`team_id`, `T…`) whose requests are accepted — `SLACK_TEAM_IDS`. Empty: any
       * workspace the signing secret's app is installed in (Guardian warns at startup).
       */
      teams: idList(/^[TE][A-Z0-9]{2,30}$/, 'a Slack team id (T…) or enterprise id (E…)').default([]),
      /** How long a user group's members are remembered. @defaultValue 5m */
      groupMembersTtl: duration.default(300_000),
      /** Thread replies about new or cleared signals are batched over this window. @defaultValue 30s */
      replyBatch: duration.default(30_000),
      /**
       * Where incidents go when no matching playbook names a channel: by DAG id (`*` globs, first
       * match wins), then by DAG owner or tag. Else `channel`.
       */
      routes: z
        .strictObject({
          dags: z.array(z.strictObject({ dag: z.string().min(1), channel: z.string().min(1) })).default([]),
          /** DAG owner → channel (`SLACK_ROUTES_OWNERS`, `owner=#channel,owner2=C0123456789`). */
          owners: channelMap.default({}),
          /** DAG tag → channel (`SLACK_ROUTES_TAGS`, `tag=#channel,…`). */
          tags: channelMap.default({}),
          /**
           * DAG owners and tags come from Airflow (`GET /api/v2/dags/{dag_id}`, needs `AIRFLOW_URL`)
           * and are cached this long per DAG (`SLACK_ROUTES_DAG_INFO_TTL`). @defaultValue 10m
           */
          dagInfoTtl: duration.default(600_000),
          /** DAGs whose owners and tags are remembered. @defaultValue 1000 */
          dagInfoMaxEntries: z.coerce.number().int().positive().default(1000),
          /**
           * How long routing waits for Airflow's answer about a DAG; after a failure, lookups are not
           * tried again for 30 s and routing goes on without owners and tags. @defaultValue 3s
           */
          dagInfoTimeout: duration.default(3000),
        })
        .prefault({}),
    })
    .prefault({}),

  /**
   * The LLM that drafts incident messages: the Anthropic API (with an API key) or Claude on Amazon
   * Bedrock; without either, the deterministic template is used.
   */
  llm: z
    .strictObject({
      /**
       * `GUARDIAN_LLM_PROVIDER`: `anthropic` (drafts when `apiKey` is set) or `bedrock` (drafts with
       * the AWS credentials of the default chain, e.g. the ECS task role). @defaultValue anthropic
       */
      provider: z.enum(['anthropic', 'bedrock']).default('anthropic'),
      /** Claude on Amazon Bedrock, used when `provider` is `bedrock`. */
      bedrock: z
        .strictObject({
          /**
           * `GUARDIAN_BEDROCK_REGION`, else `AWS_REGION`: the Bedrock Runtime region requests are
           * signed for. @defaultValue us-east-1
           */
          region: z.string().min(1).default('us-east-1'),
          /**
           * `GUARDIAN_BEDROCK_MODEL`: a Bedrock model id, inference profile id or ARN.
           * @defaultValue global.anthropic.claude-haiku-4-5-20251001-v1:0
           */
          model: z.string().min(1).default('global.anthropic.claude-haiku-4-5-20251001-v1:0'),
          /** `GUARDIAN_BEDROCK_ENDPOINT`: another endpoint (a VPC endpoint). Default: the region's. */
          endpoint: z.url().optional(),
        })
        .prefault({}),
      /** `ANTHROPIC_API_KEY`: enables drafting. Never logged. */
      apiKey: z.string().min(1).optional(),
      /** `ANTHROPIC_BASE_URL` @defaultValue https://api.anthropic.com */
      baseUrl: z.url().optional(),
      /** `GUARDIAN_LLM_MODEL`: fast and cheap suits a 4 s budget. @defaultValue claude-haiku-4-5 */
      model: z.string().min(1).default('claude-haiku-4-5'),
      /** `GUARDIAN_LLM_BUDGET`: how long a first post waits for the draft. @defaultValue 4s */
      budget: duration.default(4000),
      /** Hard timeout of one drafting call. @defaultValue 30s */
      timeout: duration.default(30_000),
      /** Output tokens of one draft. @defaultValue 1024 */
      maxTokens: z.number().int().min(256).max(8192).default(1024),
      /** `GUARDIAN_LLM_TOKENS_PER_INCIDENT` @defaultValue 40000 */
      tokensPerIncident: z.coerce.number().int().positive().default(40_000),
      /** `GUARDIAN_LLM_TOKENS_PER_HOUR`, across replicas. @defaultValue 400000 */
      tokensPerHour: z.coerce.number().int().positive().default(400_000),
    })
    .prefault({}),

  playbooks: z
    .strictObject({
      /** `GUARDIAN_PLAYBOOKS_DIR` @defaultValue the `playbooks/` folder shipped with Guardian */
      dir: z.string().min(1).optional(),
    })
    .prefault({}),

  /** Where people open things, for runbook links in messages. Each is optional; links that need a missing one are left out. */
  links: z
    .strictObject({
      /** `AIRFLOW_UI_URL` @defaultValue `sources.airflow.url` */
      airflowUrl: z.url().optional(),
      /** `GRAFANA_URL`: Loki queries open in its Explore. */
      grafanaUrl: z.url().optional(),
      /** `GRAFANA_LOKI_DATASOURCE`: the Loki data source uid. @defaultValue loki */
      lokiDatasource: z.string().min(1).default('loki'),
      /** `SPARK_UI_URL` @defaultValue `sources.spark.driverUrl` */
      sparkUiUrl: z.url().optional(),
    })
    .prefault({}),

  /** Diagnostics the matched playbooks declare, gathered for each incident (see `src/diagnostics`). */
  diagnostics: z
    .strictObject({
      /**
       * `GUARDIAN_DIAGNOSTICS`: gather them (from the configured Airflow, Spark and Loki) for the
       * LLM draft and a "Diagnostics" thread reply. @defaultValue true
       */
      enabled: booleanish.default(true),
      /** `GUARDIAN_DIAGNOSTICS_TIMEOUT`: the limit of each one. @defaultValue 3s */
      timeout: duration.default(3000),
      /** Characters kept of each one's text. @defaultValue 2000 */
      maxChars: z.number().int().min(200).max(20_000).default(2000),
    })
    .prefault({}),

  /**
   * How signals group into incidents and how a root cause is inferred. The defaults were chosen by
   * leave-one-mode-out over the failure-mode suite (docs/causal-correlation.md); change them only
   * with that measurement.
   */
  correlation: z
    .strictObject({
      /** `GUARDIAN_CORRELATION_LINK`: signals linked through the causal graph join within this. @defaultValue 30m */
      link: duration.default(30 * 60_000),
      /** `GUARDIAN_CORRELATION_BURST`: failures of one outage's error class group within this. @defaultValue 15m */
      burst: duration.default(15 * 60_000),
      /**
       * `GUARDIAN_CORRELATION_PRECEDENCE`: how long after a failure a candidate cause's own evidence
       * may begin and still explain it (detection delay). @defaultValue 3m
       */
      precedence: duration.default(180_000),
      /**
       * `GUARDIAN_PAGE_AFTER_DAGS`: DAGs one observed cause explains (or that fail with one outage's
       * class) from which an incident pages before any task failed for good. @defaultValue 2
       */
      pageAfterDags: z.coerce.number().int().min(1).max(100).default(2),
    })
    .prefault({}),

  notify: z
    .strictObject({
      /**
       * `GUARDIAN_GROUP_WAIT`: how long a new incident waits before its first post, so the first
       * signals of one cause (and the merges they cause) go out as one message. @defaultValue 20s
       */
      groupWait: duration.default(20_000),
      /**
       * How often the leader looks in the store for incidents whose first post is due and not
       * done (their job was lost: a crash, a deploy, a Redis that came back empty) and queues
       * them again; it also looks on start and when it becomes leader. @defaultValue 1m
       */
      reconcileInterval: duration.default(60_000),
    })
    .prefault({}),

  http: z
    .strictObject({
      /**
       * `GUARDIAN_REQUEST_TIMEOUT`: a request (headers and body) must have arrived within this, or
       * it is answered 408 and its connection closed: a slow upload cannot hold memory and a
       * connection for ever. @defaultValue 60s
       */
      requestTimeout: duration.default(60_000),
      /** `GUARDIAN_HEADERS_TIMEOUT`: the request's headers must have arrived within this. @defaultValue 10s */
      headersTimeout: duration.default(10_000),
    })
    .prefault({}),

  otlp: z
    .strictObject({
      /**
       * `GUARDIAN_OTLP_PORT`: also serve `POST /v1/metrics` (and `/healthz`) alone on this port, so
       * a security group can expose ingest without the API. Unset: OTLP only on `port`.
       */
      port: port.optional(),
      /** Body limit after decompression. @defaultValue 64 MiB */
      maxBodyBytes: z
        .number()
        .int()
        .positive()
        .default(64 * 1024 * 1024),
      /** Signal-queue depth above which the receiver answers 429. @defaultValue 10000 */
      maxQueueDepth: z.number().int().positive().default(10_000),
      /** `Retry-After` sent with a 429, in seconds. @defaultValue 5 */
      retryAfterSeconds: z.number().int().positive().default(5),
      /**
       * Resource attributes that, with the metric name and the data point attributes, identify a
       * series; the others (`service.instance.id`, `telemetry.sdk.*`, `process.pid`, …) are kept
       * as context, so a restarted exporter continues its series. Replaces the default list; the
       * attributes the semantic conventions' naming makes identifying join it (see
       * `contextAttributes`).
       * @defaultValue service.name, service.namespace, deployment.environment(.name), host.name,
       * cloud.region, faas.name, container.name, aws.ecs.task.family, aws.ecs.cluster.arn and the
       * Kubernetes cluster, namespace, workload and container names
       */
      identifyingAttributes: z
        .array(z.string().min(1))
        .refine(
          (keys) =>
            !keys.some(
              (k) => k === 'service.instance.id' || k === 'process.pid' || k.startsWith('telemetry.'),
            ),
          {
            message:
              'service.instance.id, process.pid and telemetry.* change on every restart: they cannot identify a series',
          },
        )
        .optional(),
      /**
       * Resource attributes kept out of series keys although their name says they identify a
       * resource: by the semantic conventions' naming, an attribute ending in `.id`, `.name` or
       * `.identifier` (`db.instance.identifier`, `k8s.node.name`) is part of the key, unless it
       * describes one instance of a process (`service.instance.id`, `process.*`, `container.id`,
       * the Kubernetes pod, …) or is listed here. At most 8 such attributes, each at most 128
       * characters, join a key. @defaultValue none
       */
      contextAttributes: z.array(z.string().min(1)).optional(),
      /**
       * `GUARDIAN_OTLP_MAX_REQUESTS`: export requests handled at once; one more is answered 429
       * with Retry-After before its body is read. @defaultValue 16
       */
      maxConcurrentRequests: z.coerce.number().int().positive().default(16),
      /**
       * `GUARDIAN_OTLP_MAX_BYTES_IN_FLIGHT`: bytes of bodies held at once (announced, then
       * inflated); a request that would pass it is answered 429. @defaultValue 256 MiB
       */
      maxBytesInFlight: z.coerce
        .number()
        .int()
        .positive()
        .default(256 * 1024 * 1024),
    })
    .prefault({}),

  sources: z
    .strictObject({
      /** The Airflow 3 API server. Polled only when `url` is set (`AIRFLOW_URL`). */
      airflow: z
        .strictObject({
          /** `AIRFLOW_URL`, e.g. http://airflow-api:8080 */
          url: z.url().optional(),
          /** `AIRFLOW_USERNAME` */
          username: z.string().min(1).default('guardian'),
          /** `AIRFLOW_PASSWORD`; exchanged for a JWT at /auth/token, never logged. */
          password: z.string().optional(),
          /** @defaultValue 30s */
          interval: duration.default(30_000),
          /** Look-back overlap of each poll. @defaultValue 2m */
          overlap: duration.default(120_000),
        })
        .prefault({}),
      /** Spark: the standalone master, the Spark Connect driver UI and endpoint (`SPARK_MASTER_UI_URL`…). */
      spark: z
        .strictObject({
          /** `SPARK_MASTER_UI_URL`, e.g. http://spark-master:8080 (its /json/). Polled only when set. */
          masterUrl: z.url().optional(),
          /** `SPARK_DRIVER_UI_URL`: the Spark Connect application's UI, e.g. http://spark-connect:4040 */
          driverUrl: z.url().optional(),
          /** `SPARK_CONNECT_ENDPOINT`, e.g. sc://spark-connect:15002 */
          connectEndpoint: z
            .string()
            .regex(/^sc:\/\/[^:/]+(:\d+)?/, 'an sc://host:port endpoint')
            .optional(),
          /**
           * `SPARK_CONNECT_NAME`: the endpoint's name in entity keys and alerts when Guardian reaches
           * it through another address (a tunnel, a proxy, a replay stand-in). Default: the endpoint.
           */
          connectName: z
            .string()
            .regex(/^sc:\/\/[^:/]+(:\d+)?/, 'an sc://host:port endpoint')
            .optional(),
          /** @defaultValue 15s */
          interval: duration.default(15_000),
        })
        .prefault({}),
      /** Grafana Loki. Polled only when `url` is set (`LOKI_URL`). */
      loki: z
        .strictObject({
          /** `LOKI_URL`, e.g. http://loki:3100 */
          url: z.url().optional(),
          /**
           * LogQL log queries read in full: the error lines of every stream. A burst is read in
           * steps, none skipped.
           */
          queries: z
            .array(z.string().min(3))
            .default(['{service_name=~".+"} |~ "(?i)(error|exception|fatal|killed|warn)"']),
          /**
           * LogQL log queries read within a line budget: by default every other line of every
           * stream, whatever its level, for what is new on a stream (never paging on its own). Their
           * line filters should exclude what `queries` read. `[]` reads error lines only.
           */
          budgetQueries: z
            .array(z.string().min(3))
            .default(['{service_name=~".+"} !~ "(?i)(error|exception|fatal|killed|warn)"']),
          /**
           * Lines one poll reads of each budgeted query; past it the rest of the poll's span is
           * skipped and counted in seconds of log time (`guardian.loki.skipped`). @defaultValue 20000
           */
          linesPerPoll: z.coerce.number().int().positive().max(1_000_000).default(20_000),
          /** `LOKI_TENANT`: sent as X-Scope-OrgID. */
          tenant: z.string().optional(),
          /** `LOKI_BEARER_TOKEN`; or basic auth with `LOKI_USER` / `LOKI_PASSWORD`. */
          bearerToken: z.string().optional(),
          user: z.string().optional(),
          password: z.string().optional(),
          /** @defaultValue 30s */
          interval: duration.default(30_000),
          /** @defaultValue 1m */
          overlap: duration.default(60_000),
        })
        .prefault({}),
    })
    .prefault({}),

  detection: z
    .strictObject({
      /** How often time-driven conditions are evaluated. @defaultValue 5s */
      tick: duration.default(5000),
      /**
       * How often what the detectors learnt (each series' anomaly model) is saved, to Redis when
       * `queue.redisUrl` is set, else to `dataDir`; it is also saved on shutdown and taken back on
       * start. 0 turns saving and restoring off. @defaultValue 5m
       */
      stateInterval: duration.default(300_000),
      /**
       * Metric series the anomaly detector models (`guardian.detection.series`). A new series past
       * a budget gets no model and is counted (`guardian.detection.series.refused`, and a log line
       * at most once a minute); established series keep their learnt models. Threshold and
       * staleness rules still see every series.
       */
      series: z
        .strictObject({
          /** `GUARDIAN_MAX_SERIES`: series modelled at once in all (the anomaly detector's capacity). @defaultValue 10000 */
          total: z.coerce.number().int().positive().default(10_000),
          /** `GUARDIAN_MAX_SERIES_PER_SOURCE`: series admitted at once per `service.name` (else `job`). @defaultValue 2000 */
          perSource: z.coerce.number().int().positive().default(2000),
          /** A series silent this long gives its place back. @defaultValue 1h */
          idle: duration.default(3_600_000),
          /**
           * Series each threshold or staleness rule keeps state for at most (a breaching or
           * watched series, about 200 bytes each); past it the one without news longest is
           * forgotten. @defaultValue 100000
           */
          ruleStates: z.coerce.number().int().positive().default(100_000),
        })
        .prefault({}),
      thresholds: z.array(thresholdRuleSchema).default([]),
      staleness: z.array(stalenessRuleSchema).default([]),
      anomalies: z.array(anomalyRuleSchema).default([]),
      /**
       * `GUARDIAN_LOG_STREAM_HISTORY`: a log stream's own history. A line that is not an error is
       * new (`log.new_line`) when no stream showed its template before and its stream has this
       * much history, or appeared this long after Guardian began reading logs. @defaultValue 15m
       */
      logStreamHistory: duration.default(15 * 60_000),
    })
    .prefault({}),
});

export type GuardianConfig = z.output<typeof configSchema>;
export type GuardianConfigInput = z.input<typeof configSchema>;
