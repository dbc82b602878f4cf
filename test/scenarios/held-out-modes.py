#!/usr/bin/env python3
"""A second set of held-out failure modes (guardian-scenario/1), written by another hand.

  python3 test/scenarios/held-out-modes.py --out DIR [--variants N]

None of these is among the 20 modes of modes.py or the 9 of novel-modes.py. They were written,
measured once on the code of the day they were written and not looked at per mode while
Guardian changed, so their figures say how Guardian does on failures nobody tuned it for. The
rule that keeps them useful: never change Guardian while reading what it does on these.

Each mode is a real incident class of this platform, its wording and causal chain cited beside
it. The platform simulation and the generic mechanics are modes.py's and generate.py's,
imported. Deterministic: the same command writes the same files. Python standard library only.
"""
import uuid
from datetime import timedelta

from generate import daily_dags, metric_key, run_id, task_key
from modes import held_out_main, AIRFLOW_TB, CONNECT, REGION, Night, finish_outage, shared_outage, stream_key, victims_of_window, z

def m_orphan_cleanup_deletes_live_files(k):
    """A table-maintenance DAG runs Iceberg's remove_orphan_files with a retention shorter than the
    writers' commit time: it deletes data files a concurrent write had not yet committed, the
    commit then references missing files, and every later reader of that table fails with
    NotFoundException. The cause is the maintenance task (which succeeded), not the readers.
    Source: apache/iceberg#4194 ("Delete Orphan Files makes metadata inconsistent and table
    unusable": after deleteOrphanFiles dropped several files the table could not be used),
    Iceberg docs "Maintenance: Delete orphan files" (deleting with a retention shorter than the
    time to complete any write may corrupt the table, as in-progress writes' files look orphaned),
    apache/amoro#1959 (orphan-file cleaning deleted a file still referenced)."""
    v = Night("orphan-cleanup-deletes-live-files", k)
    p, rng = v.p, v.rng
    dom = rng.choice([d for d, _ in v.domains])
    table = f"silver.{dom}"
    dag, task = "iceberg_table_maintenance", f"remove_orphan_files_{dom}"
    p.dag(dag, "40 1 * * *", ["maintenance", "iceberg"], "platform", f"maintenance/{dag}.py")
    lg = v.logical.replace(hour=1, minute=40)
    rid = run_id(lg)
    q = max(lg, p.start) + timedelta(minutes=rng.randint(1, 4), seconds=rng.uniform(0.5, 2))
    deleted = rng.randint(12, 60)
    e = p.sql_task(dag, rid, task, table, q, rng.uniform(150, 300), p.pick_worker(q), 1, 1, f"maintenance/{dag}.py")
    p.tis[-1]["log"].insert(-1, f"[{(e - timedelta(seconds=3)).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}+0000] "
                                f"{{spark_sql.py:104}} INFO - CALL lakehouse.system.remove_orphan_files(table => '{table}', "
                                f"older_than => TIMESTAMP '{(e - timedelta(minutes=30)).strftime('%Y-%m-%d %H:%M:%S')}'): "
                                f"{deleted} files deleted")
    p.run(dag, rid, lg, q, q, e + timedelta(seconds=1), "success")
    cause = task_key(dag, rid, task)
    part = uuid.UUID(int=rng.getrandbits(128)).hex

    def why(n, h, eid):
        return (f"org.apache.iceberg.exceptions.NotFoundException: File does not exist: s3://{p.lake}/warehouse/{dom}.db/"
                f"{dom}/data/dt={v.logical.strftime('%Y-%m-%d')}/00000-{rng.randint(10, 99)}-{part}-00001.parquet\n"
                "Caused by: java.io.FileNotFoundException: No such file or directory: "
                f"s3a://{p.lake}/warehouse/{dom}.db/{dom}/data/dt={v.logical.strftime('%Y-%m-%d')}/00000-{part}.parquet")
    saved = v.domains
    v.domains = [x for x in saved if x[0] != dom]  # the readers: the table's own DAG is not a victim
    inc, dags, tasks = shared_outage(v, rng.randint(3, 5), (e + timedelta(seconds=40), p.end), why, cause,
                                     (f"airflow:dag:{dag}",), kind="orphan", stages=("gold",), start=e)
    v.domains = saved
    v.distractors([e, e + timedelta(minutes=20)])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"{dag}.{task} deletes {deleted} files of {table} at {z(e)}; gold steps reading it fail.")
    return v.build()


