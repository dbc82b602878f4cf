#!/usr/bin/env python3
"""A sixth set of held-out failure modes (guardian-scenario/1), written by a hand that does not
change the correlator.

  python3 test/scenarios/held-out-modes-6.py --out DIR [--variants N]

None of these 8 is among the 55 modes of modes.py, novel-modes.py and the five earlier held-out
generators. They are scored on the code of the day they were written and once more at the end of
the session, never per mode in between, so their figures say how Guardian does on failures nobody
tuned it for. The rule that keeps them useful: never change Guardian while reading what it does on
these.

They spread over the classes issue 17 names and over the machine / data / external axes:

* a shared resource: the Airflow metadata database's storage fills and every state write fails
  (machine); a probe DAG that never closes its Spark Connect sessions runs the shared server out
  of file descriptors (a job's own behaviour on a shared resource, machine);
* one machine: a Celery worker's network interface exceeds its instance's packets-per-second
  allowance and the task processes on it lose their connections (machine);
* contention: a worker with a raised prefetch multiplier hoards nightly tasks behind long ones
  while the other workers idle (machine); a purge and its vacuum on a source database's primary
  cancel the long extracts on its hot-standby replica (external); a snapshot expiry set far too
  short deletes the files long readers are still scanning (data);
* absence: a DAG renamed by a deploy is created paused, its nightly run never exists, and the
  DAGs waiting on it time out (data);
* late evidence: a topic's retention shortened by a configuration change ages out the data the
  nightly readers have not consumed yet (data).

Each mode is a real incident class of this platform, its wording and causal chain cited beside
it. The platform simulation and the generic mechanics are modes.py's, generate.py's and the
earlier held-out generators', imported. Deterministic: the same command writes the same files.
Python standard library only.
"""
import importlib
import uuid
from datetime import timedelta

from generate import CONNECT, DRIVER_STACK, PYSPARK_TB, afts, daily_dags, run_id, sparkts, task_key, ts
from modes import held_out_main, AIRFLOW_TB, REGION, Night, stream_key, z

_h3 = importlib.import_module("held-out-modes-3")
_h4 = importlib.import_module("held-out-modes-4")
_h5 = importlib.import_module("held-out-modes-5")
wlog = _h5.wlog
failed_run_entities, by_source = _h3.failed_run_entities, _h3.by_source
SQL, CHECK = _h4.SQL, _h4.CHECK
gate_every_task, note, failed_try, sched_error, ti_repr = (_h4.gate_every_task, _h4.note, _h4.failed_try, _h4.sched_error,
                                                           _h4.ti_repr)


def retrying(v, dag, task, mt, attempt, tasks, ents, failed_dags):
    """A nightly task's override whose try `n` is `attempt(path, n, t, host)`: (end, True) when the try
    passes, (end, False) when it fails. A failed try is retried on the worker picked at its retry
    time, after the retry delay, until `mt` retries are spent (then its DAG's run fails)."""
    def run(path, t, host):
        n = 1
        while True:
            end, ok = attempt(path, n, t, host if n == 1 else v.p.pick_worker(t))
            if ok:
                return end, True
            retry = failed_try(v, dag, task, n, mt, end, tasks, ents, failed_dags)
            if retry is None:
                return end, False
            n, t = n + 1, retry
    return run


def grpc_error(details):
    """What a Spark Connect client prints when its RPC ends with UNAVAILABLE."""
    return (PYSPARK_TB + "pyspark.errors.exceptions.connect.SparkConnectGrpcException: <_MultiThreadedRendezvous of RPC that "
            f"terminated with:\n\tstatus = StatusCode.UNAVAILABLE\n\tdetails = \"{details}\"")


