import { type EntityKey, entityKey } from '../core/index.ts';
import { identifiesByConvention, MAX_CONVENTION_VALUE } from '../sources/otlp/resource-identity.ts';

/**
 * The resource edges of the causal graph: which shared resources (a host, a bucket, a catalog
 * service, a function, a module) a failure's text names, and which resources a metric series or a
 * log stream is evidence about. A failure that names a resource whose own series departed is
 * explained by it; two failures of one class that name one resource share it. Resources are
 * `host:{name}` (the canonical host key) or `name:{value}` for anything else a text and a
 * series' attributes can both name.
 */

/**
 * The evidence label of when a series' departure began (ISO time): a departure judged on two
 * points in a row is seen one point after it began, and which anomaly began first is what
 * temporal precedence compares.
 */
export const DEPARTED_AT = 'departed at';

/**
 * The evidence label of which way a series departed: `rise` (more errors, throttles, latency,
 * lag) or `fall` (less work done). A fall shows less getting through, which any fault upstream
 * causes; a rise is the resource's own account of what went wrong.
 */
export const DEPARTURE = 'departure';

/** Series attributes and stream labels that name a host. */
const HOST_KEYS = ['host.name', 'host.id', 'host', 'hostname', 'instance'];
/**
 * Attributes and labels that name the resource a series or stream is about (OpenTelemetry
 * semantic conventions and CloudWatch dimensions): a bucket, a function, the source a function
 * ingests, the AWS service and API a usage count is of, a database, a table, a queue.
 */
const NAME_KEYS = [
  'bucket',
  'aws.s3.bucket',
  'BucketName',
  'faas.name',
  'function',
  'FunctionName',
  'source',
  'service',
  'resource',
  'db.name',
  'db.namespace',
  'server.address',
  'catalog',
  'table',
  'queue',
  'topic',
];

/** Names shorter than this are too common to tie anything. */
const MIN_NAME = 3;

/** Resources a metric series or a log stream (by its entity key) is evidence about. */
export function resourcesOfSeries(entity: EntityKey): EntityKey[] {
  const labels = parseLabels(entity);
  if (!labels) return [];
  const out = new Set<EntityKey>();
  for (const k of HOST_KEYS) {
    const v = labels[k];
    if (v) out.add(entityKey.host(v));
  }
  for (const k of NAME_KEYS) {
    const v = labels[k];
    if (v && v.length >= MIN_NAME) out.add(nameKey(v));
  }
  const service = labels['service.name'] ?? labels.service_name ?? '';
  const component = AIRFLOW_COMPONENT.exec(service)?.[1];
  if (component) out.add(`airflow:${component.replace('-', '_')}`);
  if (COLLECTOR_SERVICE.test(service) || COLLECTOR_METRIC.test(seriesName(entity)))
    out.add(TELEMETRY_PIPELINE);
  return [...out];
}

/**
 * A fully qualified DNS name (three labels or more, the last alphabetic): whatever attribute holds
 * it (`salesforce.org`, a vendor's endpoint), it names a host.
 */
