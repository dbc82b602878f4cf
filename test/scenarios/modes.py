#!/usr/bin/env python3
"""Guardian's own suite of failure modes (guardian-scenario/1), for leave-one-mode-out scoring.

  python3 test/scenarios/modes.py [--out DIR] [--variants N]    # default test/scenarios/suite, 2 variants

Each mode is one class of real incident on this platform (Airflow 3 + Celery, Spark Connect,
Iceberg on S3 with a Glue / REST / Hive catalog, Lambda ingestion), written from public reports:
the source of its wording and causal chain is cited beside it (`MODES`). A mode is generated in
several variants that differ in size, timing, DAG names, hosts, noise and quiet distractors, so
a rule tuned to one night of a mode does not pass for the mode. Deterministic: the same command
writes the same files. Python standard library only; the platform simulation is generate.py's.
"""
import argparse
import json
import os
import random
import uuid
from datetime import timedelta

from generate import (CONNECT, DOMAINS, DRIVER_STACK, PYSPARK_TB, Platform, afts, d, daily_dags, metric_key,
                      run_id, scraper, sparkts, task_key, ts)

HERE = os.path.dirname(os.path.abspath(__file__))
COMPANIES = ["acme", "globex", "initech", "hooli", "vandelay", "wonka", "tyrell", "cyberdyne", "stark", "wayne",
             "umbrella", "soylent", "massive", "oscorp", "aperture", "gringotts"]
EXTRA_DOMAINS = [("claims", "api"), ("policies", "erp"), ("subscriptions", "psp"), ("leads", "crm"),
                 ("devices", "events"), ("assets", "erp"), ("quotes", "api"), ("returns", "psp")]
REGION = "eu-west-1"


def z(t):
    return ts(t).replace(".000Z", "Z")


# Shared by the modes of novel-modes.py and held-out-modes.py.
AIRFLOW_TB = (
    "Task failed with exception\nTraceback (most recent call last):\n"
    '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/task_runner.py", line 920, in run\n'
    "    result = _execute_task(context=context, ti=ti, log=log)\n"
)


def stream_key(labels):
    return "log:{" + ",".join(f'{k}="{labels[k]}"' for k in sorted(labels)) + "}"