# =====================================================================================
# A shared resource: the Airflow metadata database's storage is full
# =====================================================================================
def m_metadb_storage_full(k):
    """The Airflow metadata database is a PostgreSQL RDS instance without storage autoscaling. Its
    free storage has been falling for days (the log and job tables are never cleaned) and reaches
    zero during the nightly batch. From then on every write fails: PostgreSQL logs "could not extend
    file ...: No space left on device" with "HINT: Check free disk space.", the API server's
    execution endpoints answer 500 to the task supervisors that try to mark a task running, so
    every try that starts in those minutes, in every DAG, fails before its work begins; the
    scheduler cannot record its own heartbeat and the health endpoint reports it unhealthy. An
    operator adds storage and the writes succeed again; retries after that pass. The cause is the
    database's storage (its free-storage metric and its log), not the tasks. Source:
    dokku/dokku-postgres#150 ("ERROR: could not extend file "base/16384/16492": No space left on
    device / HINT: Check free disk space." with the failing UPDATE), PostgresApp/PostgresApp#566
    (the same error in autovacuum, "could not write temporary statistics file"),
    dwyl/learn-postgresql#125, matrix-org/synapse#10594 (an application's transactions failing
    with "could not extend file ... No space left on device"), CityOfLosAngeles/aqueduct#113 (an
    Airflow DAG failing on "No space left on device", pointing at AWS's knowledge-center article
    "diskfull-error-rds-postgresql"), AWS RDS's FreeStorageSpace metric and its "Applying
    modification to allocated storage" event, Airflow's "Executor ... reported that the task
    instance ... finished with state failed" (apache/airflow#39717)."""
    v = Night("metadb-storage-full", k)
    p, rng = v.p, v.rng
    db = "airflow-metadb"
    full = v.at("02:%02d:%02d" % (rng.randint(2, 6), rng.randint(0, 59)))
    fixed = full + timedelta(minutes=rng.randint(16, 26), seconds=rng.randint(0, 59))
    gib = 1024 ** 3
    start_free = rng.uniform(1.6, 2.4) * gib
    res = {"service.name": "aws-rds", "cloud.region": REGION, "db.instance.id": db}

    def free(t):
        if t < full - timedelta(seconds=59):
            return int(start_free * (full - t) / (full - p.start) + rng.uniform(-4, 4) * 1024 ** 2)
        if t < fixed:
            return rng.randint(0, 3) * 1024 ** 2
        return int(rng.uniform(19.5, 20.5) * gib)
    fs = v.series(res, "aws.rds.free_storage_space", "gauge", "By", {}, free)
    pg = {"service_name": "postgresql", "host": db, "level": "error"}
    api = {"service_name": "airflow-api-server", "host": "airflow-api-server-0", "level": "error"}
    rds = {"service_name": "aws-rds-events", "db_instance": db, "level": "info"}
    rel = rng.randint(16390, 40000)

    def pglog(at, statement):
        pid = rng.randint(2000, 60000)
        p.log(pg, at, f"{at.strftime('%Y-%m-%d %H:%M:%S')} UTC:10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}"
                      f"({rng.randint(32768, 60999)}):airflow@airflow:[{pid}]:ERROR:  could not extend file \"base/16384/{rel}\": "
                      f"No space left on device\nHINT:  Check free disk space.\nSTATEMENT:  {statement}")
    t = full
    while t < fixed:  # the scheduler's own writes fail all along
        pglog(t, "UPDATE job SET latest_heartbeat=$1::TIMESTAMP WITH TIME ZONE WHERE job.id = $2")
        sched_error(p, t + timedelta(milliseconds=30), "scheduler_job_runner.py:1012",
                    "Exception when executing SchedulerJob._run_scheduler_loop\nTraceback (most recent call last):\n"
                    '  File "/home/airflow/.local/lib/python3.12/site-packages/sqlalchemy/engine/base.py", line 1967, in _exec_single_context\n'
                    "    self.dialect.do_execute(\n"
                    f"psycopg2.errors.DiskFull: could not extend file \"base/16384/{rel}\": No space left on device\n"
                    "HINT:  Check free disk space.")
        t += timedelta(seconds=rng.uniform(25, 40))
    p.log(rds, fixed - timedelta(minutes=4), f"DB instance {db}: Applying modification to allocated storage")
    p.log(rds, fixed, f"DB instance {db}: Finished applying modification to allocated storage")
    sched = {"service_name": "airflow-scheduler", "host": "airflow-scheduler-1", "level": "error"}
    ents, tasks, failed_dags = [fs, stream_key(pg), stream_key(api), stream_key(sched), "airflow:scheduler"], [], set()

    def refused(dag, task, n, mt, t, h, op):
        st = t + timedelta(seconds=rng.uniform(0.8, 2.5))
        end = st + timedelta(seconds=rng.uniform(0.3, 1.2))
        tid = uuid.UUID(int=rng.getrandbits(128))
        pglog(end - timedelta(milliseconds=120), "UPDATE task_instance SET state=%(state)s, start_date=%(start_date)s, hostname="
                                                 "%(hostname)s, pid=%(pid)s WHERE task_instance.id = %(id_1)s::UUID")
        p.log(api, end - timedelta(milliseconds=100),
              f"{wlog(end)} [error    ] Exception on PATCH /execution/task-instances/{tid}/run [airflow.api_fastapi]\n"
              "sqlalchemy.exc.OperationalError: (psycopg2.errors.DiskFull) could not extend file "
              f"\"base/16384/{rel}\": No space left on device\nHINT:  Check free disk space.\n"
              "[SQL: UPDATE task_instance SET state=%(state)s, start_date=%(start_date)s WHERE task_instance.id = %(id_1)s::UUID]")
        log = [f"[{afts(end)}] {{supervisor.py:709}} ERROR - Failed to start task ti_id={tid}\nTraceback (most recent call last):\n"
               '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/supervisor.py", line 702, in _on_child_started\n'
               "    ti_context = self.client.task_instances.start(ti.id, self.pid, start_date)\n"
               '  File "/home/airflow/.local/lib/python3.12/site-packages/httpx/_models.py", line 829, in raise_for_status\n'
               "    raise HTTPStatusError(message, request=request, response=self)\n"
               f"httpx.HTTPStatusError: Server error '500 Internal Server Error' for url "
               f"'http://airflow-api-server:8080/execution/task-instances/{tid}/run'"]
        p.ti(dag, v.rid, task, n, mt, t, st, end, "up_for_retry" if n <= mt else "failed", h, op, log=log)
        sched_error(p, end + timedelta(seconds=rng.uniform(1, 3)), "scheduler_job_runner.py:864",
                    f"Executor CeleryExecutor(parallelism=32) reported that the task instance {ti_repr(dag, v.rid, task, 'queued')} "
                    "finished with state failed, but the task instance's state attribute is queued. Learn more: "
                    "https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html#task-state-changed-externally")
        return end

    def gate(dag, task, table, op, mt):
        def attempt(path, n, t, h):
            if full <= t + timedelta(seconds=1) < fixed:
                return refused(dag, task, n, mt, t, h, op), False
            dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
            return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
        return retrying(v, dag, task, mt, attempt, tasks, ents, failed_dags)
    gate_every_task(v, gate)

    def unhealthy(sc):
        for h in sc["airflow"]["health"]:
            at = h["at"]
            if z(full + timedelta(seconds=30)) <= at < z(fixed):
                h["scheduler"] = "unhealthy"
                h["latest_scheduler_heartbeat"] = ts(full - timedelta(seconds=rng.uniform(1, 5)))
    v.post.append(unhealthy)
    v.distractors([full, fixed])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "metadb-1", "start": z(full), "severity": "critical",
                            "root_cause_any_of": [fs, stream_key(pg), f"host:{db}"], "entities": ents})
    v.summary.append(f"The metadata database {db} runs out of storage at {z(full)} until {z(fixed)}; {len(tasks)} tasks fail "
                     "to start and the scheduler cannot heartbeat.")
    return v.build()


# =====================================================================================
# One machine: a Celery worker exceeds its instance's packets-per-second allowance
# =====================================================================================
def m_worker_pps_allowance_exceeded(k):
    """A partner image-sync DAG is moved onto the Celery workers; on the worker that picks it up it
    opens hundreds of parallel small S3 transfers and the instance exceeds its network
    packets-per-second allowance: the ENA driver queues and drops packets (ethtool's
    pps_allowance_exceeded climbs), TCP connections of every process on that host stall and are
    reset. The Spark Connect clients of the other tasks running there lose their gRPC streams
    ("recvmsg:Connection reset by peer"), the Celery consumer loses the broker and reconnects, while
    the same tasks on the other workers are fine; retries elsewhere pass, tasks without retries
    fail. The cause is that host's network allowance (and the job driving it). Source:
    aws/network-flow-monitor-agent#55 ("pps_allowance_exceeded: The number of packets queued or
    dropped because the bidirectional PPS exceeded the maximum for the instance"),
    DataDog/integrations-core#19808 (the aws.ec2 ENA allowance metrics), open-guides/og-aws#699 and
    abatilo/ec2throughput.info#4 (EC2 packets-per-second limits, ethtool's pps_allowance_exceeded),
    chime/terraform-aws-alternat#108 ("We hit the instance's PPS limit and packets were dropped"),
    grpc's "recvmsg:Connection reset by peer" UNAVAILABLE details, Celery's "consumer: Connection to
    broker lost. Trying to re-establish the connection..."."""
    v = Night("worker-pps-allowance-exceeded", k)
    p, rng = v.p, v.rng
    w = rng.choice(p.airflow_workers)
    w0 = v.at("02:%02d:%02d" % (rng.randint(3, 8), rng.randint(0, 59)))
    w1 = w0 + timedelta(minutes=rng.randint(16, 26), seconds=rng.randint(0, 59))
    sdag, stask = "sync_partner_images", "sync_images_to_s3"
    spath = "partners/sync_partner_images.py"
    p.dag(sdag, f"{(w0 - timedelta(seconds=40)).minute} 2 * * *", ["partner", "media"], "data-eng", spath)
    slg = (w0 - timedelta(seconds=40)).replace(second=0, microsecond=0)
    srid = run_id(slg)
    sq = slg + timedelta(seconds=rng.uniform(0.5, 2))
    sst = w0 - timedelta(seconds=rng.uniform(5, 12))
    send = w1 - timedelta(seconds=rng.uniform(5, 20))
    n_obj = rng.randint(180_000, 420_000)
    p.ti(sdag, srid, stask, 1, 1, sq, sst, send, "success", w, "PythonOperator", pool="default_pool",
         log=[f"[{afts(sst + timedelta(milliseconds=300))}] {{dagbag.py:588}} INFO - Filling up the DagBag from /opt/airflow/dags/{spath}",
              f"[{afts(sst + timedelta(seconds=2))}] {{sync.py:48}} INFO - Syncing {n_obj} objects to s3://{p.landing}/partner-media/ "
              "with 512 threads",
              f"[{afts(send - timedelta(seconds=1))}] {{sync.py:77}} INFO - Synced {n_obj} objects "
              f"({rng.uniform(30, 80):.1f} GiB)"])
    p.run(sdag, srid, slg, sq - timedelta(seconds=0.3), sq, send + timedelta(seconds=1), "success")
    skey = task_key(sdag, srid, stask)
    res = {"service.name": "airflow-worker", "host.name": w}
    pps = v.series(res, "ethtool_pps_allowance_exceeded", "sum", "{packet}", {"interface": "ens5", "driver": "ena"},
                   lambda t: rng.randint(40_000, 260_000) if w0 - timedelta(seconds=30) <= t < w1 else 0)
    for x in p.airflow_workers:
        if x != w:
            v.series({"service.name": "airflow-worker", "host.name": x}, "ethtool_pps_allowance_exceeded", "sum", "{packet}",
                     {"interface": "ens5", "driver": "ena"}, lambda t: 0)
    err = {"service_name": "airflow-worker", "host": w, "level": "warning"}
    t = w0 + timedelta(seconds=rng.uniform(20, 60))
    while t < w1:
        p.log(err, t, f"{wlog(t)} [warning  ] consumer: Connection to broker lost. Trying to re-establish the connection... "
                      "[celery.worker.consumer.consumer]")
        t += timedelta(seconds=rng.uniform(90, 240))
    ents, tasks, failed_dags = [f"host:{w}", pps, skey, stream_key(err)], [], set()

    def gate(dag, task, table, op, mt):
        def attempt(path, n, t, h):
            dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
            st = t + timedelta(seconds=1.5)
            if h != w or st + timedelta(seconds=dur) < w0 or st >= w1 or rng.random() < 0.25:
                return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
            cut = max(st + timedelta(seconds=rng.uniform(5, 30)), w0 + timedelta(seconds=rng.uniform(10, 240)))
            if cut >= min(w1, st + timedelta(seconds=dur)):
                return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
            details = rng.choice(["recvmsg:Connection reset by peer", "Socket closed",
                                  f"keepalive watchdog timeout; last error: UNAVAILABLE: ipv4:{p.driver_host}:15002"])
            return p.sql_task(dag, v.rid, task, table, t, (cut - t).total_seconds() - 1.5, h, n, mt, path, fail=lambda sid: "",
                              job=False, final_log=grpc_error(details), operator=op), False
        return retrying(v, dag, task, mt, attempt, tasks, ents, failed_dags)
    gate_every_task(v, gate)
    v.distractors([w0, w1])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "pps-1", "start": z(w0), "severity": "high",
                            "root_cause_any_of": [f"host:{w}", pps, skey], "entities": ents})
    v.summary.append(f"Worker {w} exceeds its packets-per-second allowance from {z(w0)} to {z(w1)} (a partner image sync); "
                     f"{len(tasks)} tasks running there lose their connections.")
    return v.build()


