import { describe, expect, it } from 'vitest';
import type { EntityKey, IncidentSignal } from '../core/index.ts';
import { readFailureText } from '../logs/failure-text.ts';
import { isStrongCause, rankRootCause } from './causality.ts';
import { alsoAboutSeries, resourcesNamedIn, resourcesOfSeries, shortNameOf } from './resources.ts';

const T0 = Date.parse('2026-07-14T02:05:00Z');
const RUN = 'scheduled__2026-07-14T02:00:00+00:00';
const task = (dag: string, t = 'silver') => `airflow:task:${dag}/${RUN}/${t}`;

type Input = IncidentSignal & { errorClass?: string };

function sig(over: Partial<Input> & Pick<Input, 'kind' | 'entity'>, at = 0): Input {
  return {
    fingerprint: `fp-${over.kind}-${over.entity}`,
    status: 'firing',
    related: [],
    severity: 'high',
    title: `${over.kind} ${over.entity}`,
    detector: 'test',
    firstSeen: T0 + at,
    lastSeen: T0 + at,
    count: 1,
    evidence: [],
    ...over,
  };
}

/** A task try that failed with `text`, read as the task-failure detector reads it. */
function failedTry(dag: string, text: string, at: number, kind = 'airflow.task_retry'): Input {
  const read = readFailureText(text);
  return sig(
    {
      kind,
      entity: task(dag),
      related: [`airflow:dag:${dag}`, ...read.causes, ...read.uses],
      names: read.names,
      ...(read.errorClass ? { errorClass: read.errorClass } : {}),
    },
    at,
  );
}

const dns = (name: string) =>
  `pyspark.errors.exceptions.connect.SparkConnectGrpcException: (org.apache.iceberg.exceptions.RESTException) Error occurred while processing GET request\nCaused by: java.net.UnknownHostException: ${name}: Name or service not known`;

describe('resources a failure names', () => {
  it('names the host a client could not resolve or reach, with no scheme or port around it', () => {
    expect(
      resourcesNamedIn(
        'Caused by: java.net.UnknownHostException: catalog.acme.internal: Name or service not known',
      ),
    ).toContain('host:catalog.acme.internal');
    expect(
      resourcesNamedIn(
        "NameResolutionError: Failed to resolve 'api.partner.example' ([Errno -3] Temporary failure)",
      ),
    ).toContain('host:api.partner.example');
    expect(resourcesNamedIn('curl: (6) Could not resolve host: api.partner.example')).toContain(
      'host:api.partner.example',
    );
    expect(
      resourcesNamedIn(
        'connection to server at "airflow-db-1" (10.0.0.21), port 5432 failed: FATAL:  sorry, too many clients already',
      ),
    ).toContain('host:airflow-db-1');
    // the SDK's generic sentence names no host
    expect(
      resourcesNamedIn(
        'SdkClientException: Received an UnknownHostException when attempting to interact with a service.',
      ),
    ).toEqual([]);
  });

  it('reads a shuffle fetch failure as caused by the host serving the blocks, not the executor that asked', () => {
    const read = readFailureText(
      'Lost task 12.0 in stage 40.0 (TID 77) (10.0.4.2 executor 3): FetchFailed(BlockManagerId(7, 10.0.3.17, 7337, None), shuffleId=4, mapIndex=17, mapId=288, reduceId=7, message=\norg.apache.spark.shuffle.FetchFailedException: java.io.IOException: Input/output error',
      'app-1',
    );
    expect(read.errorClass).toBe('fetch_failed');
    expect(read.causes).toEqual(['host:10.0.3.17']);
  });
});