def m_worker_ebs_burst_exhausted(k):
    """One Celery worker's gp2 root volume runs out of burst credits during the nightly load: its
    I/O is throttled to the baseline, tasks on it crawl and hit their execution_timeout, while the
    same tasks finish on the other workers. Source: AWS re:Post knowledge center "Why is the burst
    balance for my Amazon EBS volume low?" (gp2/st1/sc1 throttled to baseline IOPS once burst
    credit reaches zero; CloudWatch BurstBalance), Airflow docs "Tasks: Timeouts"
    (execution_timeout; AirflowTaskTimeout raised when exceeded), apache/airflow#35474 and
    #14672 (tasks timing out on one slow worker: "airflow.exceptions.AirflowTaskTimeout: Timeout,
    PID: ...")."""
    v = Night("worker-ebs-burst-exhausted", k)
    p, rng = v.p, v.rng
    host = rng.choice(p.airflow_workers)
    drain0 = v.at("01:4%d" % rng.randint(0, 9))
    empty = v.at("02:0%d" % rng.randint(2, 8)) + timedelta(seconds=rng.randint(0, 59))
    res = {"service.name": "airflow-worker", "host.name": host}

    def balance(t):
        if t >= empty:
            return round(rng.uniform(0, 0.4), 2)
        if t >= drain0:
            return round(100 * (1 - (t - drain0).total_seconds() / (empty - drain0).total_seconds()), 2)
        return 100.0
    root = v.series(res, "aws.ebs.burst_balance", "gauge", "%", {"volume.id": f"vol-0{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}"}, balance)
    wait = v.series(res, "system.cpu.utilization", "gauge", "1", {"state": "wait"},
                    lambda t: round(rng.uniform(0.55, 0.8), 3) if t >= empty else round(rng.uniform(0.01, 0.04), 3))
    for h in p.airflow_workers:
        if h != host:
            v.series({"service.name": "airflow-worker", "host.name": h}, "aws.ebs.burst_balance", "gauge", "%",
                     {"volume.id": f"vol-0{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}"}, lambda t: 100.0)
    limit = rng.choice([20, 30, 45])
    ents, tasks, dags = [f"host:{host}", root, wait], [], []
    for dag_id, task_id, table in victims_of_window(v, rng.randint(3, 5), ("bronze", "silver", "gold")):
        mt = rng.choice([0, 1, 2])

        def run(path, t, _host, dag_id=dag_id, task_id=task_id, table=table, mt=mt):
            t = max(t, empty + timedelta(seconds=rng.uniform(5, 300)))
            key = task_key(dag_id, v.rid, task_id)
            tasks.append(key)
            ents.append(key)
            pid = rng.randint(2000, 60000)
            err = (AIRFLOW_TB
                   + '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/timeout.py", line 69, in handle_timeout\n'
                   f"    raise AirflowTaskTimeout(self.error_message)\nairflow.exceptions.AirflowTaskTimeout: Timeout, PID: {pid}")
            end = p.py_task(dag_id, v.rid, task_id, t, limit * 60.0 + rng.uniform(0.2, 2), host, 1, mt, err, path)
            p.tis[-1]["operator"] = "SparkConnectSqlOperator"
            if mt == 0:
                return end, False
            t2 = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))
            other = rng.choice([w for w in p.airflow_workers if w != host])
            return p.sql_task(dag_id, v.rid, task_id, table, t2, rng.uniform(90, 250), other, 2, mt, path), True
        v.overrides.setdefault(dag_id, {})[task_id] = run
        dags.append(dag_id)
    orig = p.pick_worker
    p.pick_worker = lambda t: (lambda w: rng.choice([x for x in p.airflow_workers if x != host])
                               if w == host and t >= empty else w)(orig(t))
    inc = {"id": "ebs-1", "start": z(empty), "severity": "high", "root_cause_any_of": [f"host:{host}", root, wait],
           "entities": ents}
    v.incidents.append(inc)
    v.distractors([drain0, empty + timedelta(minutes=limit + 10)])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"Worker {host}'s volume runs out of burst credits at {z(empty)}; tasks on it time out.")
    return v.build()