# =====================================================================================
# Contention: a worker's prefetch hoards nightly tasks behind long ones
# =====================================================================================
def m_celery_prefetch_hoarding(k):
    """A worker deploy raises Celery's worker_prefetch_multiplier (to speed up short tasks) and one
    worker is restarted with it just before a weekly export, whose sixteen long mapped tasks all
    land on it and take every process slot for more than an hour. With the raised multiplier that
    worker keeps reserving the nightly tasks the scheduler sends: they are received
    ("Task execute_workload[...] received") but never start, while the other workers idle. After
    the scheduler's task_queued_timeout each one is marked failed while queued and goes to retry
    (another worker picks the retry up, late); tasks without retries fail. The cause is that
    worker's hoarding behind its long tasks. Source: apache/airflow#30615 (the Celery config's
    comment: "A value greater than 1 can result in tasks being unnecessarily blocked if there are
    multiple workers and one worker prefetches tasks that sit behind long running tasks while
    another worker has unutilized processes that are unable to process the already claimed blocked
    tasks"), apache/airflow#8695 (worker_prefetch_multiplier made configurable), apache/airflow#2503
    ("the task would get prefetched, so it might get stuck behind tasks that run for very long"),
    celery/celery#6500 and #3765 (tasks stuck as reserved behind long ones), saleor/saleor#16507
    ("short tasks can get stuck behind big, long ones"), apache/airflow#30375 (the scheduler fails
    tasks stuck in queued after task_queued_timeout: "Marking task instance ... stuck in queued as
    failed. If the task instance has available retries, it will be retried.") and
    apache/airflow#39717 / #41276 (tasks failing after being queued for the timeout)."""
    v = Night("celery-prefetch-hoarding", k)
    p, rng = v.p, v.rng
    w = rng.choice(p.airflow_workers)
    edag, etask = "weekly_partner_exports", "export_partner_feed"
    epath = "exports/weekly_partner_exports.py"
    elg = max(v.at("01:50"), p.start + timedelta(minutes=1)).replace(second=0, microsecond=0)
    p.dag(edag, f"{elg.minute} {elg.hour} * * 1", ["export", "weekly"], "data-eng", epath)
    erid = run_id(elg)
    eq = elg + timedelta(seconds=rng.uniform(0.5, 2))
    boot = eq - timedelta(minutes=rng.uniform(2, 4))
    p.aw_log(w, boot, f"{wlog(boot)} [info     ] celery@{w} ready. [celery.apps.worker]")
    p.aw_log(w, boot - timedelta(seconds=2), f"{wlog(boot)} [info     ] Connected to redis://:**@airflow-broker:6379/0 "
                                             "[celery.worker.consumer.connection]")
    slots = 16
    busy_until = []
    for i in range(slots):
        st = eq + timedelta(seconds=rng.uniform(0.5, 6))
        end = st + timedelta(minutes=rng.uniform(75, 110))
        row = p.ti(edag, erid, etask, 1, 1, eq, st, end if end < p.end else None, "success" if end < p.end else "running", w,
                   "PythonOperator", pool="default_pool",
                   log=[f"[{afts(st + timedelta(seconds=1))}] {{export.py:52}} INFO - Exporting partition {i} of the partner feed "
                        f"to sftp://partner-{i % 4}.example.net/inbound/"])
        row["map_index"] = i
        busy_until.append(end)
    p.run(edag, erid, elg, eq - timedelta(seconds=0.3), eq, None, "running")
    free_at = min(busy_until)
    timeout = 600
    hoard = eq + timedelta(seconds=30)
    prefetched, tasks, failed_dags = [], [], set()
    ents = [f"host:{w}", f"airflow:dag:{edag}",
            stream_key({"service_name": "airflow-scheduler", "host": "airflow-scheduler-1", "level": "warning"})]

    def gate(dag, task, table, op, mt):
        def run(path, t, host):
            n = 1
            while True:
                h = host if n == 1 else rng.choice([x for x in p.airflow_workers if x != w])
                dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
                if h != w or not hoard <= t < free_at - timedelta(seconds=timeout):
                    if h == w and hoard <= t:  # a slot frees up: it runs, late
                        t = max(t, free_at)
                    return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
                wid = uuid.UUID(int=rng.getrandbits(128))
                p.aw_log(w, t + timedelta(seconds=0.2), f"{wlog(t)} [info     ] Task execute_workload[{wid}] received "
                                                        "[celery.worker.strategy]")
                out = t + timedelta(seconds=timeout + rng.uniform(1, 20))
                prefetched.append((t, out))
                state = "up_for_retry" if n <= mt else "failed"
                row = p.ti(dag, v.rid, task, n, mt, t, out, out, state, None, op)
                row["start_date"] = None
                p.sched_log(out, f"[{afts(out)}] {{scheduler_job_runner.py:2418}} WARNING - Marking task instance "
                                 f"{ti_repr(dag, v.rid, task, 'queued')} stuck in queued as failed. If the task instance has "
                                 "available retries, it will be retried.", "warning")
                retry = failed_try(v, dag, task, n, mt, out, tasks, ents, failed_dags)
                if retry is None:
                    return out, False
                n, t = n + 1, retry
        return run
    gate_every_task(v, gate)
    orig = p.pick_worker

    def sticky(t):
        # with a large prefetch, the hoarding worker claims a larger share of what the scheduler sends
        x = orig(t)
        return w if hoard <= t < free_at and rng.random() < 0.35 else x
    v.distractors([hoard, hoard + timedelta(minutes=30)])
    p.pick_worker = sticky
    daily_dags(p, v.domains, v.logical, v.overrides)
    p.pick_worker = orig
    failed_run_entities(v, ents, sorted(failed_dags))
    pf = v.series({"service.name": "airflow-worker", "host.name": w}, "flower_worker_prefetched_tasks", "gauge", "{task}", {},
                  lambda t: sum(1 for a, b in prefetched if a <= t < b))
    for x in p.airflow_workers:
        if x != w:
            v.series({"service.name": "airflow-worker", "host.name": x}, "flower_worker_prefetched_tasks", "gauge", "{task}", {},
                     lambda t: 0)
    ents.insert(1, pf)

    def queued(sc):
        for m in sc["metrics"]:
            if m["name"] == "airflow.executor.queued_tasks":
                for i in range(len(m["values"])):
                    at = p.start + timedelta(minutes=i)
                    m["values"][i] += sum(1 for a, b in prefetched if a <= at < b)
    v.post.append(queued)
    if tasks:
        v.incidents.append({"id": "prefetch-1", "start": z(min(a for a, _ in prefetched)), "severity": "high",
                            "root_cause_any_of": [f"host:{w}", pf, f"airflow:dag:{edag}"], "entities": ents})
    v.summary.append(f"Worker {w} prefetches nightly tasks behind {edag}'s {slots} long tasks; {len(tasks)} tasks stay queued "
                     f"until task_queued_timeout.")
    return v.build()