describe('root cause of failures no signal observes', () => {
  it('roots failures of several DAGs at the host they all name when nothing observes it, and pages (one outage class)', () => {
    const name = 'catalog.acme.internal';
    const signals = ['orders_daily', 'payments_daily', 'claims_daily'].map((d, i) =>
      failedTry(d, dns(name), 20_000 * i),
    );
    const rc = rankRootCause(signals)!;
    expect(rc.entity).toBe(`host:${name}`);
    expect(rc.kind).toBe('name_resolution');
    expect(rc.title).toContain('3 DAGs');
    expect(isStrongCause(rc)).toBe(true);
  });

  it('does not infer a host that failures of one DAG only name', () => {
    const signals = [failedTry('orders_daily', dns('catalog.acme.internal'), 0)];
    expect(rankRootCause(signals)!.entity).toBe(task('orders_daily'));
  });

  it('prefers a series observing the named resource over the inferred host when both explain as much', () => {
    const signals = [
      ...['orders_daily', 'payments_daily'].map((d, i) =>
        failedTry(
          d,
          'psycopg2.OperationalError: connection to server at "airflow-db-1" (10.0.0.21), port 5432 failed: FATAL:  sorry, too many clients already',
          60_000 + 10_000 * i,
        ),
      ),
      sig(
        {
          kind: 'metric.anomaly',
          entity:
            'metric:postgresql.backends{db.name="airflow",host.name="airflow-db-1",service.name="postgresql"}' as EntityKey,
        },
        90_000,
      ),
    ];
    const rc = rankRootCause(signals)!;
    expect(rc.entity).toBe(
      'metric:postgresql.backends{db.name="airflow",host.name="airflow-db-1",service.name="postgresql"}',
    );
  });

  it('roots shuffle fetch failures of two DAGs at the serving host and pages, though every try may still be retried', () => {
    const fetch = (reducer: string) =>
      `Lost task 3.0 in stage 9.0 (TID 5) (${reducer} executor 2): FetchFailed(BlockManagerId(7, 10.0.3.17, 7337, None), shuffleId=4, mapIndex=1, mapId=2, reduceId=3, message=\norg.apache.spark.shuffle.FetchFailedException: java.io.IOException: Input/output error`;
    const both = [
      failedTry('orders_daily', fetch('10.0.4.2'), 0),
      failedTry('claims_daily', fetch('10.0.5.9'), 30_000),
    ];
    const rc = rankRootCause(both)!;
    expect(rc.entity).toBe('host:10.0.3.17');
    expect(isStrongCause(rc)).toBe(true);
    expect(isStrongCause(rankRootCause([both[0]!])!)).toBe(false);
  });

  it('reaches the series of a function through the source a failure names (one series holds both)', () => {
    const fn = 'ingest-orders-api';
    const throttles =
      `metric:aws.lambda.throttles{faas.name="${fn}",service.name="lambda-ingestion"}` as EntityKey;
    const rows =
      `metric:ingest.rows{faas.name="${fn}",service.name="lambda-ingestion",source="orders_api"}` as EntityKey;
    const missing = failedTry(
      'orders_daily',
      'pyspark.errors.exceptions.connect.AnalysisException: [PATH_NOT_FOUND] Path does not exist: s3://acme-landing/orders_api/dt=2026-07-14. SQLSTATE: 42K03',
      600_000,
    );
    const signals = [
      sig({ kind: 'metric.anomaly', entity: throttles }, 0),
      sig({ kind: 'metric.anomaly', entity: rows }, 120_000),
      missing,
    ];
    expect(rankRootCause(signals)!.entity).toBe(throttles);
  });

  it('reaches an AWS usage series through the API operation a botocore error names', () => {
    const calls =
      'metric:aws.usage.call_count{resource="GetSecretValue",service="SecretsManager",service.name="aws-usage",type="API"}' as EntityKey;
    const lookup = (dag: string, at: number) =>
      failedTry(
        dag,
        "botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the GetSecretValue operation (reached max retries: 4): Rate exceeded\nairflow.exceptions.AirflowNotFoundException: The conn_id `spark_connect_default` isn't defined",
        at,
      );
    expect(resourcesNamedIn('when calling the GetSecretValue operation')).toEqual(['name:GetSecretValue']);
    const rc = rankRootCause([
      sig({ kind: 'metric.anomaly', entity: calls }, 0),
      lookup('orders_daily', 60_000),
      lookup('assets_daily', 90_000),
    ])!;
    expect(rc.entity).toBe(calls);
  });

  it("ranks a stream's new line that is not an error after a series explaining as much, else takes it", () => {
    const scheduler =
      'log:{host="airflow-scheduler-1",level="info",service_name="airflow-scheduler"}' as EntityKey;
    const starving =
      'metric:airflow.pool.starving_tasks{host.name="airflow-scheduler-1",pool_name="default",service.name="airflow-scheduler"}' as EntityKey;
    const stalled = (dag: string) =>
      sig(
        {
          kind: 'airflow.run_stalled',
          entity: `airflow:dagrun:${dag}/${RUN}`,
          related: ['airflow:scheduler'],
        },
        1_200_000,
      );
    const newLine = sig({ kind: 'log.new_line', entity: scheduler, severity: 'info' }, 0);
    const series = sig({ kind: 'metric.anomaly', entity: starving }, 120_000);
    // The line began first; the series is an observed departure explaining as much: the series,
    // with the confidence it has without the line (a hint is no rival).
    const rc = rankRootCause([newLine, series, stalled('a_daily'), stalled('b_daily')])!;
    expect(rc.entity).toBe(starving);
    expect(rc.confidence).toBe(rankRootCause([series, stalled('a_daily'), stalled('b_daily')])!.confidence);
    // With nothing observed, the stream the failures reach is the cause.
    expect(rankRootCause([newLine, stalled('a_daily'), stalled('b_daily')])!.entity).toBe(scheduler);
  });

  it('lets the metadata database seen unhealthy explain tasks failing with its outage class', () => {
    const text =
      "airflow.sdk.api.client.ServerResponseError: Server returned error\nDetail: {'detail': '(psycopg2.OperationalError) connection to server at \"db\" (10.0.0.2), port 5432 failed: FATAL:  sorry, too many clients already'}";
    const health = sig(
      {
        kind: 'airflow.component_unhealthy',
        entity: 'airflow:metadatabase',
        severity: 'critical',
        errorClass: 'database_unavailable',
      },
      0,
    );
    const rc = rankRootCause([
      health,
      failedTry('orders_daily', text, 60_000),
      failedTry('claims_daily', text, 70_000),
    ])!;
    expect(rc.entity).toBe('airflow:metadatabase');
  });

  it('reads a series of an Airflow component as evidence about that component', () => {
    const heartbeat =
      'metric:airflow.scheduler_heartbeat{host.name="airflow-scheduler-1",service.name="airflow-scheduler"}' as EntityKey;
    expect(resourcesOfSeries(heartbeat)).toEqual(['host:airflow-scheduler-1', 'airflow:scheduler']);
    expect(resourcesOfSeries('log:{host="w1",service_name="airflow-worker"}' as EntityKey)).toEqual([
      'host:w1',
    ]);
    const late = sig(
      { kind: 'airflow.dag_late', entity: 'airflow:dag:orders_daily', related: ['airflow:scheduler'] },
      900_000,
    );
    const rc = rankRootCause([sig({ kind: 'metric.anomaly', entity: heartbeat }, 60_000), late])!;
    expect(rc.entity).toBe(heartbeat);
  });
});