def m_ingest_silently_empty(k):
    """An ingestion Lambda keeps succeeding but lands nothing: the partner API changed its paging and
    answers 200 with empty pages. No error anywhere upstream; the only evidence is the function's
    landed-rows series dropping to zero, and hours later the data-quality checks of the DAGs that
    read that source fail on an empty partition. Source: AWS Lambda docs "Monitoring functions"
    (Invocations/Errors count only failures the function raises; a function returning normally
    counts as success), Airflow SQLCheckOperator docs and apache/airflow#14303 ("Test failed.
    Query: ... Results: (0,)": a check of a count that came back zero), and the Monte Carlo/
    Great Expectations literature on "silent" data-volume incidents (row count anomalies caught
    downstream)."""
    v = Night("ingest-silently-empty", k)
    p, rng = v.p, v.rng
    fn, src, every = p.lambdas[0]
    w0 = v.p.start + timedelta(minutes=rng.randint(3, 8))
    res = {"service.name": "lambda-ingestion", "faas.name": fn, "cloud.region": REGION}
    rows = metric_key("ingest.rows", {**res, "source": src})

    def patch(sc):
        for m in sc["metrics"]:
            if m["resource"].get("faas.name") == fn and m["name"] == "ingest.rows":
                for i in range(len(m["values"])):
                    if p.start + timedelta(minutes=i) >= w0 and m["values"][i] is not None:
                        m["values"][i] = 0
    v.post.append(patch)
    match = [x for x in v.domains if f"{x[0]}_{x[1]}" == src]
    if not match:
        match = [v.domains[0]]
    dom, _ = match[0]
    dag, task = f"{dom}_daily", f"dq_{dom}"
    ents = [rows, f"airflow:dag:{dag}"]
    tasks = []

    def dq(path, t0, host):
        sql = f"SELECT COUNT(*) FROM lakehouse.silver.{dom} WHERE dt = DATE '{v.logical.strftime('%Y-%m-%d')}'"
        err = (AIRFLOW_TB + "airflow.exceptions.AirflowException: Test failed.\nQuery:\n" + sql + "\nResults:\n(0,)")
        e = p.py_task(dag, v.rid, task, t0, rng.uniform(6, 15), host, 1, 0, err, path)
        p.tis[-1]["operator"] = "SparkConnectSqlCheckOperator"
        key = task_key(dag, v.rid, task)
        tasks.append(key)
        ents.append(key)
        return e, False
    v.overrides[dag] = {task: dq}
    v.distractors([w0, v.at("02:00")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.downstream(ents, {dag})
    v.incidents.append({"id": "empty-1", "start": z(w0), "severity": "high", "root_cause_any_of": [rows],
                        "entities": ents})
    v.summary.append(f"Lambda {fn} lands 0 rows of {src} from {z(w0)} without an error; {dag}.{task} fails.")
    return v.build()


def m_connect_certificate_expired(k):
    """The TLS certificate of the Spark Connect endpoint's load balancer expires (its renewal job had
    been failing): the port still accepts TCP connections, so a port probe sees it up, but every
    client handshake fails and every task submitting SQL through Connect fails until the
    certificate is replaced. Source: grpc/grpc#33110 and #32479 ("Handshake failed with fatal error
    SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED", surfaced
    to Python clients as StatusCode.UNAVAILABLE "failed to connect to all addresses"),
    gravitational/teleport-plugins#601 (gRPC clients failing to connect once a certificate expired),
    cert-manager docs (a failing renewal leaves the old certificate until it expires)."""
    v = Night("connect-certificate-expired", k)
    p, rng = v.p, v.rng
    expired = v.at("02:%02d:%02d" % (rng.randint(3, 12), rng.randint(0, 59)))
    fixed = expired + timedelta(minutes=rng.randint(25, 40))
    labels = {"service_name": "cert-manager", "level": "error"}
    t = expired - timedelta(hours=1, minutes=rng.randint(0, 30))
    while t < p.end:
        if t >= p.start:
            p.log(labels, t, f'E{t.strftime("%m%d %H:%M:%S")}.{rng.randint(100000, 999999)} 1 controller.go:167] '
                             '"re-queuing item due to error processing" err="failed to renew certificate spark-connect-tls: '
                             'acme: authorization error for spark-connect.internal: 403 urn:ietf:params:acme:error:unauthorized"')
        t += timedelta(minutes=rng.randint(10, 20))

    def why(n, h, eid):
        return ("pyspark.errors.exceptions.connect.SparkConnectGrpcException: <_MultiThreadedRendezvous of RPC that terminated with:\n"
                "\tstatus = StatusCode.UNAVAILABLE\n"
                f"\tdetails = \"failed to connect to all addresses; last error: UNKNOWN: ipv4:{p.driver_host}:15002: Ssl handshake failed: "
                "SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: certificate has expired\"")
    ep = f"spark:connect:{CONNECT}"
    inc, dags, tasks = shared_outage(v, rng.randint(3, 5), (expired + timedelta(seconds=5), fixed), why, ep,
                                     (stream_key(labels),), job=False, kind="tls")
    v.distractors([expired, fixed])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"The Spark Connect certificate expires at {z(expired)}, replaced at {z(fixed)}.")
    return v.build()


MODES = {
    "orphan-cleanup-deletes-live-files": m_orphan_cleanup_deletes_live_files,
    "worker-ebs-burst-exhausted": m_worker_ebs_burst_exhausted,
    "ingest-silently-empty": m_ingest_silently_empty,
    "connect-certificate-expired": m_connect_certificate_expired,
}


if __name__ == "__main__":
    held_out_main(__doc__, MODES)