# =====================================================================================
# Contention: a purge's vacuum on the primary cancels long extracts on the replica
# =====================================================================================
def m_replica_recovery_conflict(k):
    """The nightly extracts of a source application read from a hot-standby replica of its
    PostgreSQL database (hot_standby_feedback off, max_standby_streaming_delay 30 s). The
    application's retention job purges tens of millions of old rows on the primary shortly before
    the batch; the primary's autovacuum then removes them, and replaying that cleanup on the
    replica conflicts with every query whose snapshot could still see those rows: after 30 s the
    replica cancels them ("canceling statement due to conflict with recovery", "User query might
    have needed to see row versions that must be removed"). The long extracts of every DAG loading
    from that source fail while the vacuum replays; short ones and retries after it pass. The cause
    is the primary's cleanup replayed on the replica; its evidence is the replica's log and
    conflict counter, and the primary's autovacuum log. Source: onaio/onadata#906
    ("OperationalError: canceling statement due to conflict with recovery / DETAIL: User query
    might have needed to see row versions that must be removed", read replica),
    near/near-indexer-for-explorer#134 (the same, "some queries I submit are frequently canceled"),
    hiero-ledger/hiero-mirror-node#11928 (the fix: hot_standby_feedback or
    max_standby_streaming_delay), PostgreSQL docs "Hot Standby: Handling Query Conflicts" and
    pg_stat_database_conflicts.confl_snapshot, the autovacuum log "automatic vacuum of table ...
    tuples: N removed"."""
    v = Night("replica-recovery-conflict", k)
    p, rng = v.p, v.rng
    src, doms = by_source(v)
    primary, replica = f"{src}-db", f"{src}-db-replica-1"
    table = rng.choice(["stock_movements", "audit_events", "order_lines", "ledger_entries", "sessions"])
    purge = v.at("01:%02d:%02d" % (rng.randint(52, 57), rng.randint(0, 59)))
    if purge < p.start:
        purge = p.start + timedelta(seconds=rng.uniform(20, 60))
    vac0 = v.at("02:%02d:%02d" % (rng.randint(1, 4), rng.randint(0, 59)))
    vac1 = vac0 + timedelta(minutes=rng.randint(16, 28), seconds=rng.randint(0, 59))
    removed = rng.randint(18_000_000, 60_000_000)
    pgp = {"service_name": "postgresql", "host": primary, "level": "info"}
    pgr = {"service_name": "postgresql", "host": replica, "level": "error"}

    def stamp(at):
        return at.strftime("%Y-%m-%d %H:%M:%S UTC")
    p.log(pgp, purge, f"{stamp(purge)}:10.0.4.{rng.randint(10, 250)}({rng.randint(32768, 60999)}):app_jobs@{src}:[{rng.randint(2000, 60000)}]:"
                      f"LOG:  duration: {rng.uniform(200_000, 400_000):.3f} ms  statement: DELETE FROM public.{table} WHERE created_at < "
                      f"now() - interval '400 days'")
    p.log(pgp, vac1, f"{stamp(vac1)}::@:[{rng.randint(2000, 60000)}]:LOG:  automatic vacuum of table \"{src}.public.{table}\": index scans: 1\n"
                     f"\tpages: 0 removed, {rng.randint(3_000_000, 9_000_000)} remain, {rng.randint(900_000, 2_000_000)} scanned\n"
                     f"\ttuples: {removed} removed, {rng.randint(40_000_000, 90_000_000)} remain, 0 are dead but not yet removable\n"
                     f"\tsystem usage: CPU: user: {rng.uniform(200, 500):.2f} s, system: {rng.uniform(20, 80):.2f} s, elapsed: "
                     f"{(vac1 - vac0).total_seconds():.2f} s")
    conflicts = []  # times a query was cancelled

    def cancel(at, user):
        conflicts.append(at)
        p.log(pgr, at, f"{stamp(at)}:10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}({rng.randint(32768, 60999)}):{user}@{src}:"
                       f"[{rng.randint(2000, 60000)}]:ERROR:  canceling statement due to conflict with recovery\n"
                       "DETAIL:  User query might have needed to see row versions that must be removed.")
    # the application's own reporting reads from the replica too
    t = vac0 + timedelta(seconds=rng.uniform(30, 90))
    while t < vac1:
        if rng.random() < 0.5:
            cancel(t, "reporting")
        t += timedelta(seconds=rng.uniform(60, 180))
    ents, tasks, failed_dags = [stream_key(pgr), f"host:{replica}", stream_key(pgp)], [], set()
    for dom in doms:
        dag, task = f"{dom}_daily", f"bronze_{dom}_{src}"

        def attempt(path, n, t, h, dag=dag, task=task, dom=dom):
            mt = 2
            dur = rng.uniform(240, 700)
            st = t + timedelta(seconds=1.5)
            hit = max(st + timedelta(seconds=35), vac0 + timedelta(seconds=rng.uniform(30, 60)))
            if not (hit < st + timedelta(seconds=dur) and hit < vac1):
                return p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", t, dur, h, n, mt, path), True
            cancel(hit - timedelta(seconds=0.4), "etl_reader")
            why = ("org.postgresql.util.PSQLException: ERROR: canceling statement due to conflict with recovery\n"
                   "  Detail: User query might have needed to see row versions that must be removed.")
            host_ip = rng.choice(list(p.workers))
            eid = rng.choice(p.exec_by_host[host_ip])["id"]
            end = p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", t, (hit - t).total_seconds() + 0.5, h, n, mt, path,
                             fail=lambda sid: p.lost_task(sid, host_ip, eid, why) + DRIVER_STACK)
            job = p.jobs[-1]
            ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
            return end, False
        v.overrides[dag] = {task: retrying(v, dag, task, 2, attempt, tasks, ents, failed_dags)}

    def per_minute(t):
        return sum(1 for c in conflicts if t <= c < t + timedelta(minutes=1))
    v.distractors([vac0, vac1])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    conf = v.series({"service.name": "postgresql", "host.name": replica}, "pg_stat_database_conflicts_confl_snapshot", "sum",
                    "{query}", {"datname": src}, per_minute)
    ents.insert(1, conf)
    if tasks:
        v.incidents.append({"id": "replica-1", "start": z(vac0), "severity": "high",
                            "root_cause_any_of": [conf, stream_key(pgr), f"host:{replica}", stream_key(pgp), f"host:{primary}"],
                            "entities": ents})
    v.summary.append(f"A purge of {src}.{table} and its vacuum replayed on {replica} cancel long extracts from {z(vac0)} to "
                     f"{z(vac1)}; {len(tasks)} extracts fail.")
    return v.build()