describe('a series meets the failures that name its server however either spells it', () => {
  const meets = (series: string, text: string) => {
    const about = new Set([
      ...resourcesOfSeries(series as EntityKey),
      ...alsoAboutSeries(series as EntityKey),
    ]);
    const named = resourcesNamedIn(text);
    return [...named, ...named.flatMap((r) => shortNameOf(r) ?? [])].filter((r) => about.has(r));
  };

  it('by a DNS name in any attribute, a short host name, or an attribute naming its resource by convention', () => {
    expect(
      meets(
        'metric:salesforce.org.limit.remaining{limit="DailyApiRequests",salesforce.org="acme.my.salesforce.com",service.name="limits-exporter"}',
        'SalesforceRefusedRequest: (403) Request refused for https://acme.my.salesforce.com/services/data/v59.0/query',
      ),
    ).toEqual(['host:acme.my.salesforce.com']);
    expect(
      meets(
        'log:{host="crm-db",level="info",service_name="postgresql"}',
        'psycopg2.OperationalError: connection to server at "crm-db.c2820.eu-west-1.rds.amazonaws.com" (10.0.9.4), port 5432 failed: timeout expired',
      ),
    ).toEqual(['name:crm-db']);
    expect(
      meets(
        'metric:aws.elasticache.database_memory_usage_percentage{cache_cluster.id="airflow-broker-002",service.name="aws-elasticache"}',
        'redis.exceptions.OutOfMemoryError: command not allowed when used memory > maxmemory (airflow-broker-002.1e07c5.0001.euw1.cache.amazonaws.com:6379)',
      ),
    ).toEqual(['name:airflow-broker-002']);
  });

  it('not by an address, the emitting service, a process instance, or a value too short to name anything', () => {
    expect(shortNameOf('host:10.0.3.17')).toBeUndefined();
    // a log's data sets are what it names, not the short names of the servers it reached
    expect(resourcesNamedIn('Connecting to Spark Connect at sc://spark-connect.internal:15002')).toEqual([
      'host:spark-connect.internal',
    ]);
    expect(
      alsoAboutSeries(
        'metric:m{service.name="limits-exporter",service.instance.id="a1b2c3d4",k8s.pod.name="worker-7f9c",cloud.account.id="123456789012"}' as EntityKey,
      ),
    ).toEqual([]);
    expect(meets('metric:m{db.name="db"}', 'connection to server at "db.internal.example" failed')).toEqual(
      [],
    );
  });

  it('keeps a host series about its host: the short name is only for failures that name it', () => {
    const disk = 'metric:disk{host.name="crm-db",service.name="node"}' as EntityKey;
    const conns = 'metric:conns{host.name="crm-db",service.name="postgres"}' as EntityKey;
    expect(resourcesOfSeries(disk)).toEqual(['host:crm-db']);
    expect(alsoAboutSeries(disk)).toEqual(['name:crm-db']);
    expect(alsoAboutSeries(conns)).toEqual(['name:crm-db']);
  });
});