class Night:
    """One variant of a mode: a platform of random size, DAG names, hosts and timing, and its truth."""

    def __init__(self, mode, k, lambdas=None):
        seed = sum(ord(c) * (i + 1) for i, c in enumerate(mode)) * 101 + k * 7919
        rng = random.Random(seed)
        self.rng = rng
        day = d("2026-07-01T00:00:00") + timedelta(days=rng.randint(0, 120))
        self.logical = day + timedelta(hours=2)
        start = day + timedelta(hours=1, minutes=rng.randint(48, 56))
        end = start + timedelta(minutes=rng.randint(95, 115))
        nets = rng.sample(range(2, 9), 3)
        spark_hosts = sorted({f"10.0.{rng.choice(nets)}.{rng.randint(10, 250)}" for _ in range(rng.randint(4, 6))})
        workers = [f"airflow-worker-{i}" for i in range(1, rng.randint(3, 5) + 1)]
        company = rng.choice(COMPANIES)
        self.domains = rng.sample(DOMAINS + EXTRA_DOMAINS, rng.randint(10, 14))
        srcs = [f"{dom}_{src}" for dom, src in self.domains]
        lam = lambdas if lambdas is not None else [(f"ingest-{s.replace('_', '-')}", s, rng.choice([1, 5]))
                                                  for s in rng.sample(srcs, 2)]
        self.p = Platform(f"{mode}--{k + 1}", "", start, end, seed, company, spark_hosts, workers, lam)
        self.rid = run_id(self.logical)
        self.overrides = {}
        self.quiet = []
        self.incidents = []
        self.extra = []  # (resource, name, type, unit, attributes, values per minute)
        self.post = []  # functions run on the built scenario
        self.summary = []

    def at(self, hh_mm_ss):
        return self.logical.replace(hour=0, minute=0, second=0) + timedelta(
            hours=int(hh_mm_ss[:2]), minutes=int(hh_mm_ss[3:5]), seconds=float(hh_mm_ss[6:] or 0))

    def dag_ids(self):
        return [f"{dom}_daily" for dom, _ in self.domains]

    def minutes(self):
        return int((self.p.end - self.p.start).total_seconds() // 60) + 1

    def minute_of(self, t):
        return int((t - self.p.start).total_seconds() // 60)

    def series(self, resource, name, kind, unit, attrs, fn):
        """A metric every minute: `fn(t)` its value at minute start `t` (None: not reported)."""
        vals = [fn(self.p.start + timedelta(minutes=i)) for i in range(self.minutes())]
        self.extra.append((resource, name, kind, unit, attrs, vals))
        return metric_key(name, {**resource, **attrs})

    # ---------- quiet distractors (each variant gets some) ----------
    def distractors(self, avoid):
        """Harmless oddities far (> 25 min) from `avoid` (times of the incidents): a retry that
        succeeds, a 429 once, a CPU blip."""
        p, rng = self.p, self.rng

        def far(t):
            return all(abs((t - a).total_seconds()) > 25 * 60 for a in avoid)

        # ops refresh: a read timeout once, then success
        slots = [self.at("02:00") + timedelta(minutes=15 * i) for i in range(-1, 6)]
        slots = [s for s in slots if far(s) and p.start < s < p.end - timedelta(minutes=15)]
        special = {}
        if slots:
            qrid = run_id(rng.choice(slots))
            h = rng.choice(list(p.workers))
            eid = p.exec_by_host[h][rng.randint(0, 3)]["id"]

            def flaky(r, q, host):
                why = rng.choice(["software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP request: Read timed out",
                                  "java.net.SocketTimeoutException: connect timed out"])
                reason = lambda sid: p.lost_task(sid, h, eid, why) + DRIVER_STACK
                e = p.sql_task("ops_maintenance", r, "refresh_ops_metrics", "ops.platform_metrics", q, rng.uniform(50, 90),
                               host, 1, 2, "ops/ops_maintenance.py", fail=reason)
                job = p.jobs[-1]
                self.quiet.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
                return p.sql_task("ops_maintenance", r, "refresh_ops_metrics", "ops.platform_metrics", e + timedelta(minutes=1),
                                  rng.uniform(50, 90), p.pick_worker(e), 2, 2, "ops/ops_maintenance.py")
            special[qrid] = flaky
            self.quiet.append(task_key("ops_maintenance", qrid, "refresh_ops_metrics"))
        p.ops_worker(special=special)
        # a scraper hit by a 429 once
        dag = rng.choice(["scrape_tender_notices", "scrape_fx_rates", "scrape_supplier_catalogue", "scrape_job_ads"])
        every = rng.choice([20, 30])
        slots = [self.at("02:00") + timedelta(minutes=every * i) for i in range(-1, 5)]
        slots = [s for s in slots if far(s) and p.start < s < p.end - timedelta(minutes=10)]
        sp = {}
        if slots:
            srid = run_id(rng.choice(slots))
            host_api = rng.choice(["tenders.example.eu", "fx.example.org", "suppliers.example.com", "jobs.example.net"])

            def once(r, q, host):
                e = p.py_task(dag, r, "fetch_pages", q, rng.uniform(8, 20), host, 1, 2,
                              "Task failed with exception\nTraceback (most recent call last):\n"
                              f'  File "/opt/airflow/dags/scrapers/{dag}.py", line 52, in fetch_pages\n'
                              "    resp.raise_for_status()\n"
                              f"requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://{host_api}/api/v2/items?page={rng.randint(2, 9)}",
                              f"scrapers/{dag}.py")
                return p.py_task(dag, r, "fetch_pages", e + timedelta(minutes=2), rng.uniform(30, 60), p.pick_worker(e), 2, 2,
                                 None, f"scrapers/{dag}.py")
            sp[srid] = once
            self.quiet.append(task_key(dag, srid, "fetch_pages"))
        scraper(p, dag, "fetch_pages", every, sp)
        # a CPU blip on a Celery worker
        w = rng.choice(p.airflow_workers)
        if w not in p.worker_dead_at:
            t = self.at("02:00") + timedelta(minutes=rng.randint(-5, 70))
            if far(t) and p.start + timedelta(minutes=5) < t < p.end - timedelta(minutes=5):
                p.cpu_blip[w] = t.replace(second=0)
                self.quiet.append(metric_key("system.cpu.utilization", {"service.name": "airflow-worker", "host.name": w}))

    # ---------- building ----------
    def downstream(self, ents, dags):
        """Tasks that did not run and runs that failed in the nightly runs of `dags`."""
        for r in self.p.tis:
            if r["dag_id"] in dags and r["dag_run_id"] == self.rid and r["state"] == "upstream_failed":
                ents.append(task_key(r["dag_id"], self.rid, r["task_id"]))
        for r in self.p.runs:
            if r["dag_id"] in dags and r["dag_run_id"] == self.rid and r["state"] == "failed":
                ents.append(f"airflow:dagrun:{r['dag_id']}/{self.rid}")

    def build(self):
        p = self.p
        p.summary = " ".join(self.summary)
        truth = {"incidents": self.incidents, "quiet": sorted(set(self.quiet))}
        sc = p.build(truth)
        for resource, name, kind, unit, attrs, vals in self.extra:
            m = {"resource": resource, "name": name, "type": kind, "unit": unit, "attributes": attrs,
                 "start": z(p.start), "interval_s": 60, "values": vals}
            if kind == "sum":
                m.update({"monotonic": True, "temporality": "delta"})
            sc["metrics"].append(m)
        for fn in self.post:
            fn(sc)
        for inc in sc["truth"]["incidents"]:
            inc["entities"] = list(dict.fromkeys(inc["entities"]))
        return sc


# =====================================================================================
# Generic mechanics
# =====================================================================================
def failing_task(v, dag_id, task_id, table, window, why, ents, tasks, fails=1, max_tries=2, job=True,
                 spark_host=None, executor=None, on_fail=None):
    """A daily-pipeline override: the task's tries that reach the failure point inside `window`
    fail with `why(n, host, executor_id)` (from an executor when `job`, else from the driver or
    client, in the task log only), the others succeed. Records what it touched in `ents`."""
    p = v.p
    w0, w1 = window

    def run(path, t, host):
        n = 0
        while True:
            n += 1
            h_air = host if n == 1 else p.pick_worker(t)
            dur = p.rng.uniform(70, 300)
            hit = max(t + timedelta(seconds=25), w0 + timedelta(seconds=p.rng.uniform(5, 90)))
            if n > fails or not (w0 <= hit < w1):
                return p.sql_task(dag_id, v.rid, task_id, table, t, dur if n > 1 or hit >= w1 else dur, h_air, n,
                                  max_tries, path), True
            dur = (hit - t).total_seconds()
            key = task_key(dag_id, v.rid, task_id)
            if key not in tasks:
                tasks.append(key)
            ents.append(key)
            if job:
                sh = spark_host or p.rng.choice(list(p.workers))
                eid = executor or p.rng.choice(p.exec_by_host[sh])["id"]
                reason = lambda sid, sh=sh, eid=eid, n=n: p.lost_task(sid, sh, eid, why(n, sh, eid)) + DRIVER_STACK
                end = p.sql_task(dag_id, v.rid, task_id, table, t, dur, h_air, n, max_tries, path, fail=reason)
                job_ = p.jobs[-1]
                ents.extend([f"spark:job:{p.app_id}/{job_['jobId']}", f"spark:stage:{p.app_id}/{job_['stageIds'][-1]}"])
                lost = p.stages[-1]["failureReason"].split("most recent failure: ")[1].split("\n")[0]
                p.driver_log(end - timedelta(milliseconds=80), f"{sparkts(end)} WARN TaskSetManager: {lost}", "warn")
            else:
                text = PYSPARK_TB + why(n, None, None)
                end = p.sql_task(dag_id, v.rid, task_id, table, t, dur, h_air, n, max_tries, path, fail=lambda sid: "",
                                 job=False, final_log=text)
            if on_fail:
                on_fail(n, end)
            if n > max_tries:
                return end, False
            t = end + timedelta(minutes=5, seconds=p.rng.uniform(0, 4))
    return run


def victims_of_window(v, count, stage_choices=("silver", "gold")):
    """`count` daily DAGs and the task of each that meets the outage."""
    chosen = v.rng.sample(v.domains, count)
    out = []
    for dom, src in chosen:
        stage = v.rng.choice(stage_choices)
        if stage == "silver":
            out.append((f"{dom}_daily", f"silver_{dom}", f"silver.{dom}"))
        elif stage == "gold":
            out.append((f"{dom}_daily", f"gold_{dom}_daily", f"gold.{dom}_daily"))
        else:
            out.append((f"{dom}_daily", f"bronze_{dom}_{src}", f"bronze.{dom}_{src}"))
    return out


def counter(v, base_p, w0, w1, lo, hi, before=None):
    """A count that is ~0 (1 with probability base_p), lo..hi inside [w0, w1), optionally
    ramping from `before` on."""
    def fn(t):
        if w0 <= t < w1:
            return v.rng.randint(lo, hi)
        if before and before <= t < w0:
            return v.rng.randint(lo // 10, lo // 3)
        return 1 if v.rng.random() < base_p else 0
    return fn


def shared_outage(v, count, window, why, resource_key, root_extra=(), job=True, kind="outage", max_tries_choices=(0, 1, 2),
                  stages=("silver", "gold"), start=None):
    """A shared resource fails jobs of `count` DAGs during `window`; `resource_key` (and `root_extra`)
    is the cause."""
    ents, tasks = [resource_key, *root_extra], []
    dags = []
    for dag_id, task_id, table in victims_of_window(v, count, stages):
        mt = v.rng.choice(max_tries_choices)
        fails = v.rng.choice([1, 2]) if mt > 0 else 1
        v.overrides.setdefault(dag_id, {})[task_id] = failing_task(v, dag_id, task_id, table, window, why, ents, tasks,
                                                                   fails=fails, max_tries=mt, job=job)
        dags.append(dag_id)
    inc = {"id": f"{kind}-1", "start": z(start or window[0]), "severity": "high",
           "root_cause_any_of": [resource_key, *root_extra], "entities": ents}
    v.incidents.append(inc)
    return inc, dags, tasks


def finish_outage(v, inc, dags, tasks):
    daily_dags(v.p, v.domains, v.logical, v.overrides)
    v.downstream(inc["entities"], set(dags))
    if not tasks:  # the window missed every victim: not an incident of this night
        v.incidents.remove(inc)


def rid_hex(rng, n=16):
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(n))


# =====================================================================================
# Modes. Each cites where its wording and causal chain come from.
# =====================================================================================
def m_s3_slowdown(k):
    """S3 answers 503 SlowDown on the lake bucket: Iceberg writes of several DAGs fail.
    Source: apache/iceberg#6125 ("S3Exception: Please reduce your request rate. (Service: S3, Status
    Code: 503 ...)" from Spark executors writing an Iceberg table), apache/hudi#1872 ("AmazonS3Exception:
    Slow Down (Service: Amazon S3; Status Code: 503; Error Code: 503 Slow Down"), AWS S3 docs
    "Best practices design patterns: optimizing Amazon S3 performance" (3,500 PUT/s per prefix)."""
    v = Night("s3-slowdown", k)
    p, rng = v.p, v.rng
    w0 = v.at("02:0%d" % rng.randint(4, 9)) + timedelta(seconds=rng.randint(0, 59))
    w1 = w0 + timedelta(minutes=rng.randint(14, 24))
    for i in range(v.minute_of(w0), v.minute_of(w1) + 1):
        p.s3_5xx[i] = rng.randint(300, 2600)
    bucket = metric_key("aws.s3.5xx_errors", {"service.name": "aws-s3", "cloud.region": REGION, "bucket": p.lake,
                                              "filter_id": "EntireBucket"})
    sdk2 = rng.random() < 0.5

    def why(n, h, eid):
        rq = rid_hex(rng)
        key = f"warehouse/{rng.choice(['silver', 'gold'])}.db/{rng.choice(['orders', 'events', 'facts'])}/data/{uuid.UUID(int=rng.getrandbits(128))}.parquet"
        if sdk2:
            return (f"org.apache.iceberg.exceptions.RuntimeIOException: Failed to write s3://{p.lake}/{key}\n"
                    f"Caused by: software.amazon.awssdk.services.s3.model.S3Exception: Please reduce your request rate. "
                    f"(Service: S3, Status Code: 503, Request ID: {rq})")
        return (f"com.amazonaws.services.s3.model.AmazonS3Exception: Slow Down (Service: Amazon S3; Status Code: 503; "
                f"Error Code: SlowDown; Request ID: {rq}) writing s3://{p.lake}/{key}")
    t = w0
    while t < w1:
        p.driver_log(t, f"{sparkts(t)} WARN S3FileIO: Retrying PUT s3://{p.lake}/warehouse/ after 503 SlowDown (attempt {rng.randint(2, 6)} of 10)", "warn")
        t += timedelta(seconds=rng.uniform(20, 70))
    inc, dags, tasks = shared_outage(v, rng.randint(3, 6), (w0 + timedelta(minutes=1), w1), why, bucket, kind="s3")
    v.distractors([w0, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"S3 503 SlowDown on s3://{p.lake} from {z(w0)} to {z(w1)}; Iceberg writes of {len(tasks)} tasks fail.")
    return v.build()


def m_glue_throttling(k):
    """The Glue Data Catalog throttles GetTable/UpdateTable: Iceberg table loads and commits fail
    on the driver (no Spark job runs). Source: spiceai/spiceai#4997 (Iceberg catalog rate-limited by
    AWS Glue), feldera/feldera#6498 (code "ThrottlingException", message "Rate exceeded" loading an
    Iceberg table from Glue), apache/iceberg-python#1294 (throttling when several nodes read and write
    Iceberg tables with a Glue catalog), AWS docs "AWS Glue endpoints and quotas"."""
    v = Night("glue-throttling", k)
    p, rng = v.p, v.rng
    w0 = v.at("02:0%d" % rng.randint(3, 9))
    w1 = w0 + timedelta(minutes=rng.randint(12, 22))
    api = rng.choice(["GetTable", "UpdateTable"])
    res = {"service.name": "aws-usage", "cloud.region": REGION}
    root = v.series(res, "aws.usage.throttle_count", "sum", "{call}", {"service": "Glue", "type": "API", "resource": api},
                    counter(v, 0.02, w0, w1, 150, 900))

    def why(n, h, eid):
        return (f"pyspark.errors.exceptions.connect.SparkConnectGrpcException: (software.amazon.awssdk.services.glue.model.GlueException) "
                f"Rate exceeded (Service: Glue, Status Code: 400, Request ID: {uuid.UUID(int=rng.getrandbits(128))}) "
                f"ThrottlingException calling {api} for glue_catalog.{rng.choice(['silver', 'gold'])}.{rng.choice(['orders', 'facts'])}")
    inc, dags, tasks = shared_outage(v, rng.randint(3, 6), (w0 + timedelta(seconds=40), w1), why, root, job=False, kind="glue")
    t = w0
    while t < w1:
        p.driver_log(t, f"{sparkts(t)} WARN GlueCatalog: Retrying {api} after ThrottlingException: Rate exceeded (attempt {rng.randint(2, 5)})", "warn")
        t += timedelta(seconds=rng.uniform(15, 60))
    v.distractors([w0, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Glue {api} throttled from {z(w0)} to {z(w1)}; {len(tasks)} tasks fail at table load/commit.")
    return v.build()


def m_rest_catalog_unavailable(k):
    """The Iceberg REST catalog service answers 503 (its database pool exhausted): loadTable and
    commits fail with ServiceUnavailableException. Source: apache/iceberg#5694 (REST client throws
    ServiceUnavailableException for 503), apache/iceberg#15050 (REST catalog 503s through a proxy
    during commits), HikariCP's "Connection is not available, request timed out after 30000ms"."""
    v = Night("rest-catalog-unavailable", k)
    p, rng = v.p, v.rng
    w0 = v.at("02:0%d" % rng.randint(2, 9))
    w1 = w0 + timedelta(minutes=rng.randint(10, 20))
    svc = rng.choice(["iceberg-rest", "lakekeeper", "polaris-catalog"])
    host = f"{svc}-{rng.randint(1, 3)}"
    res = {"service.name": svc, "host.name": host}
    root = v.series(res, "http.server.request.errors", "sum", "{request}", {"http.response.status_code": "503"},
                    counter(v, 0.02, w0, w1, 120, 700))
    stream = f'log:{{host="{host}",level="error",service_name="{svc}"}}'
    t = w0 - timedelta(seconds=20)
    while t < w1:
        p.log({"service_name": svc, "host": host, "level": "error"}, t,
              f"{t.strftime('%Y-%m-%d %H:%M:%S,%f')[:-3]} ERROR [qtp-{rng.randint(100, 999)}] c.z.h.p.HikariPool: HikariPool-1 - "
              "Connection is not available, request timed out after 30000ms.")
        t += timedelta(seconds=rng.uniform(5, 25))

    def why(n, h, eid):
        return (f"pyspark.errors.exceptions.connect.SparkConnectGrpcException: (org.apache.iceberg.exceptions.ServiceUnavailableException) "
                f"Service unavailable: 503 Service Unavailable from http://{host}:8181/v1/namespaces/{rng.choice(['silver', 'gold'])}/tables")
    inc, dags, tasks = shared_outage(v, rng.randint(3, 6), (w0 + timedelta(seconds=45), w1), why, root, (stream, f"host:{host}"),
                                     job=False, kind="catalog")
    v.distractors([w0, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"REST catalog {svc} on {host} answers 503 from {z(w0)} to {z(w1)}.")
    return v.build()


def m_hive_metastore_down(k):
    """The Hive metastore's connection slots fill up and then it refuses connections: every Spark
    SQL statement that resolves a table fails. Source: cloudera/clusterdock#41 and
    TOSIT-IO/tdp-collection#402 ("MetaException(message:Could not connect to meta store using any of
    the URIs provided. Most recent failure: org.apache.thrift.transport.TTransportException:
    java.net.ConnectException: Connection refused")."""
    v = Night("hive-metastore-down", k)
    p, rng = v.p, v.rng
    w0 = v.at("02:0%d" % rng.randint(3, 9))
    w1 = w0 + timedelta(minutes=rng.randint(12, 20))
    host = f"hive-metastore-{rng.randint(1, 2)}"
    res = {"service.name": "hive-metastore", "host.name": host}
    ramp = w0 - timedelta(minutes=rng.randint(3, 6))
    limit = rng.choice([500, 1000, 2000])
    root = v.series(res, "hive_metastore.open_connections", "gauge", "{connection}", {},
                    lambda t: limit if ramp <= t < w1 else rng.randint(20, 60))
    stream = f'log:{{host="{host}",level="error",service_name="hive-metastore"}}'
    t = ramp
    while t < w1:
        p.log({"service_name": "hive-metastore", "host": host, "level": "error"}, t,
              f"{t.strftime('%Y-%m-%dT%H:%M:%S,%f')[:-3]} ERROR [pool-6-thread-{rng.randint(1, 200)}] server.TThreadPoolServer: "
              f"Error occurred during processing of message. java.lang.RuntimeException: maximum number of worker threads ({limit}) reached")
        t += timedelta(seconds=rng.uniform(10, 40))

    def why(n, h, eid):
        return ("pyspark.errors.exceptions.connect.AnalysisException: org.apache.hadoop.hive.ql.metadata.HiveException: "
                "java.lang.RuntimeException: Unable to instantiate org.apache.hadoop.hive.ql.metadata.SessionHiveMetaStoreClient\n"
                "Caused by: MetaException(message:Could not connect to meta store using any of the URIs provided. Most recent "
                f"failure: org.apache.thrift.transport.TTransportException: java.net.ConnectException: Connection refused ({host}:9083))")
    inc, dags, tasks = shared_outage(v, rng.randint(3, 6), (w0, w1), why, root, (stream, f"host:{host}"), job=False,
                                     kind="metastore", start=ramp)
    v.distractors([ramp, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Hive metastore {host} saturated from {z(ramp)}, refusing from {z(w0)} to {z(w1)}.")
    return v.build()


def m_s3_access_denied(k):
    """A bucket policy change denies the Spark role's writes: every write to the lake fails with 403
    AccessDenied, deterministically. Source: AWS re:Post / S3 docs "Troubleshoot Access Denied (403
    Forbidden) errors in Amazon S3"; the SDK's "S3Exception: Access Denied (Service: S3, Status Code:
    403, Request ID: ...)"."""
    v = Night("s3-access-denied", k)
    p, rng = v.p, v.rng
    w0 = v.at("02:0%d" % rng.randint(2, 8))
    w1 = w0 + timedelta(minutes=rng.randint(25, 40))
    res = {"service.name": "aws-s3", "cloud.region": REGION}
    root = v.series(res, "aws.s3.4xx_errors", "sum", "{error}", {"bucket": p.lake, "filter_id": "EntireBucket"},
                    counter(v, 0.05, w0, w1, 80, 400))

    def why(n, h, eid):
        return (f"java.nio.file.AccessDeniedException: s3://{p.lake}/warehouse/silver.db/: "
                f"software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, Status Code: 403, Request ID: {rid_hex(rng)})")
    inc, dags, tasks = shared_outage(v, rng.randint(3, 5), (w0 + timedelta(seconds=30), w1), why, root, kind="s3deny")
    v.distractors([w0, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Writes to s3://{p.lake} denied (403) from {z(w0)} to {z(w1)}.")
    return v.build()


def m_spark_worker_disk_full(k):
    """A Spark worker's local disk (spark.local.dir) fills with shuffle files: tasks on its executors
    fail with "java.io.IOException: No space left on device" and the jobs of several DAGs fail.
    Source: sparklyr/sparklyr#1390 (Lost task ... (TID ..., 172.16.1.11, executor 0):
    java.io.IOException: No space left on device), koordinator-sh/koordinator#1004 (IndexShuffleBlockResolver
    writing shuffle metadata)."""
    v = Night("spark-worker-disk-full", k)
    p, rng = v.p, v.rng
    host = rng.choice(list(p.workers))
    w0 = v.at("02:0%d" % rng.randint(3, 9))
    w1 = v.p.end
    fill0 = w0 - timedelta(minutes=rng.randint(8, 15))
    res = {"service.name": "spark-worker", "host.name": host}

    def disk(t):
        if t >= w0:
            return 1.0
        if t >= fill0:
            return round(0.55 + 0.45 * (t - fill0).total_seconds() / (w0 - fill0).total_seconds(), 4)
        return round(0.52 + rng.uniform(-0.02, 0.02), 4)
    root = v.series(res, "system.filesystem.utilization", "gauge", "1", {"device": "nvme1n1", "mountpoint": "/mnt/spark"}, disk)
    for h in p.workers:
        if h != host:
            v.series({"service.name": "spark-worker", "host.name": h}, "system.filesystem.utilization", "gauge", "1",
                     {"device": "nvme1n1", "mountpoint": "/mnt/spark"}, lambda t: round(0.4 + rng.uniform(-0.05, 0.1), 4))
    t = w0
    while t < w0 + timedelta(minutes=20):
        p.log({"service_name": "spark-worker", "host": host, "level": "error"}, t,
              f"{sparkts(t)} ERROR DiskBlockObjectWriter: Uncaught exception while reverting partial writes to file "
              f"/mnt/spark/blockmgr-{uuid.UUID(int=rng.getrandbits(128))}/{rng.randint(10, 63):02x}/shuffle_{rng.randint(1, 90)}_{rng.randint(1, 900)}_0.data\n"
              "java.io.IOException: No space left on device")
        t += timedelta(seconds=rng.uniform(20, 90))

    def why(n, h, eid):
        return ("java.io.IOException: No space left on device\n\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)\n"
                "\tat org.apache.spark.shuffle.IndexShuffleBlockResolver.writeMetadataFileAndCommit(IndexShuffleBlockResolver.scala:448)")
    ents, tasks, dags = [f"host:{host}", f"spark:worker:{p.workers[host]['id']}", root], [], []
    for dag_id, task_id, table in victims_of_window(v, rng.randint(3, 5)):
        mt = rng.choice([0, 1, 2])
        ex = rng.choice(p.exec_by_host[host])["id"]
        v.overrides.setdefault(dag_id, {})[task_id] = failing_task(v, dag_id, task_id, table, (w0, w1), why, ents, tasks,
                                                                   fails=1, max_tries=mt, spark_host=host, executor=ex)
        dags.append(dag_id)
    inc = {"id": "disk-1", "start": z(w0), "severity": "high",
           "root_cause_any_of": [f"host:{host}", f"spark:worker:{p.workers[host]['id']}", root], "entities": ents}
    v.incidents.append(inc)
    v.distractors([fill0, w0 + timedelta(minutes=20)])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Spark worker {host}'s /mnt/spark fills from {z(fill0)}, full at {z(w0)}.")
    return v.build()


def m_celery_worker_disk_full(k):
    """A Celery worker's disk fills (task logs, temp files): every task it picks up fails at once with
    OSError Errno 28; retries on other workers succeed, tasks without retries fail. Source:
    xang1234/stock-screener#344 (Celery "Unrecoverable error: OSError(28, 'No space left on device')"),
    fecgov/openFEC#2459 (Celery choking on "no space left on device"), WikiWatershed/model-my-watershed#3585
    (worker instance running out of space from logs)."""
    v = Night("celery-worker-disk-full", k)
    p, rng = v.p, v.rng
    host = rng.choice(p.airflow_workers)
    w0 = v.at("02:0%d" % rng.randint(1, 8))
    fill0 = w0 - timedelta(minutes=rng.randint(10, 20))
    res = {"service.name": "airflow-worker", "host.name": host}

    def disk(t):
        if t >= w0:
            return 1.0
        if t >= fill0:
            return round(0.6 + 0.4 * (t - fill0).total_seconds() / (w0 - fill0).total_seconds(), 4)
        return round(0.58 + rng.uniform(-0.02, 0.02), 4)
    root = v.series(res, "system.filesystem.utilization", "gauge", "1", {"device": "xvda1", "mountpoint": "/"}, disk)
    for h in p.airflow_workers:
        if h != host:
            v.series({"service.name": "airflow-worker", "host.name": h}, "system.filesystem.utilization", "gauge", "1",
                     {"device": "xvda1", "mountpoint": "/"}, lambda t: round(0.45 + rng.uniform(-0.05, 0.05), 4))
    ents, tasks, dags = [f"host:{host}", root], [], []
    victims = victims_of_window(v, rng.randint(3, 5), ("bronze", "silver", "gold"))

    def victim(dag_id, task_id, table, mt):
        def run(path, t, _host):
            t = max(t, w0 + timedelta(seconds=rng.uniform(5, 400)))
            key = task_key(dag_id, v.rid, task_id)
            tasks.append(key)
            ents.append(key)
            err = ("Task failed with exception\nTraceback (most recent call last):\n"
                   '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/supervisor.py", line 412, in _open_log\n'
                   f"OSError: [Errno 28] No space left on device: '/opt/airflow/logs/dag_id={dag_id}/run_id={v.rid}/task_id={task_id}/attempt=1.log'")
            end = p.py_task(dag_id, v.rid, task_id, t, rng.uniform(0.8, 2.5), host, 1, mt, err, path)
            p.tis[-1]["operator"] = "SparkConnectSqlOperator"
            p.aw_log(host, end, f"{end.strftime('%Y-%m-%d %H:%M:%S.%f')} [error    ] OSError(28, 'No space left on device') writing task log [supervisor]", "error")
            if mt == 0:
                return end, False
            t2 = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))
            other = rng.choice([w for w in p.airflow_workers if w != host])
            return p.sql_task(dag_id, v.rid, task_id, table, t2, rng.uniform(90, 250), other, 2, mt, path), True
        return run
    for dag_id, task_id, table in victims:
        mt = rng.choice([0, 1, 2])
        v.overrides.setdefault(dag_id, {})[task_id] = victim(dag_id, task_id, table, mt)
        dags.append(dag_id)
    orig = p.pick_worker
    p.pick_worker = lambda t: (lambda w: rng.choice([x for x in p.airflow_workers if x != host]) if w == host and t >= fill0 else w)(orig(t))
    inc = {"id": "wdisk-1", "start": z(w0), "severity": "high", "root_cause_any_of": [f"host:{host}", root], "entities": ents}
    v.incidents.append(inc)
    v.distractors([fill0, w0 + timedelta(minutes=10)])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Celery worker {host}'s disk fills from {z(fill0)}, full at {z(w0)}; {len(tasks)} tasks fail on it.")
    return v.build()


def m_celery_worker_lost(k):
    """A Celery worker host disappears: its running tasks stop heartbeating and the scheduler fails
    them after task_instance_heartbeat_timeout. Source: Airflow docs "Tasks > Task instance heartbeat
    timeout" ("Detected a task instance without a heartbeat"), apache/airflow#13542 (zombie detection
    logs when workers stop)."""
    v = Night("celery-worker-lost", k)
    p, rng = v.p, v.rng
    host = rng.choice(p.airflow_workers)
    dead = v.at("02:%02d:%02d" % (rng.randint(6, 14), rng.randint(0, 59)))
    p.worker_dead_at[host] = dead
    timeout = rng.choice([300, 600])
    ents, tasks, dags = [f"host:{host}"], [], []
    for name in ("system.cpu.utilization", "system.memory.utilization"):
        attrs = {"service.name": "airflow-worker", "host.name": host}
        if name == "system.memory.utilization":
            attrs["state"] = "used"
        ents.append(metric_key(name, attrs))
    victims = victims_of_window(v, rng.randint(3, 5), ("silver", "gold"))

    def victim(dag_id, task_id, table, mt, idx):
        def run(path, t, _host):
            t = min(max(t, dead - timedelta(minutes=8)), dead - timedelta(seconds=30 + 20 * idx))
            key = task_key(dag_id, v.rid, task_id)
            tasks.append(key)
            ents.append(key)
            st = t + timedelta(seconds=1.3)
            det = dead + timedelta(seconds=timeout + rng.uniform(5, 40) + idx * 3)
            log = p.spark_task_logs(dag_id, task_id, v.rid, st, [(f"MERGE INTO lakehouse.{table} t USING lakehouse.{table}_updates s ON t.id = s.id", None)], path)
            p.spark_job(dag_id, task_id, v.rid, st + timedelta(seconds=2.6), dead + timedelta(seconds=rng.uniform(30, 200)))
            log.append(f"[{afts(det)}] {{scheduler_job_runner.py:2234}} ERROR - Detected a task instance without a heartbeat: "
                       f"{{'DAG Id': '{dag_id}', 'Task Id': '{task_id}', 'Run Id': '{v.rid}', 'Hostname': '{host}'}}")
            log.append(f"[{afts(det + timedelta(milliseconds=220))}] {{taskinstance.py:1469}} ERROR - Task instance heartbeat timed out: "
                       f"the task stopped heartbeating at {afts(dead)} (task_instance_heartbeat_timeout={timeout}s)")
            p.sched_log(det, f"[{afts(det)}] {{scheduler_job_runner.py:2234}} ERROR - Detected a task instance without a heartbeat: {{'DAG Id': '{dag_id}', 'Task Id': '{task_id}', 'Run Id': '{v.rid}', 'Hostname': '{host}'}}", "error")
            p.ti(dag_id, v.rid, task_id, 1, mt, t, st, det, "up_for_retry" if mt > 0 else "failed", host,
                 "SparkConnectSqlOperator", log=log)
            if mt == 0:
                return det + timedelta(seconds=0.5), False
            t2 = det + timedelta(minutes=5, seconds=rng.uniform(1, 3))
            return p.sql_task(dag_id, v.rid, task_id, table, t2, rng.uniform(120, 260), p.pick_worker(t2), 2, mt, path), True
        return run
    for i, (dag_id, task_id, table) in enumerate(victims):
        mt = rng.choice([0, 1, 2])
        v.overrides.setdefault(dag_id, {})[task_id] = victim(dag_id, task_id, table, mt, i)
        dags.append(dag_id)
    orig = p.pick_worker
    p.pick_worker = lambda t: (lambda w: rng.choice([x for x in p.airflow_workers if x != host]) if w == host and dead - timedelta(minutes=15) <= t else w)(orig(t))
    inc = {"id": "worker-1", "start": z(dead), "severity": "high", "root_cause_any_of": [f"host:{host}"], "entities": ents}
    v.incidents.append(inc)
    v.distractors([dead, dead + timedelta(seconds=timeout)])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Celery worker {host} lost at {z(dead)}; {len(tasks)} tries fail on heartbeat timeout ({timeout}s).")
    return v.build()


def spark_host_loss(v, host, gone, reason_exec, reason_task, notice=None):
    """Executors of a Spark host are lost at `gone`; the jobs running on them fail."""
    p, rng = v.p, v.rng
    w = p.workers[host]
    ents = [f"host:{host}", f"spark:worker:{w['id']}"]
    w["states"].append([z(gone + timedelta(seconds=rng.randint(30, 70))), "DEAD"])
    execs = list(p.exec_by_host[host])
    for i, e in enumerate(execs):
        p.lose_executor(host, i, gone + timedelta(seconds=2, milliseconds=15 * i), reason_exec, failed_tasks=1)
        ents.append(f"spark:executor:{p.app_id}/{e['id']}")
    tasks, dags = [], []
    victims = victims_of_window(v, rng.randint(2, 4), ("silver", "gold"))

    def victim(dag_id, task_id, table, mt, e):
        def run(path, t, h_air):
            t = min(max(t, gone - timedelta(minutes=6)), gone - timedelta(seconds=40))
            end_at = gone + timedelta(seconds=3, milliseconds=rng.randint(100, 900))
            reason = lambda sid: p.lost_task(sid, host, e["id"], reason_task(e["id"])) + DRIVER_STACK
            end = p.sql_task(dag_id, v.rid, task_id, table, t, (end_at - t).total_seconds(), h_air, 1, mt, path, fail=reason)
            job = p.jobs[-1]
            key = task_key(dag_id, v.rid, task_id)
            tasks.append(key)
            ents.extend([key, f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
            p.driver_log(end - timedelta(milliseconds=45), f"{sparkts(end)} ERROR TaskSchedulerImpl: Lost executor {e['id']} on {host}: {reason_exec}", "error")
            if mt == 0:
                return end, False
            t2 = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))
            return p.sql_task(dag_id, v.rid, task_id, table, t2, rng.uniform(150, 300), p.pick_worker(t2), 2, mt, path), True
        return run
    for i, (dag_id, task_id, table) in enumerate(victims):
        mt = rng.choice([0, 1, 2])
        v.overrides.setdefault(dag_id, {})[task_id] = victim(dag_id, task_id, table, mt, execs[i % len(execs)])
        dags.append(dag_id)
    inc = {"id": "host-1", "start": z(notice or gone), "severity": "high",
           "root_cause_any_of": [f"host:{host}", f"spark:worker:{w['id']}"], "entities": ents}
    v.incidents.append(inc)
    return inc, dags, tasks


def m_spot_interruption(k):
    """EC2 reclaims a spot Spark worker: a two-minute notice, then its executors and the jobs on them
    are lost. Source: AWS EC2 docs "Spot Instance interruption notices" (instance-action, two-minute
    warning), Spark's "ExecutorLostFailure ... Remote RPC client disassociated" (SPARK-20178 discussion)."""
    v = Night("spot-interruption", k)
    p, rng = v.p, v.rng
    host = rng.choice(list(p.workers))
    notice = v.at("02:%02d:%02d" % (rng.randint(6, 16), rng.randint(0, 59)))
    gone = notice + timedelta(minutes=2, seconds=1)
    p.log({"service_name": "spark-worker", "host": host, "level": "warn"}, notice,
          f"{sparkts(notice)} WARN ec2-metadata-watcher: Spot instance interruption warning: instance i-0{uuid.UUID(int=rng.getrandbits(128)).hex[:16]} will be "
          f"terminated at {z(notice + timedelta(minutes=2))} (instance-action: terminate)")
    reason = "Remote RPC client disassociated. Likely due to containers exceeding thresholds, or network issues. Check driver logs for WARN messages."
    inc, dags, tasks = spark_host_loss(v, host, gone, reason,
                                       lambda eid: f"ExecutorLostFailure (executor {eid} exited caused by one of the running tasks) Reason: {reason}", notice)
    v.distractors([notice, gone])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Spot worker {host} reclaimed at {z(gone)} (notice {z(notice)}).")
    return v.build()


def m_spark_host_frozen(k):
    """A Spark worker host freezes (network partition, hung kernel): the driver stops hearing its
    executors and removes them after spark.network.timeout; the master marks the worker DEAD. Source:
    Spark's HeartbeatReceiver ("Removing executor N with no recent heartbeats: 125631 ms exceeds
    timeout 120000 ms"), apache/spark SPARK-27348 discussion of heartbeat timeouts."""
    v = Night("spark-host-frozen", k)
    p, rng = v.p, v.rng
    host = rng.choice(list(p.workers))
    froze = v.at("02:%02d:%02d" % (rng.randint(5, 14), rng.randint(0, 59)))
    gone = froze + timedelta(seconds=120 + rng.randint(2, 9))
    ms = int((gone - froze).total_seconds() * 1000)
    p.driver_log(gone, f"{sparkts(gone)} WARN HeartbeatReceiver: Removing executor {p.exec_by_host[host][0]['id']} with no recent heartbeats: {ms} ms exceeds timeout 120000 ms", "warn")
    inc, dags, tasks = spark_host_loss(v, host, gone, f"Executor heartbeat timed out after {ms} ms",
                                       lambda eid: f"ExecutorLostFailure (executor {eid} exited caused by one of the running tasks) Reason: Executor heartbeat timed out after {ms} ms")

    def silence(sc):
        for m in sc["metrics"]:
            if m["resource"].get("host.name") == host:
                for i in range(len(m["values"])):
                    if p.start + timedelta(minutes=i) >= froze:
                        m["values"][i] = None
    v.post.append(silence)
    for name in ("system.cpu.utilization", "system.memory.utilization"):
        attrs = {"service.name": "spark-worker", "host.name": host}
        if name == "system.memory.utilization":
            attrs["state"] = "used"
        inc["entities"].append(metric_key(name, attrs))
    inc["start"] = z(froze)
    v.distractors([froze, gone])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Spark host {host} froze at {z(froze)}; executors removed at {z(gone)}.")
    return v.build()


def m_skewed_stage_oom(k):
    """A job's skewed stage runs its executors out of memory, try after try, on different hosts: the
    cause is the job (its skew), not the victim executors or hosts. Source: Spark tuning guide
    ("Memory Management", data skew), apache/spark SPARK-24914 / Databricks docs "Skew join
    optimization"; executor exit code 52 is SparkExitCode.OOM."""
    v = Night("skewed-stage-oom", k)
    p, rng = v.p, v.rng
    dom, _ = rng.choice(v.domains)
    dag, task, table = f"{dom}_daily", f"silver_{dom}", f"silver.{dom}"
    ents = [f"airflow:dag:{dag}", task_key(dag, v.rid, task)]
    root = [task_key(dag, v.rid, task), f"airflow:dag:{dag}"]
    hosts = rng.sample(list(p.workers), 3)
    whys = ["java.lang.OutOfMemoryError: Java heap space\n\tat org.apache.spark.unsafe.map.BytesToBytesMap.growAndRehash(BytesToBytesMap.java:918)",
            "ExecutorLostFailure (executor {eid} exited caused by one of the running tasks) Reason: Command exited with code 52",
            "java.lang.OutOfMemoryError: GC overhead limit exceeded\n\tat org.apache.spark.sql.execution.joins.SortMergeJoinScanner.bufferMatchingRows(SortMergeJoinExec.scala:1021)"]
    mt = rng.choice([1, 2])
    first = []

    def run(path, t, host):
        for n in range(1, mt + 2):
            h = hosts[n - 1]
            idx = rng.randint(0, 3)
            eid = p.exec_by_host[h][idx]["id"]
            dur = rng.uniform(200, 420)
            why = rng.choice(whys).format(eid=eid)
            reason = lambda sid, h=h, eid=eid, why=why: p.lost_task(sid, h, eid, why) + DRIVER_STACK
            end = p.sql_task(dag, v.rid, task, table, t, dur, host if n == 1 else p.pick_worker(t), n, mt, path, fail=reason)
            job = p.jobs[-1]
            first.append(end)
            ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}",
                         f"spark:executor:{p.app_id}/{eid}"])
            root.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
            p.lose_executor(h, idx, end - timedelta(milliseconds=30), "Command exited with code 52", replace_after=4)
            p.driver_log(end - timedelta(milliseconds=40), f"{sparkts(end)} ERROR TaskSchedulerImpl: Lost executor {eid} on {h}: Command exited with code 52", "error")
            t = end + timedelta(minutes=5, seconds=rng.uniform(1, 4))
        return end, False
    v.overrides[dag] = {task: run}
    inc = {"id": "oom-1", "start": None, "severity": "high", "root_cause_any_of": root, "entities": ents}
    v.incidents.append(inc)
    v.distractors([v.at("02:10"), v.at("02:40")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.downstream(ents, {dag})
    ents.append(f"airflow:dagrun:{dag}/{v.rid}") if f"airflow:dagrun:{dag}/{v.rid}" not in ents else None
    inc["start"] = z(first[0] - timedelta(seconds=60))
    v.summary.append(f"{dag}.{task} runs executors out of memory in each of its {mt + 1} tries.")
    return v.build()


def m_sql_analysis_error(k):
    """A model's SQL names a column an upstream change renamed: every run of the task fails at
    analysis, deterministically. Source: Spark's error classes UNRESOLVED_COLUMN.WITH_SUGGESTION and
    TABLE_OR_VIEW_NOT_FOUND (SQLSTATE 42703 / 42P01, Spark docs "Error Conditions")."""
    v = Night("sql-analysis-error", k)
    p, rng = v.p, v.rng
    dom, _ = rng.choice(v.domains)
    dag = f"{dom}_hourly"
    task = f"refresh_{dom}_kpis"
    p.dag(dag, "0 * * * *", ["gold", dom], "analytics-eng", f"kpis/{dag}.py")
    col = rng.choice(["net_amount", "order_total", "region_code", "customer_tier"])
    ents, root = [f"airflow:dag:{dag}"], [f"airflow:dag:{dag}"]
    err = ("pyspark.errors.exceptions.connect.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, "
           f"or function parameter with name `{col}` cannot be resolved. Did you mean one of the following? "
           f"[`{col}_eur`, `{dom}_id`, `updated_at`]. SQLSTATE: 42703; line 4 pos 11")
    first = None
    mt = rng.choice([1, 2])
    hours = [v.at("02:00") + timedelta(hours=h) for h in range(-1, 2)]
    breaks = hours[rng.randint(0, 1)] if p.start < hours[0] else hours[1]
    for lg in hours:
        if lg < p.start - timedelta(minutes=5) or lg > p.end - timedelta(minutes=3):
            continue
        r = run_id(lg)
        q = lg + timedelta(seconds=rng.uniform(0.5, 2))
        path = f"kpis/{dag}.py"
        if lg < breaks:
            e = p.sql_task(dag, r, task, f"gold.{dom}_kpis", q, rng.uniform(30, 80), p.pick_worker(q), 1, mt, path)
            p.run(dag, r, lg, q, q, e + timedelta(seconds=1), "success")
            continue
        t = q
        for n in range(1, mt + 2):
            e = p.sql_task(dag, r, task, f"gold.{dom}_kpis", t, rng.uniform(3, 6), p.pick_worker(t), n, mt, path,
                           fail=lambda sid: "", job=False, final_log=PYSPARK_TB + err)
            first = first or (e - timedelta(seconds=5))
            if e > p.end:
                break
            t = e + timedelta(minutes=2, seconds=rng.uniform(0, 3))
        key = task_key(dag, r, task)
        ents.append(key)
        root.append(key)
        p.skipped(dag, r, f"publish_{dom}_kpis", e + timedelta(seconds=1), 1, "PythonOperator")
        ents.append(task_key(dag, r, f"publish_{dom}_kpis"))
        ents.append(f"airflow:dagrun:{dag}/{r}")
        p.run(dag, r, lg, q, q, e + timedelta(seconds=2), "failed")
    v.incidents.append({"id": "sql-1", "start": z(first), "severity": "high", "root_cause_any_of": root, "entities": ents})
    v.distractors([first])
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.summary.append(f"{dag}.{task} fails from {z(first)} on: column `{col}` was renamed upstream.")
    return v.build()


def m_iceberg_commit_conflict(k):
    """Two runs of one DAG (a backfill and the scheduled run) write the same Iceberg table: the
    scheduled run loses the commit on every try and fails for good. Source: apache/iceberg#9218
    ("CommitFailedException: metadata location has changed" with concurrent Spark writers), Iceberg
    docs "Reliability > Concurrent write operations", apache/iceberg#1633 (Glue "Cannot commit ...
    because base metadata location ... is not same as the current Glue location")."""
    v = Night("iceberg-commit-conflict", k)
    p, rng = v.p, v.rng
    dom, _ = rng.choice(v.domains)
    dag, task = f"{dom}_daily", f"gold_{dom}_daily"
    ents = [f"airflow:dag:{dag}", task_key(dag, v.rid, task)]
    first = []

    def conflict(path, t, host):
        for n in (1, 2):
            dur = rng.uniform(150, 260)
            m = rng.randint(100, 900)
            err = (PYSPARK_TB + "pyspark.errors.exceptions.connect.SparkConnectGrpcException: "
                   "(org.apache.iceberg.exceptions.CommitFailedException) Cannot commit glue_catalog.gold."
                   f"{dom}_daily because base metadata location 's3://{p.lake}/warehouse/gold.db/{dom}_daily/metadata/{m:05d}-"
                   f"{uuid.UUID(int=rng.getrandbits(128))}.metadata.json' is not same as the current Glue location "
                   f"'s3://{p.lake}/warehouse/gold.db/{dom}_daily/metadata/{m + 2:05d}-{uuid.UUID(int=rng.getrandbits(128))}.metadata.json'")
            end = p.sql_task(dag, v.rid, task, f"gold.{dom}_daily", t, dur, host if n == 1 else p.pick_worker(t), n, 1, path,
                             state="up_for_retry" if n == 1 else "failed")
            row = p.tis[-1]
            row["log"] = [l for l in row["log"] if "finished in" not in l] + [f"[{afts(end - timedelta(milliseconds=40))}] {{task_runner.py:1084}} ERROR - {err}"]
            first.append(end)
            for j in range(3):
                w = end - timedelta(seconds=12 - j * 3.5)
                p.driver_log(w, f"{sparkts(w)} WARN Tasks: Retrying task after failure: Cannot commit glue_catalog.gold.{dom}_daily because base metadata location has changed", "warn")
            if n == 2:
                return end, False
            t = end + timedelta(minutes=5, seconds=rng.uniform(0, 2))
    v.overrides[dag] = {task: conflict}
    v.distractors([v.at("02:15"), v.at("02:35")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    bt = v.at("02:0%d" % rng.randint(1, 6))
    for back in range(rng.randint(2, 4), 0, -1):
        lg = v.logical - timedelta(days=back)
        brid = f"backfill__{lg.strftime('%Y-%m-%dT%H:%M:%S')}+00:00"
        e = p.sql_task(dag, brid, task, f"gold.{dom}_daily", bt, rng.uniform(500, 800), p.pick_worker(bt), 1, 1, f"pipelines/{dag}.py")
        p.run(dag, brid, lg, bt - timedelta(seconds=2), bt, e + timedelta(seconds=1), "success", run_type="backfill")
        bt = e + timedelta(seconds=4)
    v.downstream(ents, {dag})
    v.incidents.append({"id": "commit-1", "start": z(first[0] - timedelta(seconds=20)), "severity": "high",
                        "root_cause_any_of": [task_key(dag, v.rid, task), f"airflow:dag:{dag}"], "entities": ents})
    v.summary.append(f"A backfill of {dag} and its scheduled run write gold.{dom}_daily at once; the scheduled commit fails twice.")
    return v.build()


def m_scheduler_heartbeat_lost(k):
    """The Airflow scheduler stops heartbeating (hung on its database, or killed): no DAG run is
    created, the health endpoint says unhealthy, runs due meanwhile are absent. Source:
    apache/airflow#8638 ("The scheduler does not appear to be running. Last heartbeat was received X
    hour ago"), apache/airflow#7935 (scheduler stops heartbeating and stops scheduling)."""
    v = Night("scheduler-heartbeat-lost", k)
    p, rng = v.p, v.rng
    stop = v.at("02:%02d:%02d" % (rng.randint(31, 40), rng.randint(0, 59)))
    back = stop + timedelta(minutes=rng.randint(35, 50)) if k % 2 else p.end + timedelta(hours=1)
    v.distractors([stop, stop + timedelta(minutes=20)])
    hourly = []
    for dom, _ in rng.sample(v.domains, rng.randint(1, 3)):
        dag = f"{dom}_hourly"
        hourly.append(dag)
        p.dag(dag, "0 * * * *", ["gold", dom], "analytics-eng", f"kpis/{dag}.py")
        for h in (-1, 0, 1, 2):
            lg = v.at("02:00") + timedelta(hours=h)
            if lg < p.start - timedelta(minutes=10) or lg > p.end:
                continue
            r = run_id(lg)
            q = lg + timedelta(seconds=rng.uniform(0.5, 2))
            e = p.sql_task(dag, r, f"refresh_{dom}_kpis", f"gold.{dom}_kpis", q, rng.uniform(30, 80), p.pick_worker(q), 1, 1, f"kpis/{dag}.py")
            p.run(dag, r, lg, q, q, e + timedelta(seconds=1), "success")
    daily_dags(p, v.domains, v.logical, v.overrides)
    ents = ["airflow:scheduler"]
    hb = {"service.name": "airflow-scheduler", "host.name": "airflow-scheduler-1"}
    hb_key = metric_key("airflow.scheduler_heartbeat", hb)
    ents.append(hb_key)

    def stall(sc):
        shift = {}
        for r in sc["airflow"]["dag_runs"]:
            if r["run_type"] == "scheduled" and d(r["run_after"][:19]) >= stop:
                delta = back - d(r["queued_at"][:19]) + timedelta(seconds=rng.uniform(1, 30))
                shift[(r["dag_id"], r["dag_run_id"])] = delta
                for f in ("queued_at", "start_date", "end_date"):
                    if r.get(f):
                        r[f] = ts(d(r[f][:23]) + delta)
                if r.get("end_date") and d(r["end_date"][:19]) > sc_end:
                    r["end_date"], r["state"] = None, "running"
                ents.append(f"airflow:dag:{r['dag_id']}")
        keep = []
        for ti in sc["airflow"]["task_instances"]:
            delta = shift.get((ti["dag_id"], ti["dag_run_id"]))
            if delta is None:
                keep.append(ti)
                continue
            for f in ("queued_when", "start_date", "end_date"):
                if ti.get(f):
                    ti[f] = ts(d(ti[f][:23]) + delta)
            if d(ti["start_date"][:19]) <= sc_end:
                if ti.get("end_date") and d(ti["end_date"][:19]) > sc_end:
                    ti["end_date"], ti["state"] = None, "running"
                keep.append(ti)
        sc["airflow"]["task_instances"] = keep
        sc["airflow"]["dag_runs"] = [r for r in sc["airflow"]["dag_runs"]
                                     if d(r["queued_at"][:19]) <= sc_end + timedelta(hours=2)]
        for h in sc["airflow"]["health"]:
            at = d(h["at"][:19])
            if stop <= at < back:
                h["scheduler"] = "unhealthy"
                h["latest_scheduler_heartbeat"] = ts(stop)
        for m in sc["metrics"]:
            if m["name"] == "airflow.scheduler_heartbeat":
                for i in range(len(m["values"])):
                    if stop <= p.start + timedelta(minutes=i) < back:
                        m["values"][i] = 0
        for s in sc["loki"]["streams"]:
            if s["labels"].get("service_name") == "airflow-scheduler":
                s["entries"] = [e for e in s["entries"] if not (stop <= d(e[0][:19]) < back)]
        sc["truth"]["incidents"][0]["entities"] = list(dict.fromkeys(ents))
    sc_end = p.end
    v.post.append(stall)
    v.incidents.append({"id": "sched-1", "start": z(stop), "severity": "critical",
                        "root_cause_any_of": ["airflow:scheduler", hb_key], "entities": ents})
    v.summary.append(f"The scheduler stops heartbeating at {z(stop)}" + (f" until {z(back)}." if back < p.end else " (not back by the end)."))
    return v.build()


def m_shared_module_import_error(k):
    """A deploy breaks a module that several DAG files import: those files fail to import, their DAGs
    drop out and their runs due next are absent. Source: jayamanikharyono/airflow-dag-action#21 (a
    shared module used by several DAGs: "Failed to import ... ModuleNotFoundError: No module named
    'shared_var'"), bitnami/charts#2305 (several DAG files "Failed to import" on one missing package),
    Airflow docs "Modules management"."""
    v = Night("shared-module-import-error", k)
    p, rng = v.p, v.rng
    at = v.p.start + timedelta(minutes=rng.randint(1, 5), seconds=rng.randint(0, 59))
    module = rng.choice(["common.lakehouse", "shared.operators", "lib.iceberg_utils", "platform.spark_sql"])
    name = rng.choice(["IcebergMergeOperator", "SparkConnectSqlOperator", "default_args", "table_path"])
    broken = rng.sample(v.dag_ids(), rng.randint(2, 4))
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.distractors([at + timedelta(minutes=5), at + timedelta(minutes=25)])
    ents = []
    errors = []
    for dag in broken:
        fn = f"/opt/airflow/dags/pipelines/{dag}.py"
        key = f"airflow:import:{fn}"
        ents.extend([key, f"airflow:dag:{dag}"])
        stack = ("Traceback (most recent call last):\n"
                 '  File "<frozen importlib._bootstrap>", line 488, in _call_with_frames_removed\n'
                 f'  File "{fn}", line {rng.randint(3, 12)}, in <module>\n'
                 f"    from {module} import {name}\n"
                 f"ImportError: cannot import name '{name}' from '{module}' (/opt/airflow/dags/{module.replace('.', '/')}.py)\n")
        errors.append({"filename": fn, "stack_trace": stack, "timestamp": ts(at + timedelta(seconds=rng.uniform(5, 40)))})
    roots = [f"airflow:import:/opt/airflow/dags/pipelines/{dag}.py" for dag in broken]

    def absent(sc):
        sc["airflow"]["import_errors"] = errors
        for r in sc["airflow"]["dag_runs"]:
            if r["dag_id"] in broken and r["run_type"] == "scheduled" and d(r["run_after"][:19]) >= at:
                r["queued_at"] = ts(p.end + timedelta(hours=3))
                r["start_date"] = ts(p.end + timedelta(hours=3, seconds=1))
                r["end_date"] = None
                r["state"] = "queued"
        sc["airflow"]["task_instances"] = [t for t in sc["airflow"]["task_instances"]
                                           if not (t["dag_id"] in broken and t["dag_run_id"] == v.rid)]
    v.post.append(absent)
    v.incidents.append({"id": "import-1", "start": z(at), "severity": "high", "root_cause_any_of": roots, "entities": ents})
    v.summary.append(f"{module} breaks at {z(at)}: {len(broken)} DAG files fail to import; their 02:00 runs are absent.")
    return v.build()


def lambda_mode(mode, k, kind):
    v = Night(mode, k)
    p, rng = v.p, v.rng
    fn, src, every = p.lambdas[0]
    p.lambdas[0] = (fn, src, 1)
    w0 = v.p.start + timedelta(minutes=rng.randint(4, 9))
    w1 = p.end
    limit = rng.choice([30, 60, 120])
    res = {"service.name": "lambda-ingestion", "faas.name": fn, "cloud.region": REGION}
    err_key = metric_key("aws.lambda.errors", res)
    dur_key = metric_key("aws.lambda.duration", res)
    rows_key = metric_key("ingest.rows", {**res, "source": src})
    stream = f'log:{{function="{fn}",level="info",service_name="lambda-ingestion"}}'
    api = f"api.{src.split('_')[0]}-partner.example"
    labels = {"service_name": "lambda-ingestion", "function": fn, "level": "info"}

    def patch(sc):
        for m in sc["metrics"]:
            if m["resource"].get("faas.name") != fn:
                continue
            for i in range(len(m["values"])):
                t = p.start + timedelta(minutes=i)
                if t < w0:
                    continue
                if m["name"] == "aws.lambda.errors":
                    m["values"][i] = 1
                elif m["name"] == "aws.lambda.duration":
                    m["values"][i] = limit * 1000.0 + rng.uniform(1, 4) if kind == "slow" else round(rng.uniform(900, 1400), 1)
                elif m["name"] == "ingest.rows":
                    m["values"][i] = 0
        for s in sc["loki"]["streams"]:
            if s["labels"].get("function") == fn:
                s["entries"] = [e for e in s["entries"] if d(e[0][:19]) < w0]
    v.post.append(patch)
    t = w0
    while t < w1:
        r = str(uuid.UUID(int=rng.getrandbits(128)))
        s = t + timedelta(milliseconds=rng.randint(5, 900))
        p.log(labels, s, f"START RequestId: {r} Version: $LATEST")
        if kind == "slow":
            e = s + timedelta(seconds=limit)
            p.log(labels, e, f"{ts(e)} {r} Task timed out after {limit:.2f} seconds")
            p.log(labels, e + timedelta(milliseconds=1), f"REPORT RequestId: {r}\tDuration: {limit * 1000 + 2.1:.2f} ms\tBilled Duration: {limit * 1000} ms\tMemory Size: 512 MB\tMax Memory Used: 131 MB\tStatus: timeout")
        else:
            e = s + timedelta(milliseconds=rng.randint(900, 1300))
            p.log(labels, e, f"[ERROR]\t{ts(e)}\t{r}\tConnectionError: HTTPSConnectionPool(host='{api}', port=443): Max retries exceeded with url: "
                  f"/v2/{src.split('_')[0]}?since={t.strftime('%Y-%m-%dT%H:%M')}:00Z (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection "
                  "object>: Failed to establish a new connection: [Errno 111] Connection refused'))")
            p.log(labels, e + timedelta(milliseconds=1), f"REPORT RequestId: {r}\tDuration: {(e - s).total_seconds() * 1000:.2f} ms\tBilled Duration: {int((e - s).total_seconds() * 1000) + 1} ms\tMemory Size: 512 MB\tMax Memory Used: 118 MB")
        t += timedelta(minutes=1)
    # the bronze task that loads this source finds nothing to load
    dom = src.split("_")[0]
    match = [x for x in v.domains if f"{x[0]}_{x[1]}" == src]
    dom, s2 = match[0]
    dag, task = f"{dom}_daily", f"bronze_{dom}_{s2}"
    ents = [err_key, dur_key, rows_key, stream, f"airflow:dag:{dag}"]
    tasks = []
    first = []

    def bronze(path, t0, host):
        mt = 1
        t = t0
        for n in (1, 2):
            err = (PYSPARK_TB.replace("pyspark.errors.exceptions.connect.SparkException", "")
                   + f"pyspark.errors.exceptions.connect.AnalysisException: [PATH_NOT_FOUND] Path does not exist: "
                   f"s3://{p.landing}/{src}/dt={v.logical.strftime('%Y-%m-%d')}. SQLSTATE: 42K03")
            e = p.sql_task(dag, v.rid, task, f"bronze.{src}", t, rng.uniform(4, 9), host if n == 1 else p.pick_worker(t), n, mt,
                           path, fail=lambda sid: "", job=False, final_log=err)
            first.append(e)
            t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
        key = task_key(dag, v.rid, task)
        tasks.append(key)
        ents.append(key)
        return e, False
    v.overrides[dag] = {task: bronze}
    v.distractors([w0, v.at("02:00")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.downstream(ents, {dag})
    v.incidents.append({"id": "ingest-1", "start": z(w0), "severity": "high",
                        "root_cause_any_of": [err_key, dur_key, rows_key, stream], "entities": ents})
    v.summary.append(f"Lambda {fn}'s upstream {api} is {'too slow (timeouts)' if kind == 'slow' else 'refusing connections'} "
                     f"from {z(w0)}; {dag}.{task} finds no landing data.")
    return v.build()


def m_lambda_upstream_slow(k):
    """An ingestion Lambda's upstream API slows down: every invocation runs into the function timeout,
    nothing lands, and the nightly load of that source finds no data. Source: AWS Lambda docs
    "Troubleshoot invocation issues" ("Task timed out after N seconds", REPORT ... Status: timeout),
    fixdevs.com "Fix: AWS Lambda Task timed out after X seconds" (slow external API calls)."""
    return lambda_mode("lambda-upstream-slow", k, "slow")


def m_lambda_upstream_refusing(k):
    """An ingestion Lambda's upstream API refuses connections: every invocation errors, nothing lands,
    the nightly load finds no data. Source: urllib3/requests' "HTTPSConnectionPool(host=..., port=443):
    Max retries exceeded ... Failed to establish a new connection: [Errno 111] Connection refused",
    AWS Lambda docs "Monitoring functions: Errors metric"."""
    return lambda_mode("lambda-upstream-refusing", k, "refusing")


def m_upstream_api_auth_expired(k):
    """A partner API token expires: every run of the hourly pull fails with 401, deterministically.
    Source: requests' "HTTPError: 401 Client Error: Unauthorized for url", apache/airflow HttpOperator
    docs (response_check / auth), OAuth 2.0 RFC 6749 section 5.2 (invalid_token)."""
    v = Night("upstream-api-auth-expired", k)
    p, rng = v.p, v.rng
    dom = rng.choice(["partners", "ads", "crm", "billing"])
    dag = f"pull_{dom}_api"
    task = "fetch_pages"
    every = rng.choice([15, 20, 30])
    p.dag(dag, f"*/{every} * * * *", ["ingest", dom], "data-eng", f"ingest/{dag}.py")
    expires = v.at("02:%02d" % rng.randint(5, 30))
    ents, root = [f"airflow:dag:{dag}"], [f"airflow:dag:{dag}"]
    first = None
    t = p.start.replace(minute=(p.start.minute // every) * every, second=0) + timedelta(minutes=every)
    while t + timedelta(minutes=4) <= p.end:
        r = run_id(t)
        q = t + timedelta(seconds=rng.uniform(0.5, 2))
        path = f"ingest/{dag}.py"
        if t < expires:
            e = p.py_task(dag, r, task, q, rng.uniform(20, 60), p.pick_worker(q), 1, 1, None, path)
            p.run(dag, r, t, q, q, e + timedelta(seconds=1), "success")
        else:
            tt = q
            for n in (1, 2):
                e = p.py_task(dag, r, task, tt, rng.uniform(1, 3), p.pick_worker(tt), n, 1,
                              f"requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.{dom}.example.com/v3/export?page=1",
                              path)
                first = first or (e - timedelta(seconds=2))
                tt = e + timedelta(minutes=1, seconds=rng.uniform(0, 3))
            ents.extend([task_key(dag, r, task), f"airflow:dagrun:{dag}/{r}"])
            root.append(task_key(dag, r, task))
            p.run(dag, r, t, q, q, e + timedelta(seconds=1), "failed")
        t += timedelta(minutes=every)
    v.incidents.append({"id": "auth-1", "start": z(first), "severity": "high", "root_cause_any_of": root, "entities": ents})
    v.distractors([first])
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.summary.append(f"{dag}'s API token expires at {z(expires)}: every run fails with 401.")
    return v.build()


def m_spark_connect_down(k):
    """The Spark Connect server goes away (its driver restarted): clients get gRPC UNAVAILABLE and
    every task submitting through Connect fails until it is back. Source: apache/spark SPARK-44790 /
    pyspark Connect client errors ("SparkConnectGrpcException ... StatusCode.UNAVAILABLE ... failed
    to connect to all addresses"), gRPC status code docs."""
    v = Night("spark-connect-down", k)
    p, rng = v.p, v.rng
    down = v.at("02:%02d:%02d" % (rng.randint(5, 14), rng.randint(0, 59)))
    up = down + timedelta(minutes=rng.randint(6, 14))

    def why(n, h, eid):
        return ("pyspark.errors.exceptions.connect.SparkConnectGrpcException: <_MultiThreadedRendezvous of RPC that terminated with:\n"
                "\tstatus = StatusCode.UNAVAILABLE\n"
                f"\tdetails = \"failed to connect to all addresses; last error: UNKNOWN: ipv4:{p.driver_host}:15002: Failed to connect to remote host: Connection refused\"")
    ep = f"spark:connect:{CONNECT}"
    inc, dags, tasks = shared_outage(v, rng.randint(3, 5), (down + timedelta(seconds=5), up), why, ep, job=False, kind="connect")

    def patch(sc):
        sc["spark"]["connect"]["up"] = [[ts(p.app_start), True], [ts(down), False], [ts(up), True]]
    v.post.append(patch)
    v.distractors([down, up])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Spark Connect unreachable from {z(down)} to {z(up)}.")
    return v.build()


def m_benign_night(k):
    """A night with nothing to page: retries that succeed, a 429 once, a CPU blip, a one-minute S3
    5xx blip. Everything here must stay quiet. Source: the quiet cases of the open scenarios (FORMAT.md
    `quiet`), S3's documented occasional 503s under normal load (S3 docs "Error retries")."""
    v = Night("benign-night", k)
    p, rng = v.p, v.rng
    blip = rng.randint(20, 60)
    p.s3_5xx[blip] = rng.randint(3, 12)
    v.distractors([p.start - timedelta(hours=2)])
    # a bronze task hit by a connection reset once
    dom, src = rng.choice(v.domains)
    dag, task = f"{dom}_daily", f"bronze_{dom}_{src}"

    def flaky(path, t, host):
        e = p.py_task(dag, v.rid, task, t, rng.uniform(20, 60), host, 1, 2,
                      "requests.exceptions.ConnectionError: ('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))", path)
        return p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", e + timedelta(minutes=5), rng.uniform(60, 200), p.pick_worker(e), 2, 2, path), True
    v.overrides[dag] = {task: flaky}
    v.quiet.append(task_key(dag, v.rid, task))
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.summary.append("A benign night: retries that succeed, a 429, a CPU blip, a short S3 5xx blip.")
    return v.build()


MODES = {
    "s3-slowdown": m_s3_slowdown,
    "glue-throttling": m_glue_throttling,
    "rest-catalog-unavailable": m_rest_catalog_unavailable,
    "hive-metastore-down": m_hive_metastore_down,
    "s3-access-denied": m_s3_access_denied,
    "spark-worker-disk-full": m_spark_worker_disk_full,
    "celery-worker-disk-full": m_celery_worker_disk_full,
    "celery-worker-lost": m_celery_worker_lost,
    "spot-interruption": m_spot_interruption,
    "spark-host-frozen": m_spark_host_frozen,
    "skewed-stage-oom": m_skewed_stage_oom,
    "sql-analysis-error": m_sql_analysis_error,
    "iceberg-commit-conflict": m_iceberg_commit_conflict,
    "scheduler-heartbeat-lost": m_scheduler_heartbeat_lost,
    "shared-module-import-error": m_shared_module_import_error,
    "lambda-upstream-slow": m_lambda_upstream_slow,
    "lambda-upstream-refusing": m_lambda_upstream_refusing,
    "upstream-api-auth-expired": m_upstream_api_auth_expired,
    "spark-connect-down": m_spark_connect_down,
    "benign-night": m_benign_night,
}


def write_nights(out, modes, variants):
    """Writes `variants` nights of each mode in `modes` (name -> generator) to `out` as
    guardian-scenario/1 files, and prints a line per night: the writer of every suite generator."""
    os.makedirs(out, exist_ok=True)
    for fn in modes.values():
        for k in range(variants):
            sc = fn(k)
            with open(os.path.join(out, f"{sc['name']}.json"), "w") as f:
                json.dump(sc, f, indent=None, separators=(",", ":"))
            truth = sc["truth"]
            print(f"{sc['name']}: {len(truth['incidents'])} incident(s), {len(truth['quiet'])} quiet, "
                  f"{sum(len(i['entities']) for i in truth['incidents'])} entities")


def held_out_main(doc, modes):
    """The command line of a held-out generator: `--out DIR [--variants N]`, every mode of `modes`."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--variants", type=int, default=2)
    a = ap.parse_args()
    write_nights(a.out, modes, a.variants)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "suite"))
    ap.add_argument("--variants", type=int, default=2)
    ap.add_argument("--mode", action="append", help="only these modes")
    a = ap.parse_args()
    write_nights(a.out, {m: fn for m, fn in MODES.items() if not a.mode or m in a.mode}, a.variants)


if __name__ == "__main__":
    main()
