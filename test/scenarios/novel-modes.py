#!/usr/bin/env python3
"""Failure modes Guardian was never built around (guardian-scenario/1), for honest figures.

  python3 test/scenarios/novel-modes.py --batch D --out DIR [--variants N]   # development modes
  python3 test/scenarios/novel-modes.py --batch H --out DIR [--variants N]   # held-out modes

None of these modes is among the 20 of modes.py; each is a real incident class of this platform
(Airflow 3 + Celery, Spark, Iceberg on S3, AWS), its wording and causal chain cited beside it.
They were written before any Guardian code was changed for them, and split in two:

* batch D (development): Guardian may be improved while looking at these, by general principles
  only (a signature saying what a new text means; never a rule naming a mode's vocabulary);
* batch H (held out): scored once on the unchanged code and once at the very end, never looked at
  per mode in between, so its figures say how Guardian does on failures it has not seen.

The platform simulation and the generic mechanics (a night, shared outages, failing tasks,
distractors) are modes.py's and generate.py's, imported. Deterministic: the same command writes
the same files. Python standard library only.
"""
import argparse
import os
import re
import uuid
from datetime import timedelta

from generate import afts, d, daily_dags, metric_key, run_id, sparkts, task_key, ts
from modes import (write_nights, AIRFLOW_TB, REGION, Night, counter, failing_task, finish_outage, rid_hex, shared_outage, stream_key,
                   victims_of_window, z)

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "123456789012"
def worker_bound_failure(v, dag_id, task_id, table, host, at, error, ents, tasks, mt):
    """A daily-pipeline override: the task's first try runs on `host` no earlier than `at` and fails
    there at once with `error` (raised in the task process on the worker, not in Spark); a retry
    on another worker succeeds, a task without retries fails for good."""
    p, rng = v.p, v.rng

    def run(path, t, _host):
        t = max(t, at)
        key = task_key(dag_id, v.rid, task_id)
        tasks.append(key)
        ents.append(key)
        end = p.py_task(dag_id, v.rid, task_id, t, rng.uniform(1.5, 6), host, 1, mt, error(t), path)
        p.tis[-1]["operator"] = "SparkConnectSqlOperator"
        if mt == 0:
            return end, False
        t2 = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))
        other = rng.choice([w for w in p.airflow_workers if w != host])
        return p.sql_task(dag_id, v.rid, task_id, table, t2, rng.uniform(90, 250), other, 2, mt, path), True
    return run


def spark_victims(v, kind, window, why, roots, ents, start, host_of):
    """Tasks of 3-5 daily DAGs whose Spark jobs meet `window` fail with `why` on an executor of
    `host_of()`; records them and the incident (caused by any of `roots`)."""
    tasks, dags = [], []
    for dag_id, task_id, table in victims_of_window(v, v.rng.randint(3, 5)):
        mt = v.rng.choice([0, 1, 2])
        v.overrides.setdefault(dag_id, {})[task_id] = failing_task(v, dag_id, task_id, table, window, why, ents, tasks,
                                                                   fails=1, max_tries=mt, spark_host=host_of())
        dags.append(dag_id)
    inc = {"id": f"{kind}-1", "start": z(start), "severity": "high", "root_cause_any_of": roots, "entities": ents}
    v.incidents.append(inc)
    return inc, dags, tasks