# =====================================================================================
# Contention, a job's own behaviour: snapshot expiry deletes files long readers still scan
# =====================================================================================
def m_snapshot_expiry_under_readers(k):
    """The lakehouse maintenance DAG expires old snapshots of the silver tables. A change meant to
    cut storage costs sets its expire_snapshots to keep only the last snapshot, older than ten
    minutes, and it runs in the middle of the nightly batch. The nightly MERGE into a silver table
    has just replaced most of its data files; the gold jobs of other DAGs that join that table
    planned their scans on the previous snapshot and are still reading it when the expiry removes
    that snapshot and deletes the files only it referenced. Their executors fail on "Location does
    not exist" for data files, and the jobs abort; their retries read the new snapshot and pass,
    readers without retries fail. The cause is the maintenance task's expiry (its own log and the
    driver's RemoveSnapshots lines), not the readers. Source: apache/iceberg#9327 (a daily MERGE
    followed by expire_snapshots / remove_orphan_files, then "java.io.FileNotFoundException: File
    does not exist: .../data/..."), apache/iceberg#8994 (expiring with expireOlderThan(now) while
    a writer runs: "File does not exist", reads fail), apache/iceberg#7007 (a query whose data
    files were deleted under it), apache/iceberg#11695 (RemoveSnapshots' "Expiring snapshots older
    than: ...", "Committed snapshot changes", "Cleaning up expired files (local, incremental)"),
    apache/iceberg#9618 ("org.apache.iceberg.exceptions.NotFoundException: Location does not
    exist: s3://..."), Iceberg's maintenance docs (expire snapshots no longer needed by readers)."""
    v = Night("snapshot-expiry-under-readers", k)
    p, rng = v.p, v.rng
    dom, src = rng.choice(v.domains)
    table = f"silver.{dom}"
    others = [d for d, _ in v.domains if d != dom]
    readers = rng.sample(others, rng.randint(3, 4))
    mdag, mpath = "lakehouse_maintenance", "ops/lakehouse_maintenance.py"
    mlg = v.at("02:%02d" % rng.choice([10, 12, 15]))
    p.dag(mdag, f"{mlg.minute} 2 * * *", ["ops", "maintenance"], "platform", mpath)
    mrid = run_id(mlg)
    mq = mlg + timedelta(seconds=rng.uniform(0.5, 2))
    mst = mq + timedelta(seconds=rng.uniform(0.8, 2))
    expired = mst + timedelta(seconds=rng.uniform(8, 20))
    mend = expired + timedelta(seconds=rng.uniform(20, 60))
    stmt = (f"CALL lakehouse.system.expire_snapshots(table => '{table}', older_than => TIMESTAMP "
            f"'{(mst - timedelta(minutes=10)).strftime('%Y-%m-%d %H:%M:%S')}', retain_last => 1)")
    deleted = rng.randint(900, 4000)
    log = p.spark_task_logs(mdag, f"expire_{dom}_snapshots", mrid, mst, [(stmt, (mend - mst).total_seconds() - 3)], mpath)
    log.insert(-1, f"[{afts(mend - timedelta(seconds=2))}] {{spark_sql.py:109}} INFO - Result: deleted_data_files_count={deleted}, "
                   f"deleted_manifest_files_count={rng.randint(40, 300)}, deleted_manifest_lists_count={rng.randint(2, 9)}")
    p.spark_job(mdag, f"expire_{dom}_snapshots", mrid, mst + timedelta(seconds=2.6), mend - timedelta(seconds=0.5), nstages=2)
    mjob = p.jobs[-1]
    p.ti(mdag, mrid, f"expire_{dom}_snapshots", 1, 1, mq, mst, mend, "success", p.pick_worker(mq), SQL, log=log)
    e2 = p.sql_task(mdag, mrid, f"rewrite_{dom}_manifests", table, mend + timedelta(seconds=1), rng.uniform(30, 90), p.pick_worker(mend),
                    1, 1, mpath)
    p.run(mdag, mrid, mlg, mq - timedelta(seconds=0.3), mq, e2 + timedelta(seconds=1), "success")
    at = expired - timedelta(seconds=3)
    p.driver_log(at, f"{sparkts(at)} INFO RemoveSnapshots: Expiring snapshots older than: "
                     f"{(mst - timedelta(minutes=10)).strftime('%Y-%m-%dT%H:%M:%S')}.000+00:00 ({int((mst - timedelta(minutes=10)).timestamp() * 1000)})")
    p.driver_log(expired, f"{sparkts(expired)} INFO RemoveSnapshots: Committed snapshot changes")
    p.driver_log(expired + timedelta(milliseconds=40), f"{sparkts(expired)} INFO RemoveSnapshots: Cleaning up expired files (local, incremental)")
    p.driver_log(expired + timedelta(seconds=1), f"{sparkts(expired)} INFO IncrementalFileCleanup: Expired snapshot: BaseSnapshot{{id="
                                                 f"{rng.getrandbits(62)}, timestamp_ms={int((v.logical - timedelta(days=1)).timestamp() * 1000)}, "
                                                 "operation=overwrite}")
    mkey = task_key(mdag, mrid, f"expire_{dom}_snapshots")
    ents, tasks, failed_dags = [mkey, f"airflow:dag:{mdag}", f"spark:job:{p.app_id}/{mjob['jobId']}"], [], set()
    gone = f"s3://{p.lake}/warehouse/silver/{dom}/data/updated_at_day={(v.logical - timedelta(days=1)).strftime('%Y-%m-%d')}"

    def reader(rdom, mt):
        rdag, rtask, rtable = f"{rdom}_daily", f"gold_{rdom}_daily", f"gold.{rdom}_daily"

        def attempt(path, n, t, h):
            st = t + timedelta(seconds=1.5)
            dur = rng.uniform(600, 1100)  # a wide join over the silver table
            if not (st < expired - timedelta(seconds=20) and st + timedelta(seconds=dur) > expired + timedelta(seconds=5)):
                return p.sql_task(rdag, v.rid, rtask, rtable, t, dur, h, n, mt, path), True
            hit = expired + timedelta(seconds=rng.uniform(5, 90))
            f = f"{gone}/{rng.randint(0, 199):05d}-{rng.randint(1, 9)}-{uuid.UUID(int=rng.getrandbits(128))}-00001.parquet"
            why = (f"org.apache.iceberg.exceptions.NotFoundException: Location does not exist: {f}\n"
                   "\tat org.apache.iceberg.aws.s3.S3InputStream.openStream(S3InputStream.java:251)")
            sh = rng.choice(list(p.workers))
            eid = rng.choice(p.exec_by_host[sh])["id"]
            end = p.sql_task(rdag, v.rid, rtask, rtable, t, (hit - t).total_seconds(), h, n, mt, path,
                             fail=lambda sid: p.lost_task(sid, sh, eid, why) + DRIVER_STACK)
            job = p.jobs[-1]
            lost = p.stages[-1]["failureReason"].split("most recent failure: ")[1].split("\n")[0]
            p.driver_log(end - timedelta(milliseconds=80), f"{sparkts(end)} WARN TaskSetManager: {lost}", "warn")
            ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
            return end, False
        return retrying(v, rdag, rtask, mt, attempt, tasks, ents, failed_dags)
    for rdom in readers:
        # the gold step starts when its own silver is done: make it start before the expiry and run long
        v.overrides.setdefault(f"{rdom}_daily", {})[f"gold_{rdom}_daily"] = reader(rdom, rng.choice([0, 1, 2]))
    orig = p.sql_task

    def early(dag_id, rid, task_id, tbl, t0, dur_s, host, try_number=1, max_tries=2, path="", fail=None, **kw):
        # the readers' earlier steps are short tonight, so their gold joins overlap the expiry
        if dag_id in {f"{r}_daily" for r in readers} and rid == v.rid and fail is None and not task_id.startswith("gold_"):
            dur_s = min(dur_s, rng.uniform(40, 110) if kw.get("operator") != CHECK else dur_s)
        return orig(dag_id, rid, task_id, tbl, t0, dur_s, host, try_number, max_tries, path, fail, **kw)
    p.sql_task = early
    v.distractors([expired, expired + timedelta(minutes=15)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    p.sql_task = orig
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "expiry-1", "start": z(expired), "severity": "high",
                            "root_cause_any_of": [mkey, f"airflow:dag:{mdag}", f"spark:job:{p.app_id}/{mjob['jobId']}"],
                            "entities": ents})
    v.summary.append(f"{mdag} expires {table}'s previous snapshot at {z(expired)} while {len(tasks)} gold joins still read it.")
    return v.build()