describe('paging early, on retries', () => {
  const timeout = (bucket: string) =>
    `org.apache.spark.SparkException: Job aborted due to stage failure\nCaused by: software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP request: Connect to ${bucket}.s3.eu-west-1.amazonaws.com:443 [${bucket}.s3.eu-west-1.amazonaws.com/52.218.204.247] failed: connect timed out`;

  it('pages when retries of two DAGs fail one way on what they both name, before any fails for good', () => {
    const retries = [
      failedTry('refunds_daily', timeout('hooli-lakehouse-prod'), 0),
      failedTry('leads_daily', timeout('hooli-lakehouse-prod'), 37_000),
    ];
    expect(retries.every((r) => r.errorClass === 'network_timeout')).toBe(true);
    const rc = rankRootCause(retries)!;
    expect(rc.entity).toBe('host:hooli-lakehouse-prod.s3.eu-west-1.amazonaws.com');
    expect(isStrongCause(rc)).toBe(true);
  });

  it('does not page on the retry of one DAG, nor on retries of two DAGs failing different ways', () => {
    expect(isStrongCause(rankRootCause([failedTry('refunds_daily', timeout('hooli-lake'), 0)]))).toBe(false);
    const two = [
      failedTry('refunds_daily', timeout('hooli-lake'), 0),
      failedTry(
        'leads_daily',
        'requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://api.partner.example/v2/leads',
        30_000,
      ),
    ];
    expect(new Set(two.map((r) => r.errorClass)).size).toBe(2);
    expect(isStrongCause(rankRootCause(two))).toBe(false);
  });

  it('ranks a series by when its departure began, not when two points confirmed it', () => {
    const rows =
      'metric:ingest.rows{faas.name="ingest-ledger-erp",service.name="lambda-ingestion",source="ledger_erp"}' as EntityKey;
    const missing = failedTry(
      'ledger_daily',
      'pyspark.errors.exceptions.connect.AnalysisException: [PATH_NOT_FOUND] Path does not exist: s3://acme-landing/ledger_erp/dt=2026-07-14. SQLSTATE: 42K03',
      15_000,
    );
    // seen a minute after it began, 45 s after the failure it explains
    const seen = (departed?: number) =>
      sig(
        {
          kind: 'metric.anomaly',
          entity: rows,
          evidence:
            departed === undefined
              ? []
              : [{ kind: 'text', label: 'departed at', text: new Date(T0 + departed).toISOString() }],
        },
        60_000,
      );
    expect(rankRootCause([missing, seen()])!.entity).toBe(task('ledger_daily'));
    const rc = rankRootCause([missing, seen(0)])!;
    expect(rc.entity).toBe(rows);
    expect(rc.chain?.[0]?.at).toBe(T0);
  });

  it('between series of one resource that departed together, roots at the one that rose, not the one that fell', () => {
    const fn = 'ingest-products-erp';
    const series = (name: string, way: string) =>
      sig(
        {
          kind: 'metric.anomaly',
          entity:
            `metric:${name}{faas.name="${fn}",service.name="lambda-ingestion",source="products_erp"}` as EntityKey,
          evidence: [
            { kind: 'text', label: 'departed at', text: new Date(T0).toISOString() },
            { kind: 'text', label: 'departure', text: way },
          ],
        },
        60_000,
      );
    const missing = failedTry(
      'products_daily',
      'pyspark.errors.exceptions.connect.AnalysisException: [PATH_NOT_FOUND] Path does not exist: s3://acme-landing/products_erp/dt=2026-07-14. SQLSTATE: 42K03',
      300_000,
    );
    // `aws.lambda.invocations` sorts first by name: only the direction can put throttles ahead
    const rc = rankRootCause([
      series('aws.lambda.invocations', 'fall'),
      series('aws.lambda.throttles', 'rise'),
      missing,
    ])!;
    expect(rc.entity).toContain('metric:aws.lambda.throttles');
  });
});