# =====================================================================================
# Batch D (development)
# =====================================================================================
def m_kms_key_disabled(k):
    """The KMS key that encrypts the landing bucket (SSE-KMS) is disabled by a key-rotation change:
    every read of landing objects fails, so the bronze loads of several DAGs fail across the
    platform. Source: localstack/localstack#8422 and #7782 (S3 get-object on an SSE-KMS object must
    fail with "KMS.DisabledException" once the key is disabled), ministryofjustice/
    modernisation-platform#3468 ("An error occurred (AccessDenied) when calling the GetObject
    operation: The ciphertext refers to a customer master key that does not exist, does not exist
    in this region, or you are not allowed to access"), AWS KMS docs "Key states of AWS KMS keys"
    (a disabled key cannot be used in cryptographic operations; CloudTrail records DisableKey)."""
    v = Night("kms-key-disabled", k)
    p, rng = v.p, v.rng
    w0 = v.at("01:5%d" % rng.randint(5, 9)) + timedelta(seconds=rng.randint(0, 59))
    w1 = w0 + timedelta(minutes=rng.randint(30, 45))
    key_id = str(uuid.UUID(int=rng.getrandbits(128)))
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"
    root = v.series({"service.name": "aws-s3", "cloud.region": REGION}, "aws.s3.4xx_errors", "sum", "{error}",
                    {"bucket": p.landing, "filter_id": "EntireBucket"}, counter(v, 0.04, w0, w1, 40, 260))
    labels = {"service_name": "aws-cloudtrail", "event_source": "kms.amazonaws.com", "level": "info"}
    trail = stream_key(labels)
    p.log(labels, w0 - timedelta(seconds=rng.randint(20, 50)),
          f'{{"eventName":"DisableKey","eventSource":"kms.amazonaws.com","awsRegion":"{REGION}","requestParameters":'
          f'{{"keyId":"{arn}"}},"userIdentity":{{"arn":"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admin/terraform"}}}}')
    t = w0
    while t < w1:
        p.log(labels, t, f'{{"eventName":"Decrypt","eventSource":"kms.amazonaws.com","errorCode":"DisabledException",'
                         f'"errorMessage":"{arn} is disabled.","requestParameters":{{"encryptionContext":'
                         f'{{"aws:s3:arn":"arn:aws:s3:::{p.landing}/"}}}}}}')
        t += timedelta(seconds=rng.uniform(10, 40))

    def why(n, h, eid):
        src = rng.choice([f"{dom}_{s}" for dom, s in v.domains])
        return (f"java.nio.file.AccessDeniedException: s3://{p.landing}/{src}/dt={v.logical.strftime('%Y-%m-%d')}/part-"
                f"{uuid.UUID(int=rng.getrandbits(128)).hex[:8]}.json.gz: open s3://{p.landing}/{src}/: "
                f"software.amazon.awssdk.services.s3.model.S3Exception: {arn} is disabled. (Service: S3, Status Code: 400, "
                f"Request ID: {rid_hex(rng)}) (SDK Attempt Count: 1) [Error Code: KMS.DisabledException]")
    inc, dags, tasks = shared_outage(v, rng.randint(3, 5), (w0, w1), why, root, (trail,), kind="kms",
                                     stages=("bronze",), start=w0 - timedelta(seconds=50))
    v.distractors([w0, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"KMS key {key_id} of s3://{p.landing} disabled at {z(w0)}; bronze reads fail until {z(w1)}.")
    return v.build()


def m_dns_resolution_failure(k):
    """A change to the private DNS zone drops the record of the Iceberg REST catalog: its name no
    longer resolves, and every table load or commit of several DAGs fails with UnknownHostException
    until the record is restored. Source: apache/iceberg#7709 and databricks/iceberg-rest-image#29
    ("SdkClientException: Received an UnknownHostException when attempting to interact with a
    service ... If this is happening on an endpoint that previously worked, there may be a network
    connectivity issue or your DNS cache could be storing endpoints for too long"),
    databricks/docker-spark-iceberg#58 ("java.net.UnknownHostException: rest: Temporary failure in
    name resolution"), apache/polaris#2398 ("Name or service not known"); CoreDNS docs (log plugin:
    one line per query with its rcode, NXDOMAIN)."""
    v = Night("dns-resolution-failure", k)
    p, rng = v.p, v.rng
    w0 = v.at("02:0%d" % rng.randint(2, 8)) + timedelta(seconds=rng.randint(0, 59))
    w1 = w0 + timedelta(minutes=rng.randint(12, 25))
    name = f"{rng.choice(['iceberg-rest', 'lakekeeper', 'catalog'])}.{p.company}.internal"
    dns = {"service.name": "coredns", "host.name": f"coredns-{rng.randint(1, 2)}"}
    root = v.series(dns, "coredns.dns.responses", "sum", "{response}", {"rcode": "NXDOMAIN", "zone": f"{p.company}.internal."},
                    counter(v, 0.3, w0, w1, 60, 400))
    labels = {"service_name": "coredns", "host": dns["host.name"], "level": "info"}
    t = w0
    while t < w1:
        port = rng.randint(30000, 60000)
        p.log(labels, t, f'[INFO] {p.driver_host}:{port} - {rng.randint(1000, 65000)} "A IN {name}. udp 51 false 512" NXDOMAIN '
                         f"qr,aa,rd 144 0.000{rng.randint(100, 999)}s")
        t += timedelta(seconds=rng.uniform(3, 20))

    def why(n, h, eid):
        return ("pyspark.errors.exceptions.connect.SparkConnectGrpcException: (org.apache.iceberg.exceptions.RESTException) "
                f"Error occurred while processing GET request: java.net.UnknownHostException: {name}: Name or service not known\n"
                f"Caused by: java.net.UnknownHostException: {name}: Name or service not known\n"
                "\tat java.base/java.net.Inet6AddressImpl.lookupAllHostAddr(Native Method)")
    inc, dags, tasks = shared_outage(v, rng.randint(3, 6), (w0 + timedelta(seconds=30), w1), why, root,
                                     (f"host:{name}", stream_key(labels)), job=False, kind="dns")
    v.distractors([w0, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"{name} stops resolving (NXDOMAIN) from {z(w0)} to {z(w1)}; catalog calls fail.")
    return v.build()


def m_metadb_connections_exhausted(k):
    """The Airflow metadata database (PostgreSQL) runs out of connection slots (a leaking client
    holds them): the API server cannot serve the task SDK, so tasks of many DAGs fail on whichever
    worker they start, and the health endpoint reports the metadatabase unhealthy. Source:
    PostgreSQL's "FATAL: sorry, too many clients already" / "remaining connection slots are reserved
    for non-replication superuser connections"; ckan/ckan#5863, PrefectHQ/prefect#6492 and
    alphagov/notifications-api#1693 (SQLAlchemy "QueuePool limit of size 5 overflow 10 reached,
    connection timed out, timeout 30"); apache/airflow#59637 (Airflow 3 tasks failing with
    "airflow.sdk.api.client.ServerResponseError" from the execution API)."""
    v = Night("metadb-connections-exhausted", k)
    p, rng = v.p, v.rng
    w0 = v.at("02:0%d" % rng.randint(2, 8)) + timedelta(seconds=rng.randint(0, 59))
    w1 = w0 + timedelta(minutes=rng.randint(10, 18))
    ramp = w0 - timedelta(minutes=rng.randint(3, 6))
    db = f"airflow-db-{rng.randint(1, 2)}"
    limit = rng.choice([100, 200, 300])
    res = {"service.name": "postgresql", "host.name": db}
    root = v.series(res, "postgresql.backends", "gauge", "{connection}", {"postgresql.database.name": "airflow"},
                    lambda t: limit - rng.randint(0, 2) if ramp <= t < w1 else rng.randint(30, 60))
    pg = {"service_name": "postgresql", "host": db, "level": "error"}
    api = {"service_name": "airflow-api-server", "host": "airflow-api-server-1", "level": "error"}
    t = w0
    while t < w1:
        p.log(pg, t, f"{t.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC [{rng.randint(1000, 99999)}] FATAL:  sorry, too many clients already")
        t2 = t + timedelta(seconds=rng.uniform(0.2, 2))
        p.log(api, t2, f"{t2.strftime('%Y-%m-%d %H:%M:%S')} [error    ] Exception in ASGI application [uvicorn.error]\n"
                       "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, "
                       "timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)")
        t += timedelta(seconds=rng.uniform(6, 25))

    def error(t):
        return (AIRFLOW_TB
                + '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/api/client.py", line 154, in start\n'
                "    resp = self.client.patch(f\"task-instances/{id}/run\", content=body.model_dump_json())\n"
                "airflow.sdk.api.client.ServerResponseError: Server returned error\n"
                f"Detail: {{'detail': '(psycopg2.OperationalError) connection to server at \"{db}\" (10.0.0.{rng.randint(20, 40)}), "
                "port 5432 failed: FATAL:  sorry, too many clients already'}")
    ents, tasks, dags = [root, stream_key(pg), f"host:{db}", stream_key(api)], [], []
    for i, (dag_id, task_id, table) in enumerate(victims_of_window(v, rng.randint(3, 5), ("bronze", "silver", "gold"))):
        host = rng.choice(p.airflow_workers)
        at = w0 + timedelta(seconds=rng.uniform(20, 300) + 30 * i)
        v.overrides.setdefault(dag_id, {})[task_id] = worker_bound_failure(
            v, dag_id, task_id, table, host, at, error, ents, tasks, rng.choice([0, 1, 2]))
        dags.append(dag_id)
    inc = {"id": "metadb-1", "start": z(ramp), "severity": "critical",
           "root_cause_any_of": [root, stream_key(pg), f"host:{db}"], "entities": ents}
    v.incidents.append(inc)

    def unhealthy(sc):
        for h in sc["airflow"]["health"]:
            if w0 <= d(h["at"][:19]) < w1:
                h["metadatabase"] = "unhealthy"
    v.post.append(unhealthy)
    v.distractors([ramp, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"PostgreSQL {db} out of connections ({limit}) from {z(w0)} to {z(w1)}; tasks fail at start.")
    return v.build()


def m_spark_shuffle_fetch_failed(k):
    """One Spark worker's local disk starts failing (I/O errors): the shuffle files it serves cannot
    be read, so reduce tasks on executors of *other* hosts fail with FetchFailed naming the bad
    host's block manager, and the jobs of several DAGs fail. Source: apache/spark#17088 /
    SPARK-19753 and apache/spark#17445 (fetch failures from one host's shuffle service fail the
    stages that read its map outputs), uber/RemoteShuffleService#89 ("Disk damage causes
    failure"), apache/hudi#2154 ("org.apache.spark.shuffle.FetchFailedException" thrown
    consistently); the Linux kernel's "blk_update_request: I/O error, dev ..." lines."""
    v = Night("spark-shuffle-fetch-failed", k)
    p, rng = v.p, v.rng
    bad = rng.choice(list(p.workers))
    others = [h for h in p.workers if h != bad]
    w0 = v.at("02:0%d" % rng.randint(3, 9)) + timedelta(seconds=rng.randint(0, 59))
    w1 = w0 + timedelta(minutes=rng.randint(20, 35))
    bm = next(i for i, e in enumerate(p.executors) if e["hostPort"].startswith(bad + ":")) + 1
    labels = {"service_name": "kernel", "host": bad, "level": "error"}
    t = w0 - timedelta(seconds=rng.randint(30, 90))
    while t < w1:
        sector = rng.randint(10**6, 10**9)
        p.log(labels, t, f"blk_update_request: I/O error, dev nvme1n1, sector {sector} op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 0")
        p.log(labels, t + timedelta(milliseconds=3), f"Buffer I/O error on dev nvme1n1p1, logical block {sector // 8}, async page read")
        t += timedelta(seconds=rng.uniform(15, 60))

    def why(n, h, eid):
        return (f"FetchFailed(BlockManagerId({bm}, {bad}, 7337, None), shuffleId={rng.randint(100, 900)}, mapIndex={rng.randint(0, 63)}, "
                f"mapId={rng.randint(10**5, 10**6)}, reduceId={rng.randint(0, 199)}, message=\n"
                f"org.apache.spark.shuffle.FetchFailedException: java.io.IOException: Input/output error\n"
                "\tat org.apache.spark.storage.ShuffleBlockFetcherIterator.throwFetchFailedException(ShuffleBlockFetcherIterator.scala:1239)")
    wid = p.workers[bad]["id"]
    roots = [f"host:{bad}", f"spark:worker:{wid}", stream_key(labels)]
    inc, dags, tasks = spark_victims(v, "fetch", (w0, w1), why, roots, list(roots), w0 - timedelta(seconds=90),
                                     lambda: rng.choice(others))
    v.distractors([w0, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Spark worker {bad}'s shuffle disk fails from {z(w0)}; reducers elsewhere fail to fetch from it.")
    return v.build()


def m_lambda_throttled(k):
    """A backfill function takes the account's whole unreserved Lambda concurrency: the ingestion
    function is throttled (every invocation rejected with TooManyRequestsException, so it never
    runs and writes nothing), and the nightly load of its source finds no data. Source:
    HumanCellAtlas/data-store#1118 ("Lambda.TooManyRequestsException ... Rate Exceeded. (Service:
    AWSLambda; Status Code: 429; Error Code: TooManyRequestsException ...)" when the account's
    concurrency limit is used up), dwyl/learn-aws-lambda#75 (concurrent invocations limit), AWS Lambda
    docs "Lambda function scaling" (Throttles metric, account-level ConcurrentExecutions)."""
    v = Night("lambda-throttled", k)
    p, rng = v.p, v.rng
    fn, src, _ = p.lambdas[0]
    p.lambdas[0] = (fn, src, 1)
    w0 = v.p.start + timedelta(minutes=rng.randint(3, 7), seconds=rng.randint(0, 59))
    limit = rng.choice([500, 1000])
    hog = f"backfill-{rng.choice(['archive', 'history', 'replay'])}-{rng.randint(1, 9)}"
    res = {"service.name": "lambda-ingestion", "faas.name": fn, "cloud.region": REGION}
    throttles = v.series(res, "aws.lambda.throttles", "sum", "{throttle}", {}, counter(v, 0.0, w0, p.end + timedelta(hours=1), 2, 9))
    conc = v.series({"service.name": "aws-lambda", "cloud.region": REGION}, "aws.lambda.concurrent_executions", "gauge",
                    "{execution}", {}, lambda t: limit if t >= w0 - timedelta(minutes=1) else rng.randint(2, 12))
    hog_res = {"service.name": "lambda-backfill", "faas.name": hog, "cloud.region": REGION}
    hog_inv = v.series(hog_res, "aws.lambda.invocations", "sum", "{invocation}", {},
                       lambda t: rng.randint(4000, 9000) if t >= w0 - timedelta(minutes=2) else 0)
    inv_key = metric_key("aws.lambda.invocations", res)
    rows_key = metric_key("ingest.rows", {**res, "source": src})

    def starve(sc):
        for m in sc["metrics"]:
            if m["resource"].get("faas.name") != fn or m["name"] == "aws.lambda.throttles":
                continue
            for i in range(len(m["values"])):
                if p.start + timedelta(minutes=i) >= w0:
                    m["values"][i] = None if m["name"] == "aws.lambda.duration" else 0
        for s in sc["loki"]["streams"]:
            if s["labels"].get("function") == fn:
                s["entries"] = [e for e in s["entries"] if d(e[0][:19]) < w0]
    v.post.append(starve)
    match = [x for x in v.domains if f"{x[0]}_{x[1]}" == src]
    dom, s2 = match[0]
    dag, task = f"{dom}_daily", f"bronze_{dom}_{s2}"
    ents, tasks = [throttles, conc, hog_inv, inv_key, rows_key, f"airflow:dag:{dag}"], []

    def why(n, h, eid):
        return (f"pyspark.errors.exceptions.connect.AnalysisException: [PATH_NOT_FOUND] Path does not exist: "
                f"s3://{p.landing}/{src}/dt={v.logical.strftime('%Y-%m-%d')}. SQLSTATE: 42K03")
    v.overrides[dag] = {task: failing_task(v, dag, task, f"bronze.{src}", (w0 - timedelta(hours=3), p.end), why, ents, tasks,
                                           fails=2, max_tries=1, job=False)}
    v.distractors([w0, v.at("02:00")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.downstream(ents, {dag})
    v.incidents.append({"id": "throttle-1", "start": z(w0 - timedelta(minutes=2)), "severity": "high",
                        "root_cause_any_of": [throttles, conc, hog_inv], "entities": ents})
    v.summary.append(f"{hog} takes all {limit} concurrent executions from {z(w0)}; {fn} is throttled and {dag}.{task} finds no data.")
    return v.build()


def m_celery_broker_down(k):
    """The Celery broker (Redis) goes down: the scheduler cannot hand task messages to the workers,
    so tasks due meanwhile stay queued (nothing fails; runs are simply absent or late) until the
    broker is back, and every worker logs that it cannot reach it. Source: apache/airflow#24731
    ("After killing Redis ... queued Tasks not getting executed"), apache/airflow#21225 ("Tasks
    stuck in queued state" after a worker lost its Redis connection), apache/airflow#14100 and
    celery/celery#7731 ("consumer: Cannot connect to redis://...: Error 111 connecting to ...
    Connection refused.. Trying again in 2.00 seconds"), apache/airflow#2811 (scheduler "Error 61
    connecting to localhost:6379. Connection refused" while queuing through celery)."""
    v = Night("celery-broker-down", k)
    p, rng = v.p, v.rng
    down = v.at("01:5%d" % rng.randint(6, 9)) + timedelta(seconds=rng.randint(0, 59))
    up = down + timedelta(minutes=rng.randint(14, 24)) if k % 2 == 0 else p.end + timedelta(hours=1)
    broker = "airflow-redis"
    v.distractors([down, min(up, p.end)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    for w in p.airflow_workers:
        labels = {"service_name": "airflow-worker", "host": w, "level": "error"}
        t, n = down + timedelta(seconds=rng.uniform(0.5, 4)), 1
        while t < min(up, p.end):
            p.log(labels, t, f"[{t.strftime('%Y-%m-%d %H:%M:%S,%f')[:-3]}: ERROR/MainProcess] consumer: Cannot connect to "
                             f"redis://{broker}:6379/0: Error 111 connecting to {broker}:6379. Connection refused..\n"
                             f"Trying again in {min(2 * n, 32):.2f} seconds... ({n}/100)")
            t += timedelta(seconds=min(2 * n, 32) + rng.uniform(0, 1))
            n += 1
    sched = {"service_name": "airflow-scheduler", "host": "airflow-scheduler-1", "level": "error"}
    sched_lines = []
    sched_key = metric_key("airflow.executor.queued_tasks", {"service.name": "airflow-scheduler", "host.name": "airflow-scheduler-1"})
    ents = [f"host:{broker}", sched_key, stream_key(sched)]
    ents.extend(stream_key({"service_name": "airflow-worker", "host": w, "level": "error"}) for w in p.airflow_workers)
    stamp = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\+0000\]")

    def shift_line(line, delta):
        m = stamp.match(line)
        return line if not m else f"[{afts(d(m.group(1)) + delta)}]" + line[m.end():]

    def stall(sc):
        end = p.end
        delays = {}
        rows = sorted(sc["airflow"]["task_instances"], key=lambda r: r["queued_when"] or r["start_date"])
        keep = []
        for ti in rows:
            run = (ti["dag_id"], ti["dag_run_id"])
            q = d(ti["queued_when"][:23]) if ti.get("queued_when") else None
            if run not in delays and q and down <= q < up:
                delays[run] = up - q + timedelta(seconds=rng.uniform(3, 40))
                sched_lines.append((q, f"[{afts(q)}] {{celery_executor.py:296}} ERROR - Error sending Celery task: Error 111 connecting to "
                                       f"{broker}:6379. Connection refused.\nCelery Task ID: TaskInstanceKey(dag_id='{ti['dag_id']}', "
                                       f"task_id='{ti['task_id']}', run_id='{ti['dag_run_id']}', try_number={ti['try_number']}, map_index=-1)"))
                ents.append(f"airflow:dag:{ti['dag_id']}")
            delta = delays.get(run)
            if delta is None:
                keep.append(ti)
                continue
            first = q is not None and down <= q < up and ti.get("start_date") and d(ti["start_date"][:23]) < up
            for f in ("start_date", "end_date") if first else ("queued_when", "start_date", "end_date"):
                if ti.get(f):
                    ti[f] = ts(d(ti[f][:23]) + delta)
            ti["log"] = [shift_line(x, delta) for x in ti["log"]]
            if ti.get("start_date") and d(ti["start_date"][:23]) > end:
                if not first:
                    continue
                ti.update({"state": "queued", "start_date": None, "end_date": None, "hostname": "", "pid": None, "log": []})
            elif ti.get("end_date") and d(ti["end_date"][:23]) > end:
                ti["end_date"], ti["state"] = None, "running"
            keep.append(ti)
        sc["airflow"]["task_instances"] = keep
        for r in sc["airflow"]["dag_runs"]:
            delta = delays.get((r["dag_id"], r["dag_run_id"]))
            if delta and r.get("end_date"):
                r["end_date"] = ts(d(r["end_date"][:23]) + delta)
                if d(r["end_date"][:19]) > end:
                    r["end_date"], r["state"] = None, "running"
        tagged = {}
        for job in sc["spark"]["applications"][0]["jobs"]:
            tags = {tg.split("_Tag_airflow.")[1].split("=")[0]: tg.split("=", 1)[1] for tg in job["jobTags"] if "_Tag_airflow." in tg}
            delta = delays.get((tags.get("dag_id"), tags.get("run_id")))
            if not delta:
                continue
            for f in ("submissionTime", "completionTime"):
                job[f] = ts(d(job[f][:23]) + delta)
            for sid in job["stageIds"]:
                tagged[sid] = delta
        sc["spark"]["applications"][0]["jobs"] = [j for j in sc["spark"]["applications"][0]["jobs"]
                                                  if d(j["submissionTime"][:19]) <= end]
        for st in sc["spark"]["applications"][0]["stages"]:
            if st["stageId"] in tagged:
                for f in ("submissionTime", "completionTime"):
                    st[f] = ts(d(st[f][:23]) + tagged[st["stageId"]])
        for s in sc["loki"]["streams"]:
            if s["labels"].get("service_name") == "airflow-worker" and s["labels"].get("level") == "info":
                s["entries"] = [e for e in s["entries"] if not (down <= d(e[0][:19]) < up)]
        sc["loki"]["streams"].append({"labels": sched, "entries": sorted([[ts(q), line] for q, line in sched_lines])})
        for m in sc["metrics"]:
            if m["name"] == "airflow.executor.queued_tasks":
                for i in range(len(m["values"])):
                    at = p.start + timedelta(minutes=i)
                    waiting = sum(1 for ti in keep if ti.get("queued_when") and d(ti["queued_when"][:19]) <= at
                                  and (not ti.get("start_date") or d(ti["start_date"][:19]) > at))
                    m["values"][i] = max(m["values"][i], waiting)
        sc["truth"]["incidents"][0]["entities"] = list(dict.fromkeys(ents))
    v.post.append(stall)
    v.incidents.append({"id": "broker-1", "start": z(down), "severity": "critical",
                        "root_cause_any_of": [f"host:{broker}", sched_key], "entities": ents})
    v.summary.append(f"Redis broker {broker} down from {z(down)}" + (f" to {z(up)}" if up < p.end else " (not back by the end)")
                     + "; tasks due meanwhile stay queued.")
    return v.build()


# =====================================================================================
# Batch H (held out: scored on the unchanged code and once at the very end, never in between)
# =====================================================================================
def m_sts_expired_token_worker(k):
    """One Celery worker's credential refresh breaks (its instance-metadata call times out): once
    the temporary credentials it holds expire, every task it runs that calls AWS itself fails with
    ExpiredToken, in several DAGs, while the same tasks succeed on the other workers. Source:
    snowflakedb/spark-snowflake#21 ("AmazonS3Exception: The provided token has expired. (Service:
    Amazon S3; Status Code: 400; Error Code: ExpiredToken ...)"), mapbox/ecs-watchbot#61
    ("ExpiredToken: The security token included in the request is expired", repeatedly, from one
    host), apache/polaris#464 (vended credentials expiring mid-job); botocore's "Refreshing
    temporary credentials failed during mandatory refresh period"."""
    v = Night("sts-expired-token-worker", k)
    p, rng = v.p, v.rng
    host = rng.choice(p.airflow_workers)
    broke = v.at("01:5%d" % rng.randint(0, 9))
    expired = v.at("02:0%d" % rng.randint(1, 7)) + timedelta(seconds=rng.randint(0, 59))
    labels = {"service_name": "airflow-worker", "host": host, "level": "warn"}
    t = broke
    while t < p.end:
        p.log(labels, t, f"{t.strftime('%Y-%m-%d %H:%M:%S.%f')} [warning  ] Refreshing temporary credentials failed during mandatory "
                         "refresh period. [botocore.credentials]")
        t += timedelta(seconds=rng.uniform(60, 180))
    op = rng.choice(["ListObjectsV2", "GetObject", "PutObject"])

    def error(t):
        return (AIRFLOW_TB
                + '  File "/opt/airflow/plugins/lakehouse/operators/spark_sql.py", line 71, in execute\n'
                "    self._check_landing(context)\n"
                '  File "/home/airflow/.local/lib/python3.12/site-packages/botocore/client.py", line 1023, in _make_api_call\n'
                "    raise error_class(parsed_response, operation_name)\n"
                f"botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the {op} operation: "
                "The provided token has expired.")
    ents, tasks, dags = [f"host:{host}", stream_key(labels)], [], []
    for i, (dag_id, task_id, table) in enumerate(victims_of_window(v, rng.randint(3, 5), ("bronze", "silver", "gold"))):
        at = expired + timedelta(seconds=rng.uniform(10, 500))
        v.overrides.setdefault(dag_id, {})[task_id] = worker_bound_failure(
            v, dag_id, task_id, table, host, at, error, ents, tasks, rng.choice([0, 1, 2]))
        dags.append(dag_id)
    orig = p.pick_worker
    p.pick_worker = lambda t: (lambda w: rng.choice([x for x in p.airflow_workers if x != host])
                               if w == host and t >= broke else w)(orig(t))
    inc = {"id": "sts-1", "start": z(expired), "severity": "high", "root_cause_any_of": [f"host:{host}", stream_key(labels)],
           "entities": ents}
    v.incidents.append(inc)
    v.distractors([broke, expired + timedelta(minutes=10)])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Worker {host} stops refreshing its AWS credentials at {z(broke)}; they expire at {z(expired)}.")
    return v.build()


def m_clock_skew_host(k):
    """A Spark worker's time daemon loses its sources and the host clock drifts: once it is more
    than 15 minutes off, S3 rejects every request signed on that host, so tasks of several DAGs
    that run on its executors fail, while the other hosts are fine. Source: aws/aws-sdk-php#612,
    aws/aws-sdk-net#211 and minio/minio-py#285 ("RequestTimeTooSkewed: The difference between the
    request time and the current time is too large", MaxAllowedSkewMilliseconds 900000; fixed by
    syncing NTP); chrony's "Can't synchronise: no selectable sources"; node_exporter's
    node_timex_offset_seconds."""
    v = Night("clock-skew-host", k)
    p, rng = v.p, v.rng
    host = rng.choice(list(p.workers))
    lost = p.start - timedelta(minutes=rng.randint(40, 80))
    w0 = v.at("02:0%d" % rng.randint(2, 9)) + timedelta(seconds=rng.randint(0, 59))
    rate = 900.0 / (w0 - lost).total_seconds()
    res = {"service.name": "spark-worker", "host.name": host}
    root = v.series(res, "node_timex_offset_seconds", "gauge", "s", {},
                    lambda t: round(rate * (t - lost).total_seconds() + rng.uniform(-0.5, 0.5), 3))
    for h in p.workers:
        if h != host:
            v.series({"service.name": "spark-worker", "host.name": h}, "node_timex_offset_seconds", "gauge", "s", {},
                     lambda t: round(rng.uniform(-0.004, 0.004), 5))
    labels = {"service_name": "chronyd", "host": host, "level": "warn"}
    t = p.start + timedelta(seconds=rng.randint(5, 60))
    while t < p.end:
        p.log(labels, t, f"{t.strftime('%Y-%m-%dT%H:%M:%S')}Z chronyd[812]: Can't synchronise: no selectable sources")
        t += timedelta(minutes=rng.randint(8, 16))

    def why(n, h, eid):
        return (f"org.apache.iceberg.exceptions.RuntimeIOException: Failed to open s3://{p.lake}/warehouse/"
                f"{rng.choice(['silver', 'gold'])}.db/{rng.choice(['orders', 'events'])}/metadata/snap-{rng.randint(10**17, 10**18)}.avro\n"
                "Caused by: software.amazon.awssdk.services.s3.model.S3Exception: The difference between the request time and the "
                f"current time is too large. (Service: S3, Status Code: 403, Request ID: {rid_hex(rng)}) [Error Code: RequestTimeTooSkewed]")
    wid = p.workers[host]["id"]
    roots = [f"host:{host}", f"spark:worker:{wid}", root]
    inc, dags, tasks = spark_victims(v, "skew", (w0, p.end), why, roots, [*roots, stream_key(labels)], w0, lambda: host)
    v.distractors([w0, w0 + timedelta(minutes=15)])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Spark worker {host}'s clock drifts past 15 min at {z(w0)}; S3 rejects its requests.")
    return v.build()


def m_upstream_schema_change(k):
    """A dimension table shared by several pipelines is rebuilt by its own DAG with a column
    renamed: the gold steps of every DAG that joins it fail at analysis from then on. The cause is
    the upstream rebuild (a task that succeeded), not the failing readers. Source:
    aws-samples/dbt-glue#487 (a column removed upstream: "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column
    or function parameter with name `update_iceberg_ts` cannot be resolved" in every dependent
    model), risingwavelabs/risingwave#25909 (dropping a column used downstream), rilldata/rill#3332
    (queries of dependent views fail after the underlying table's schema changes)."""
    v = Night("upstream-schema-change", k)
    p, rng = v.p, v.rng
    dim = rng.choice(["customers", "products", "accounts", "merchants"])
    col, new = rng.choice([("segment", "segment_code"), ("country", "country_iso"), ("tier", "tier_name"), ("region", "region_id")])
    dag, task = f"dim_{dim}_refresh", f"rebuild_dim_{dim}"
    p.dag(dag, "30 1 * * *", ["silver", "dimension"], "data-eng", f"dimensions/{dag}.py")
    lg = v.logical.replace(minute=30, hour=1)
    rid = run_id(lg)
    q = max(lg, p.start) + timedelta(minutes=rng.randint(2, 6), seconds=rng.uniform(0.5, 2))
    e = p.sql_task(dag, rid, task, f"silver.dim_{dim}", q, rng.uniform(200, 420), p.pick_worker(q), 1, 1, f"dimensions/{dag}.py")
    p.tis[-1]["log"].insert(-1, f"[{afts(e - timedelta(seconds=2))}] {{spark_sql.py:104}} INFO - Table lakehouse.silver.dim_{dim} "
                                f"replaced: schema changed (column `{col}` renamed to `{new}`)")
    p.run(dag, rid, lg, q, q, e + timedelta(seconds=1), "success")
    key = task_key(dag, rid, task)

    def why(n, h, eid):
        return ("pyspark.errors.exceptions.connect.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, "
                f"or function parameter with name `d`.`{col}` cannot be resolved. Did you mean one of the following? "
                f"[`d`.`{new}`, `d`.`{dim}_id`, `d`.`valid_from`]. SQLSTATE: 42703; line 7 pos 4;\n"
                f"'Join LeftOuter, ('f.{dim}_id = 'd.{dim}_id)\n:- SubqueryAlias f\n+- SubqueryAlias d\n"
                f"   +- RelationV2[{dim}_id#{rng.randint(100, 999)}L, {new}#{rng.randint(100, 999)}] lakehouse.silver.dim_{dim}")
    inc, dags, tasks = shared_outage(v, rng.randint(3, 5), (e + timedelta(seconds=20), p.end), why, key, (f"airflow:dag:{dag}",),
                                     job=False, kind="schema", max_tries_choices=(0, 1), stages=("gold",), start=e)
    v.distractors([e, e + timedelta(minutes=20)])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"{dag} renames silver.dim_{dim}.{col} at {z(e)}; the gold steps joining it fail.")
    return v.build()


BATCHES = {
    "D": {
        "kms-key-disabled": m_kms_key_disabled,
        "dns-resolution-failure": m_dns_resolution_failure,
        "metadb-connections-exhausted": m_metadb_connections_exhausted,
        "spark-shuffle-fetch-failed": m_spark_shuffle_fetch_failed,
        "lambda-throttled": m_lambda_throttled,
        "celery-broker-down": m_celery_broker_down,
    },
    "H": {
        "sts-expired-token-worker": m_sts_expired_token_worker,
        "clock-skew-host": m_clock_skew_host,
        "upstream-schema-change": m_upstream_schema_change,
    },
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", choices=sorted(BATCHES), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--variants", type=int, default=2)
    a = ap.parse_args()
    write_nights(a.out, BATCHES[a.batch], a.variants)


if __name__ == "__main__":
    main()