const DNS_NAME =
  /^(?=.{5,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+\.[a-z]{2,63}$/i;

/**
 * What else a series or stream may be about, for the failures that name it only: an attribute
 * value that is a DNS name (a host), an attribute identifying its resource by the OpenTelemetry
 * naming convention (`cache_cluster.id`, `db.instance.identifier`), and a host named by one label
 * (`crm-db`), which a failure naming `crm-db.c2820.eu-west-1.rds.amazonaws.com` also names (see
 * `shortNameOf`). Not `service.name`: that is who emits, not what the series is about. These
 * tie a failure to the series; they tie no two series together (many series share a service, a
 * namespace or a host) and make no series about a host it was not about.
 */
export function alsoAboutSeries(entity: EntityKey): EntityKey[] {
  const labels = parseLabels(entity);
  if (!labels) return [];
  const known = new Set(resourcesOfSeries(entity));
  const out = new Set<EntityKey>();
  for (const [k, v] of Object.entries(labels)) {
    if (v.length > MAX_CONVENTION_VALUE || k === 'service.name') continue;
    let r: EntityKey | undefined;
    if (DNS_NAME.test(v)) r = entityKey.host(v.toLowerCase());
    else if ((HOST_KEYS.includes(k) || identifiesByConvention(k)) && isShortName(v)) r = nameKey(v);
    if (r && !known.has(r)) out.add(r);
  }
  return [...out];
}

/**
 * A name one DNS label long that can name a resource (`crm-db`, `airflow-broker-002`): letters,
 * digits and hyphens with a letter, long enough not to tie everything. An address or a number is
 * not one.
 */
function isShortName(v: string): boolean {
  return v.length >= MIN_NAME && /^[A-Za-z0-9][A-Za-z0-9-]*$/.test(v) && /[A-Za-z]/.test(v);
}

/**
 * A fully qualified host a failure names is also its short name, the first label of its DNS name
 * (not of an address): the series or stream of that server may carry only that
 * (`host="crm-db"`, `cache_cluster.id="airflow-broker-002"`, see `alsoAboutSeries`).
 */
export function shortNameOf(key: EntityKey): EntityKey | undefined {
  if (!key.startsWith('host:')) return undefined;
  const host = key.slice(5);
  const dot = host.indexOf('.');
  if (dot < 0 || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host)) return undefined;
  const label = host.slice(0, dot);
  return isShortName(label) ? nameKey(label) : undefined;
}

/**
 * The pipeline metrics reach Guardian by (exporters, collectors, gateways): what many series that
 * stop together have in common (`telemetry.silent`), and what a collector's own telemetry is about.
 */
export const TELEMETRY_PIPELINE: EntityKey = 'telemetry:metrics';

/**
 * An OpenTelemetry Collector's own telemetry, by the collector's conventions: its internal metrics
 * are named `otelcol_…` (Prometheus) or `otelcol.…` (OTLP), and its distributions report as
 * `otelcol`, `otelcol-contrib`, `otel-collector` or `opentelemetry-collector`. Such a series or
 * stream is evidence about the telemetry pipeline, whatever host it runs on.
 */
const COLLECTOR_METRIC = /^otelcol[._]/;
const COLLECTOR_SERVICE = /^(?:otelcol(?:-\w+)?|otel-collector|opentelemetry-collector)(?:$|-)/;

/** The metric name of a `metric:name{…}` key ('' for other keys). */
function seriesName(entity: EntityKey): string {
  if (!entity.startsWith('metric:')) return '';
  const open = entity.indexOf('{');
  return entity.slice('metric:'.length, open < 0 ? undefined : open);
}

/**
 * The service names of Airflow's components whose health Airflow reports (`airflow:scheduler`,
 * `airflow:triggerer`, `airflow:dag_processor`): their series and streams are evidence about them.
 */
const AIRFLOW_COMPONENT = /^airflow-(scheduler|triggerer|dag-processor)$/;

/** `name:{value}`: a resource that is not a host. */
export function nameKey(value: string): EntityKey {
  return `name:${value}`;
}

const S3_URL = /\bs3[an]?:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])((?:\/[^\s'"(),;<>]*)?)/g;
const URL_HOST = /\b([a-z][a-z0-9+.-]*):\/\/([A-Za-z0-9][\w.-]*)/g;
/**
 * `host:port`, after a delimiter (so neither a file's `name.py:120` inside braces nor a time). A
 * host name has letters, digits and hyphens only: `grpc_status:14` in a gRPC error is a field.
 */
const HOST_PORT =
  /(?:^|[\s([,'"@=:])((?:\d{1,3}\.){3}\d{1,3}|[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*):(\d{2,5})(?![\d.:])/g;
/** `Arrays.java:3537` in a stack trace is a source line, not a host. */
const SOURCE_FILE = /\.(?:scala|java|kt|py|js|ts|go|rb|c|cc|cpp|h)$/i;
/** The AWS SDKs' `(Service: Glue, Status Code: 400, …)`. */
const AWS_SERVICE = /\(Service: ([A-Za-z][\w ]*?)[,;)]/g;
/**
 * botocore's `ClientError` names the API operation that failed (`An error occurred
 * (ThrottlingException) when calling the GetSecretValue operation`): what a usage series of that
 * API (`resource="GetSecretValue"`) is about.
 */
const AWS_OPERATION = /\bwhen calling the ([A-Z][A-Za-z]+) operation\b/g;
/** Python's import errors name the module they could not import. */
const PY_MODULE = /\b(?:No module named|cannot import name '[^']+' from) '([\w.]+)'/g;
/**
 * A host named without a port or scheme: the name a resolver could not resolve (Java's
 * `UnknownHostException: name`, urllib3's `Failed to resolve 'name'`, curl's `Could not resolve
 * host: name`), the server libpq could not connect to (`connection to server at "name"`), the
 * block manager a shuffle fetch failed on (`BlockManagerId(7, 10.0.3.17, 7337, …)`) or the address
 * it failed to connect to (`Failed to connect to /10.0.3.17:7337`).
 */
const BARE_HOST =
  /(?:UnknownHostException: |Failed to resolve '|Could not resolve host:? '?|connection to server at "|BlockManagerId\(\w+, |Failed to connect to \/)([A-Za-z0-9][\w-]*(?:\.[\w-]+)*)/g;

/**
 * Resources a failure's error text names: buckets and their first path segments (what a job read
 * or wrote), hosts of URLs and of `host:port` addresses (what it connected to), hosts a client
 * could not resolve or reach (`BARE_HOST`), the AWS service that answered and the API operation
 * that failed, the Python module that failed to import.
 */
export function resourcesNamedIn(text: string): EntityKey[] {
  const out = new Set<EntityKey>();
  for (const m of text.matchAll(S3_URL)) {
    out.add(nameKey(m[1]!));
    const segments = (m[2] ?? '').split('/').filter((s) => s.length >= MIN_NAME && /[A-Za-z]/.test(s));
    for (const s of segments.slice(0, 2)) if (!s.includes('=')) out.add(nameKey(s));
  }
  for (const m of text.matchAll(URL_HOST)) {
    if (!m[1]!.startsWith('s3')) out.add(entityKey.host(m[2]!));
  }
  for (const m of text.matchAll(HOST_PORT)) if (!SOURCE_FILE.test(m[1]!)) out.add(entityKey.host(m[1]!));
  for (const m of text.matchAll(AWS_SERVICE)) out.add(nameKey(m[1]!.trim()));
  for (const m of text.matchAll(AWS_OPERATION)) out.add(nameKey(m[1]!));
  for (const m of text.matchAll(PY_MODULE)) out.add(nameKey(m[1]!));
  for (const m of text.matchAll(BARE_HOST)) out.add(entityKey.host(m[1]!));
  return [...out];
}

const ERROR_LINE = /ERROR|FATAL|Exception|Error\b|Caused by|refused|denied|timed out/;

/**
 * The lines of a failure text that report errors, with the two lines after each (a reason, a
 * `Caused by`): what a failure names there is what it failed on, while its other lines name what
 * it merely used (the endpoint it connected to, the file it started from).
 */
export function errorLines(text: string): string {
  const lines = text.split('\n');
  const keep = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    if (!ERROR_LINE.test(lines[i]!)) continue;
    for (let j = i; j < Math.min(lines.length, i + 3); j++) keep.add(j);
  }
  return [...keep].map((i) => lines[i]).join('\n');
}

/** The labels of a `metric:name{…}` or `log:{…}` key, or undefined for other keys. */
export function parseLabels(entity: EntityKey): Record<string, string> | undefined {
  if (!entity.startsWith('metric:') && !entity.startsWith('log:')) return undefined;
  const open = entity.indexOf('{');
  if (open < 0 || !entity.endsWith('}')) return undefined;
  const out: Record<string, string> = {};
  let i = open + 1;
  const end = entity.length - 1;
  while (i < end) {
    const eq = entity.indexOf('="', i);
    if (eq < 0) break;
    const key = entity.slice(i, eq);
    let j = eq + 2;
    let value = '';
    while (j < end && entity[j] !== '"') {
      if (entity[j] === '\\' && j + 1 < end) j++;
      value += entity[j];
      j++;
    }
    out[key] = value;
    i = j + 2; // past `",`
  }
  return out;
}