# =====================================================================================
# Absence: a renamed DAG is created paused; the DAGs waiting on it time out
# =====================================================================================
def m_renamed_dag_created_paused(k):
    """A deploy shortly before the batch renames one pipeline's DAG (a "_v2" suffix added in its
    file). The DAG processor deactivates the old dag_id, whose file no longer defines it, and
    creates the new one paused, as dags_are_paused_at_creation (true by default) says: neither has a
    02:00 run, and nothing fails or is logged as an error. The nightly DAGs that wait for that
    pipeline's gold table with an ExternalTaskSensor on the old dag_id poke in vain until their
    timeout, fail with AirflowSensorTimeout, and their gold steps never run. The cause is the
    paused new DAG (the missing run), its only evidence the DAG list and the processor's log.
    Source: apache/airflow#30615 ("dags_are_paused_at_creation ... new dag task status is still
    not ON"), apache/airflow#1264 and mozilla/telemetry-airflow#57 (new DAGs paused at creation by
    default), gestaogovbr/Ro-dou#338 (is_paused_upon_creation only applies when the DAG is first
    created), astronomer/agents#124 ("paused DAGs accept triggers but never execute"),
    apache/airflow#49122 ("Poking for tasks [...] in dag ... on ..." then "AirflowSensorTimeout:
    Sensor has timed out; run duration of N seconds exceeds the specified timeout of N.") and
    apache/airflow#34497 (an ExternalTaskSensor on a DAG that does not exist keeps poking)."""
    v = Night("renamed-dag-created-paused", k)
    p, rng = v.p, v.rng
    dom, _ = rng.choice(v.domains)
    old, new = f"{dom}_daily", f"{dom}_daily_v2"
    path = f"pipelines/{old}.py"
    deploy = v.at("01:%02d:%02d" % (rng.randint(50, 57), rng.randint(0, 59)))
    if deploy < p.start:
        deploy = p.start + timedelta(seconds=rng.uniform(20, 60))
    v.domains = [(d, s) for d, s in v.domains if d != dom]
    p.dag(old, "0 2 * * *", ["bronze", "silver", "gold", dom], "data-eng", path)
    p.dag(new, "0 2 * * *", ["bronze", "silver", "gold", dom], "data-eng", path)
    proc = {"service_name": "airflow-dag-processor", "host": "airflow-dag-processor-0", "level": "info"}
    p.log(proc, deploy, f"[{afts(deploy)}] {{manager.py:903}} INFO - DAG {old} is missing and will be deactivated.")
    p.log(proc, deploy + timedelta(milliseconds=20), f"[{afts(deploy)}] {{manager.py:913}} INFO - Deactivated 1 DAGs which are no "
                                                     "longer present in file.")
    p.log(proc, deploy + timedelta(seconds=2), f"[{afts(deploy + timedelta(seconds=2))}] {{collection.py:486}} INFO - Creating ORM DAG for "
                                               f"{new}")
    waiters = rng.sample([d for d, _ in v.domains], rng.randint(3, 4))
    ents, tasks, failed_dags = [f"airflow:dag:{new}", f"airflow:dag:{old}", stream_key(proc)], [], set()
    limits = {wdom: rng.choice([1800, 2700, 3600]) for wdom in waiters}  # the sensors' timeouts

    def sensor(wdom, sdom):
        wdag = f"{wdom}_daily"
        sname = f"wait_for_{sdom}_gold"

        def run(path_, t, host):
            # the gold step first waits for the other pipeline's gold table
            st = t + timedelta(seconds=rng.uniform(0.8, 2.5))
            limit = limits[wdom]
            out = st + timedelta(seconds=limit + rng.uniform(0.2, 1.5))
            if out + timedelta(seconds=5) > p.end:
                p.ti(wdag, v.rid, sname, 1, 0, t, st, None, "running", host, "ExternalTaskSensor", pool="default_pool",
                     log=[f"[{afts(st + timedelta(seconds=1))}] {{external_task.py:251}} INFO - Poking for tasks ['gold_{sdom}_daily'] "
                          f"in dag {old} on {v.logical.strftime('%Y-%m-%dT%H:%M:%S')}+00:00 ... "])
                note(task_key(wdag, v.rid, sname), tasks, ents)
                return p.end + timedelta(hours=1), None
            log = [f"[{afts(st + timedelta(seconds=1 + 60 * i))}] {{external_task.py:251}} INFO - Poking for tasks ['gold_{sdom}_daily'] "
                   f"in dag {old} on {v.logical.strftime('%Y-%m-%dT%H:%M:%S')}+00:00 ... " for i in range(0, limit // 60, 5)]
            log.append(f"[{afts(out)}] {{task_runner.py:1084}} ERROR - " + AIRFLOW_TB
                       + '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/bases/sensor.py", line 244, in execute\n'
                         "    raise AirflowSensorTimeout(message)\n"
                         f"airflow.exceptions.AirflowSensorTimeout: Sensor has timed out; run duration of {(out - st).total_seconds():.4f} "
                         f"seconds exceeds the specified timeout of {float(limit)}.")
            p.ti(wdag, v.rid, sname, 1, 0, t, st, out, "failed", host, "ExternalTaskSensor", pool="default_pool", log=log)
            note(task_key(wdag, v.rid, sname), tasks, ents)
            failed_dags.add(wdag)
            return out, False
        return run
    running = []

    def gold_after_sensor(wdom):
        wdag, gtask = f"{wdom}_daily", f"gold_{wdom}_daily"
        run_sensor = sensor(wdom, dom)

        def run(path_, t, host):
            end, ok = run_sensor(path_, t, host)
            if ok is None:  # still waiting when the night's data ends: the gold step has not run
                running.append(wdag)
                return end, False
            p.skipped(wdag, v.rid, gtask, end + timedelta(milliseconds=rng.randint(300, 1500)), 2)
            return end, False
        return run
    for wdom in waiters:
        v.overrides.setdefault(f"{wdom}_daily", {})[f"gold_{wdom}_daily"] = gold_after_sensor(wdom)
    v.distractors([v.logical, v.logical + timedelta(minutes=45)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    for r in p.runs:  # a run whose sensor still waits is running, not failed
        if r["dag_id"] in running and r["dag_run_id"] == v.rid:
            r.update({"end_date": None, "state": "running"})
    failed_run_entities(v, ents, sorted(failed_dags))

    def paused(sc):
        for d in sc["airflow"]["dags"]:
            if d["dag_id"] == new:
                d["is_paused"] = True
            if d["dag_id"] == old:
                d["is_active"] = False
    v.post.append(paused)
    v.incidents.append({"id": "paused-1", "start": z(v.logical), "severity": "high",
                        "root_cause_any_of": [f"airflow:dag:{new}", f"airflow:dag:{old}"], "entities": ents})
    v.summary.append(f"A deploy renames {old} to {new} at {z(deploy)}; the new DAG is created paused, no 02:00 run exists, "
                     f"{len(tasks)} sensors wait for it in vain.")
    return v.build()


# =====================================================================================
# Late evidence: a topic's retention shortened; the nightly readers find their data aged out
# =====================================================================================
def m_topic_retention_shortened(k):
    """The event topics on the shared Kafka cluster keep seven days. A platform change meant for the
    staging cluster sets retention.ms to one hour on one production topic shortly before the
    batch; the broker applies the override at once and its retention check deletes every segment
    whose newest record is older than an hour. The nightly bronze loads of the DAGs that read that
    topic (Spark batch reads from the offsets they committed a day earlier) then ask for offsets
    that no longer exist and fail ("Cannot fetch offset ... Some data may have been lost because
    they are not available in Kafka any more"), on every retry: the day's data is gone. Nothing
    else fails; the cause's evidence (the override and the deletions in the broker's log, the
    topic's size falling) comes before the first failure. Source: byzer-org/byzer-lang#1242 and
    mozilla/telemetry-streaming#25 ("java.lang.IllegalStateException: Cannot fetch offset N
    (GroupId: ..., TopicPartition: ...). Some data may have been lost because they are not available
    in Kafka any more; either the data was aged out by Kafka or the topic may have been deleted
    before all the data in the topic was processed. If you don't want your streaming query to fail
    on such cases, set the source option "failOnDataLoss" to "false"."), apache/spark#24932
    (failOnDataLoss applies to batch queries), redpanda-data/redpanda#8853 (consumers offline
    longer than retention.ms lose data), apache/kafka#8850 / KAFKA-10141 (the broker's "Deleting
    segment ... due to retention time ...ms breach" lines), strimzi/strimzi.github.io#269 (the
    retention check every log.retention.check.interval.ms)."""
    v = Night("topic-retention-shortened", k)
    p, rng = v.p, v.rng
    topic = rng.choice(["clickstream", "app-events", "device-telemetry", "order-events", "cart-events"])
    readers = rng.sample(v.domains, rng.randint(2, 3))
    change = p.start + timedelta(minutes=rng.uniform(1, 6))
    broker = "kafka-broker-1"
    info = {"service_name": "kafka", "host": broker, "level": "info"}
    p.log(info, change, f"[{change.strftime('%Y-%m-%d %H:%M:%S,')}{change.microsecond // 1000:03d}] INFO Processing override for "
                        f"entityPath: topics/{topic} with config: HashMap(retention.ms -> 3600000) (kafka.server.ConfigAdminManager)")
    check = change + timedelta(seconds=rng.uniform(30, 290))  # the next retention check
    parts = rng.choice([6, 12])
    deleted_from = {}
    for i in range(parts):
        at = check + timedelta(milliseconds=rng.randint(5, 900))
        base = rng.randint(40_000_000, 90_000_000)
        deleted_from[i] = base + rng.randint(2_000_000, 4_000_000)
        p.log(info, at, f"[{at.strftime('%Y-%m-%d %H:%M:%S,')}{at.microsecond // 1000:03d}] INFO [UnifiedLog partition={topic}-{i}, "
                        f"dir=/var/lib/kafka/data] Deleting segment LogSegment(baseOffset={base}, size={rng.randint(900, 1073) * 1048576}, "
                        f"lastModifiedTime={int((at - timedelta(hours=rng.uniform(1.2, 20))).timestamp() * 1000)}, largestRecordTimestamp="
                        f"Some({int((at - timedelta(hours=rng.uniform(1.2, 20))).timestamp() * 1000)})) due to retention time 3600000ms "
                        "breach based on the largest record timestamp in the segment (kafka.log.UnifiedLog)")
    res = {"service.name": "kafka", "host.name": broker}
    size0 = rng.uniform(300, 700) * 1024 ** 3
    size = v.series(res, "kafka.log.size", "gauge", "By", {"topic": topic},
                    lambda t: int(size0 * (1 + 0.0002 * (t - p.start).total_seconds() / 60) if t < check - timedelta(seconds=59) else
                                  size0 / 160 * (1 + rng.uniform(-0.05, 0.05))))
    ents, tasks, failed_dags = [stream_key(info), size], [], set()
    for dom, src in readers:
        dag, task = f"{dom}_daily", f"bronze_{dom}_{src}"
        group = f"spark-kafka-relation-{uuid.UUID(int=rng.getrandbits(128))}-executor"

        def load(path, t, host, dag=dag, task=task, dom=dom, src=src, group=group):
            mt = 1
            for n in range(1, mt + 2):
                h = host if n == 1 else p.pick_worker(t)
                part = rng.randrange(parts)
                off = deleted_from[part] - rng.randint(1_000_000, 1_900_000)
                why = (f"java.lang.IllegalStateException: Cannot fetch offset {off} (GroupId: {group}, TopicPartition: {topic}-{part}). \n"
                       "Some data may have been lost because they are not available in Kafka any more; either the\n"
                       " data was aged out by Kafka or the topic may have been deleted before all the data in the\n"
                       " topic was processed. If you don't want your streaming query to fail on such cases, set the\n"
                       " source option \"failOnDataLoss\" to \"false\".")
                sh = rng.choice(list(p.workers))
                eid = rng.choice(p.exec_by_host[sh])["id"]
                end = p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", t, rng.uniform(8, 25), h, n, mt, path,
                                 fail=lambda sid: p.lost_task(sid, sh, eid, why) + DRIVER_STACK)
                job = p.jobs[-1]
                ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
                note(task_key(dag, v.rid, task), tasks, ents)
                t = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))
            failed_dags.add(dag)
            return end, False
        v.overrides[dag] = {task: load}
    v.distractors([check, v.logical + timedelta(minutes=15)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    v.incidents.append({"id": "retention-1", "start": z(check), "severity": "high",
                        "root_cause_any_of": [stream_key(info), size, f"host:{broker}"], "entities": ents})
    v.summary.append(f"Topic {topic}'s retention is set to one hour at {z(change)}; the broker deletes its unread data and "
                     f"{len(tasks)} nightly loads fail for good.")
    return v.build()


# =====================================================================================
# A job's own behaviour on a shared resource: leaked sessions exhaust the Connect server's fds
# =====================================================================================
def m_connect_session_fd_leak(k):
    """A data-freshness probe DAG runs every five minutes and opens a new Spark Connect session on
    each run without ever stopping it. Each abandoned session keeps its gRPC channel, its artifact
    directory and its state open on the server, so the server's open file descriptors climb all
    day and reach the process limit during the nightly batch. From then on the server cannot
    accept connections ("Too many open files") and new statements of every DAG fail with gRPC
    UNAVAILABLE, until the server's idle-session timeout closes a batch of the abandoned sessions and
    descriptors free up. The probe is the cause; its evidence is the server's descriptor count,
    climbing long before the first failure, and the server's log. Source: spark-jobserver/
    spark-jobserver#55 ("Accept error: could not accept new connection java.io.IOException: Too
    many open files"), risingwavelabs/risingwave#9074 ("Failed accept4: Too many open files" in a
    gRPC server; "Probably there is leak of connections"), treeverse/lakeFS#5545 (a Spark job
    leaking descriptors: "java.io.IOException: Too many open files"), apache/spark#623 /
    SPARK-1700 ("sockets do not build up over the course of a job"), vertica/spark-connector#314
    (sessions left open until the client exits), Spark Connect's session manager
    (spark.connect.session.manager.defaultSessionTimeout: idle sessions closed) and the
    process.open_file_descriptors metric."""
    v = Night("connect-session-fd-leak", k)
    p, rng = v.p, v.rng
    pdag, ptask, ppath = "freshness_probe", "probe_freshness", "ops/freshness_probe.py"
    p.dag(pdag, "*/5 * * * *", ["ops", "monitoring"], "analytics-eng", ppath)
    limit = 65536
    full = v.at("02:%02d:%02d" % (rng.randint(3, 8), rng.randint(0, 59)))
    freed = full + timedelta(minutes=rng.randint(14, 24), seconds=rng.randint(0, 59))
    base = rng.randint(2400, 4000)
    # the climb began yesterday; by the start of the data it is well on the way
    at_start = int(limit * rng.uniform(0.78, 0.86))

    def fds(t):
        if t < full - timedelta(seconds=59):
            return int(at_start + (limit - 40 - at_start) * (t - p.start) / (full - p.start)) + rng.randint(-30, 30)
        if t < freed:
            return limit - rng.randint(0, 6)
        return int(limit * rng.uniform(0.5, 0.58))
    conn_res = {"service.name": "spark-connect", "host.name": p.driver_host}
    fdkey = v.series(conn_res, "process.open_file_descriptors", "gauge", "{file_descriptor}", {}, fds)
    v.series(conn_res, "process.max_file_descriptors", "gauge", "{file_descriptor}", {}, lambda t: limit)
    err = {"service_name": "spark-driver", "host": p.driver_host, "level": "error"}
    t = full
    while t < freed:
        p.log(err, t, f"{sparkts(t)} WARN DefaultChannelPipeline: An exceptionCaught() event was fired, and it reached at the tail of "
                      "the pipeline. It usually means the last handler in the pipeline did not handle the exception.\n"
                      "java.io.IOException: Too many open files\n\tat java.base/sun.nio.ch.Net.accept(Native Method)\n"
                      "\tat java.base/sun.nio.ch.ServerSocketChannelImpl.implAccept(ServerSocketChannelImpl.java:425)")
        t += timedelta(seconds=rng.uniform(5, 25))
    p.driver_log(freed - timedelta(seconds=2), f"{sparkts(freed)} INFO SparkConnectSessionManager: Closing {rng.randint(1800, 2600)} "
                                               "sessions idle for more than 3600000 ms")
    # the probe's runs: each opens a session and leaves it open
    ents, tasks, failed_dags = [fdkey, f"airflow:dag:{pdag}", stream_key(err)], [], set()
    lg = p.start.replace(minute=(p.start.minute // 5) * 5, second=0, microsecond=0) + timedelta(minutes=5)
    while lg + timedelta(minutes=2) <= p.end:
        rid = run_id(lg)
        q = lg + timedelta(seconds=rng.uniform(0.5, 2))
        st = q + timedelta(seconds=rng.uniform(0.8, 2))
        session = uuid.UUID(int=rng.getrandbits(128))
        h = p.pick_worker(q)
        if full <= st < freed:
            end = st + timedelta(seconds=rng.uniform(2.5, 4))
            p.ti(pdag, rid, ptask, 1, 0, q, st, end, "failed", h, "PythonOperator", pool="default_pool",
                 log=[f"[{afts(st + timedelta(seconds=1))}] {{probe.py:21}} INFO - Opening Spark Connect session to {CONNECT}",
                      f"[{afts(end - timedelta(milliseconds=30))}] {{task_runner.py:1084}} ERROR - "
                      + grpc_error(f"failed to connect to all addresses; last error: UNAVAILABLE: ipv4:{p.driver_host}:15002: Socket closed")])
            p.run(pdag, rid, lg, q - timedelta(seconds=0.3), q, end + timedelta(seconds=1), "failed")
            key = task_key(pdag, rid, ptask)
            tasks.append(key)
            ents.extend([key, f"airflow:dagrun:{pdag}/{rid}"])
        else:
            end = st + timedelta(seconds=rng.uniform(4, 9))
            p.ti(pdag, rid, ptask, 1, 0, q, st, end, "success", h, "PythonOperator", pool="default_pool",
                 log=[f"[{afts(st + timedelta(seconds=1))}] {{probe.py:21}} INFO - Opening Spark Connect session to {CONNECT}",
                      f"[{afts(st + timedelta(seconds=2))}] {{probe.py:30}} INFO - Session {session}: max(updated_at) of "
                      f"{rng.randint(12, 14)} tables read; all fresh"])
            p.run(pdag, rid, lg, q - timedelta(seconds=0.3), q, end + timedelta(seconds=1), "success")
        lg += timedelta(minutes=5)

    def gate(dag, task, table, op, mt):
        def attempt(path, n, t, h):
            st = t + timedelta(seconds=1.5)
            dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
            if not full <= st < freed or rng.random() < 0.15:
                return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
            return p.sql_task(dag, v.rid, task, table, t, rng.uniform(1.5, 3.5), h, n, mt, path, fail=lambda sid: "", job=False,
                              final_log=grpc_error(f"failed to connect to all addresses; last error: UNAVAILABLE: "
                                                   f"ipv4:{p.driver_host}:15002: Socket closed"), operator=op), False
        return retrying(v, dag, task, mt, attempt, tasks, ents, failed_dags)
    gate_every_task(v, gate)
    v.distractors([full, freed])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "fds-1", "start": z(full), "severity": "critical",
                            "root_cause_any_of": [fdkey, f"airflow:dag:{pdag}", stream_key(err), f"spark:connect:{CONNECT}"],
                            "entities": ents})
    v.summary.append(f"{pdag} leaks a Spark Connect session every run; the server runs out of file descriptors from {z(full)} "
                     f"to {z(freed)} and {len(tasks)} tasks cannot connect.")
    return v.build()


MODES = {
    "metadb-storage-full": m_metadb_storage_full,
    "worker-pps-allowance-exceeded": m_worker_pps_allowance_exceeded,
    "celery-prefetch-hoarding": m_celery_prefetch_hoarding,
    "replica-recovery-conflict": m_replica_recovery_conflict,
    "snapshot-expiry-under-readers": m_snapshot_expiry_under_readers,
    "renamed-dag-created-paused": m_renamed_dag_created_paused,
    "topic-retention-shortened": m_topic_retention_shortened,
    "connect-session-fd-leak": m_connect_session_fd_leak,
}


if __name__ == "__main__":
    held_out_main(__doc__, MODES)
