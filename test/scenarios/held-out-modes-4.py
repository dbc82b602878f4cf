#!/usr/bin/env python3
"""A fourth set of held-out failure modes (guardian-scenario/1), written by a hand that does not
change the correlator.

  python3 test/scenarios/held-out-modes-4.py --out DIR [--variants N]

None of these 8 is among the 39 modes of modes.py, novel-modes.py, held-out-modes.py and
held-out-modes-3.py. They are scored on the code of the day they were written and once more at
the end of the session, never per mode in between, so their figures say how Guardian does on
failures nobody tuned it for. The rule that keeps them useful: never change Guardian while
reading what it does on these.

They spread over the classes issue 17 names and over the machine / data / external axes:

* a shared resource: the Celery broker's Redis at its memory limit refuses every task the
  scheduler sends (machine); a rebuilt worker image breaks one operator family in every DAG that
  uses it (external);
* a job's own behaviour: one query's broadcast takes the shared Spark Connect driver down with
  every session in flight, twice (data); a micro-batch writer that never expires snapshots grows a
  table's metadata until its readers' planning runs out of time (data, late evidence);
* contention: a schema migration of a source database queues behind a long report and every
  extract of that source waits behind it (external);
* absence: one DAG factory file's parse outgrows the processor timeout and its DAGs are
  deactivated, their runs never created (machine);
* a machine: one Celery worker's NFS mount hangs, its task processes freeze without a heartbeat
  (machine);
* late evidence: a lifecycle rule written for scratch data expires a table's old data files
  under the readers (data).

Each mode is a real incident class of this platform, its wording and causal chain cited beside
it. The platform simulation and the generic mechanics are modes.py's, generate.py's and
held-out-modes-3.py's, imported. Deterministic: the same command writes the same files. Python
standard library only.
"""
import importlib
import uuid
from datetime import timedelta

from generate import PYSPARK_TB, afts, d, daily_dags, metric_key, run_id, sparkts, task_key, ts
from modes import (held_out_main, AIRFLOW_TB, REGION, Night, failing_task, finish_outage, stream_key,
                   victims_of_window, z)

_h3 = importlib.import_module("held-out-modes-3")
by_source, hexid, failed_run_entities = _h3.by_source, _h3.hexid, _h3.failed_run_entities
ACCOUNT = _h3.ACCOUNT

# The nightly pipeline's tasks (generate.py's daily_pipeline): id and table patterns, operator,
# retries.
SQL, CHECK = "SparkConnectSqlOperator", "SparkConnectSqlCheckOperator"


def daily_tasks(dom, src):
    return [(f"bronze_{dom}_{src}", f"bronze.{dom}_{src}", SQL, 1), (f"silver_{dom}", f"silver.{dom}", SQL, 2),
            (f"dq_{dom}", f"silver.{dom}", CHECK, 1), (f"gold_{dom}_daily", f"gold.{dom}_daily", SQL, 2)]


def gate_every_task(v, gate):
    """Every task of every nightly DAG runs through `gate(dag, task, table, operator, max_tries)`, an
    override of daily_pipeline's."""
    for dom, src in v.domains:
        v.overrides[f"{dom}_daily"] = {tid: gate(f"{dom}_daily", tid, table, op, mt) for tid, table, op, mt in daily_tasks(dom, src)}


def sched_error(p, t, where, text):
    p.sched_log(t, f"[{afts(t)}] {{{where}}} ERROR - {text}", "error")


def note(key, tasks, ents):
    """Counts `key` once among the incident's failed tasks and entities, whichever try failed first."""
    if key not in tasks:
        tasks.append(key)
        ents.append(key)


def failed_try(v, dag, task, n, max_tries, end, tasks, ents, failed_dags):
    """Records the failed try `n` of a nightly task ending at `end`: when its retry is queued, or None
    when it was the last try (its DAG's run fails)."""
    note(task_key(dag, v.rid, task), tasks, ents)
    if n > max_tries:
        failed_dags.add(dag)
        return None
    return end + timedelta(minutes=5, seconds=v.rng.uniform(0, 3))


def ti_repr(dag, rid, task, state):
    return f"<TaskInstance: {dag}.{task} {rid} [{state}]>"


# =====================================================================================
# A shared resource: the Celery broker's Redis at maxmemory
# =====================================================================================
def m_redis_broker_maxmemory(k):
    """Airflow's Celery broker is a Redis (ElastiCache) with maxmemory-policy noeviction. Its
    memory has been growing for hours and reaches maxmemory during the nightly batch: Redis then
    refuses every write with "OOM command not allowed when used memory > 'maxmemory'", so the
    scheduler cannot send any task to Celery ("Error sending Celery task: ..."); after its publish
    retries the executor reports each such task failed while the task says it is queued, and it
    goes to retry without ever reaching a worker. Every task that became ready in those minutes,
    in every DAG, fails; retries after the memory falls back under the limit pass. Source:
    celery/celery#5716 ("Celery deadlocks on redis OOM"), rhesis-ai/rhesis#1769 ("Celery task
    publish fails with Redis maxmemory limit": "kombu.exceptions.OperationalError: ... command not
    allowed when used memory > 'maxmemory'"; "Celery tasks are not queued"), bytedeck/bytedeck#2082
    ("Hitting the cap makes redis refuse all writes (breaking the celery broker)"),
    arachnys/cabot#311 (Celery blocked after Redis hit maxmemory, keys without expiry), Airflow's
    celery executor ("Error sending Celery task: ...\\nCelery Task ID: TaskInstanceKey(...)") and
    apache/airflow#10790 ("Executor reports task instance ... finished (failed) although the task
    says its queued")."""
    v = Night("redis-broker-maxmemory", k)
    p, rng = v.p, v.rng
    w0 = v.at("02:%02d:%02d" % (rng.randint(3, 5), rng.randint(0, 59)))
    # ends before the 15-minute ops run is queued: what the distractors do stays outside
    w1 = min(w0 + timedelta(minutes=rng.randint(7, 9), seconds=rng.randint(0, 59)), v.at("02:14:20"))
    cluster = f"airflow-broker-{rng.choice(['001', '002'])}"
    endpoint = f"{cluster}.{hexid(rng, 6)}.0001.euw1.cache.amazonaws.com"
    res = {"service.name": "aws-elasticache", "cloud.region": REGION, "cache_cluster.id": cluster}
    base = rng.uniform(62, 74)

    def used(t):
        if t < w0:
            return round(min(99.6, base + (100 - base) * ((t - p.start) / (w0 - p.start)) ** 1.6 + rng.uniform(-0.3, 0.3)), 2)
        if t < w1:
            return round(rng.uniform(99.93, 100.0), 2)
        return round(rng.uniform(91, 95), 2)
    mem = v.series(res, "aws.elasticache.database_memory_usage_percentage", "gauge", "%", {}, used)
    v.series(res, "aws.elasticache.evictions", "sum", "{key}", {}, lambda t: 0)
    ents, tasks, failed_dags = [mem, f"host:{endpoint}"], [], set()

    def refused(dag, task, n, mt, t, op):
        key = f"TaskInstanceKey(dag_id='{dag}', task_id='{task}', run_id='{v.rid}', try_number={n}, map_index=-1)"
        for j in range(3):
            at = t + timedelta(seconds=0.4 + j * rng.uniform(1.0, 1.3))
            sched_error(p, at, "celery_executor.py:289",
                        "Error sending Celery task: OOM command not allowed when used memory > 'maxmemory'.\n"
                        f"Celery Task ID: {key}\nTraceback (most recent call last):\n"
                        '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/providers/celery/executors/celery_executor_utils.py", line 250, in send_task_to_executor\n'
                        "    result = task_to_run.apply_async(args=[args], queue=queue)\n"
                        '  File "/home/airflow/.local/lib/python3.12/site-packages/kombu/connection.py", line 476, in _reraise_as_library_errors\n'
                        "    raise ConnectionError(str(exc)) from exc\n"
                        "kombu.exceptions.OperationalError: OOM command not allowed when used memory > 'maxmemory'.")
        at = t + timedelta(seconds=rng.uniform(4, 6))
        sched_error(p, at, "scheduler_job_runner.py:864",
                    f"Executor CeleryExecutor(parallelism=32) reported that the task instance {ti_repr(dag, v.rid, task, 'queued')} "
                    "finished with state failed, but the task instance's state attribute is queued. Learn more: "
                    "https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html#task-state-changed-externally")
        p.ti(dag, v.rid, task, n, mt, t, at, at, "up_for_retry" if n <= mt else "failed", None, op)
        return at

    def gate(dag, task, table, op, mt):
        def run(path, t, host):
            n = 1
            while w0 <= t < w1:
                end = refused(dag, task, n, mt, t, op)
                retry = failed_try(v, dag, task, n, mt, end, tasks, ents, failed_dags)
                if retry is None:
                    return end, False
                n, t = n + 1, retry
            dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
            return p.sql_task(dag, v.rid, task, table, t, dur, host if n == 1 else p.pick_worker(t), n, mt, path,
                              operator=op), True
        return run
    gate_every_task(v, gate)
    v.distractors([w0, w1])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "broker-1", "start": z(w0), "severity": "critical",
                            "root_cause_any_of": [mem, f"host:{endpoint}"], "entities": ents})
    v.summary.append(f"Broker Redis {cluster} at maxmemory from {z(w0)} to {z(w1)}: {len(tasks)} tasks cannot be sent to Celery.")
    return v.build()


# =====================================================================================
# Absence: a DAG factory file outgrows the processor timeout
# =====================================================================================
def m_dag_processor_timeout(k):
    """One DAG file generates several partner-export DAGs from a configuration it fetches at parse
    time. That fetch becomes slow, the file's parse outgrows dag_file_processor_timeout, and the
    DAG processor kills it on every pass ("Processor for ... with PID ... started 50 ago killing
    it."); nothing is written to import_errors. With the file no longer parsed, its DAGs are
    deactivated as stale and the scheduler stops creating their runs: the only symptom is runs that
    should exist and do not. Source: apache/airflow#35157 ("dag_file_processor_timeout fails
    silently and prevents DAGs from processing correctly": a dynamic generator of over 80 DAGs,
    "won't get shown in airflow UI nor scheduled. There is no error to be found"),
    apache/airflow#49689 ("Dag processor gets SIGKILL signal and all DAGs are removed from UI"),
    apache/airflow#34339 (DAGs of one slow dynamic file deemed deleted), Airflow's
    dag_processing/manager.py ("Processor for %s with PID %s started %d ago killing it.",
    dag_processing.processor_timeouts) and docs "DAG file processing" (stale DAGs deactivated)."""
    v = Night("dag-processor-timeout", k)
    p, rng = v.p, v.rng
    partner = rng.choice(["nielsen", "criteo", "experian", "dunnhumby", "acxiom"])
    rel = f"factories/{partner}_exports.py"
    fileloc = f"/opt/airflow/dags/{rel}"
    every = rng.choice([15, 30])
    doms = [d for d, _ in rng.sample(v.domains, rng.randint(3, 5))]
    dags = [f"export_{d}_to_{partner}" for d in doms]
    slow = p.start + timedelta(minutes=rng.randint(6, 16), seconds=rng.randint(0, 59))
    interval = 30  # min_file_process_interval
    # parse passes of the file: ~2 s each before, killed at 50 s after
    passes, t = [], p.start - timedelta(seconds=rng.uniform(0, interval))
    while t < p.end:
        if t < slow:
            passes.append((t, rng.uniform(1.6, 3.2), False))
            t += timedelta(seconds=interval + rng.uniform(0, 3))
        else:
            passes.append((t, 50 + rng.uniform(0.01, 0.9), True))
            t += timedelta(seconds=50 + interval + rng.uniform(0, 3))
    first_kill = next(s + timedelta(seconds=d) for s, d, killed in passes if killed)
    gone = first_kill + timedelta(seconds=rng.uniform(52, 75))  # stale_dag_threshold after the last good parse, checked
    dp = {"service_name": "airflow-dag-processor", "host": "airflow-dag-processor-1", "level": "error"}
    info = {"service_name": "airflow-dag-processor", "host": "airflow-dag-processor-1", "level": "info"}
    kills = {}
    for s, dur, killed in passes:
        e = s + timedelta(seconds=dur)
        if killed:
            pid = rng.randint(3000, 90000)
            p.log(dp, e, f"[{afts(e)}] {{manager.py:912}} ERROR - Processor for DagFileInfo(rel_path=PosixPath('{rel}'), "
                         "bundle_name='dags-folder', bundle_path=PosixPath('/opt/airflow/dags'), bundle_version=None) "
                         f"with PID {pid} started 50 ago killing it.")
            kills[e.replace(second=0, microsecond=0)] = kills.get(e.replace(second=0, microsecond=0), 0) + 1
    p.log(info, gone, f"[{afts(gone)}] {{manager.py:301}} INFO - DAG {dags[0]} is missing and will be deactivated.")
    for i, dag in enumerate(dags[1:], 1):
        at = gone + timedelta(milliseconds=4 * i)
        p.log(info, at, f"[{afts(at)}] {{manager.py:301}} INFO - DAG {dag} is missing and will be deactivated.")
    at = gone + timedelta(milliseconds=40)
    p.log(info, at, f"[{afts(at)}] {{manager.py:316}} INFO - Deactivated {len(dags)} DAGs which are no longer present in file.")
    res = {"service.name": "airflow-dag-processor", "host.name": "airflow-dag-processor-1"}
    timeouts = v.series(res, "airflow.dag_processing.processor_timeouts", "sum", "{timeout}", {}, lambda t: kills.get(t, 0))

    def last(t):
        done = [(s, d) for s, d, _ in passes if s + timedelta(seconds=d) <= t]
        return round(done[-1][1], 2) if done else None
    dur_key = v.series(res, "airflow.dag_processing.last_duration", "gauge", "s", {"file_path": rel}, last)
    v.series(res, "airflow.dag_processing.last_duration", "gauge", "s", {"file_path": "ops/ops_maintenance.py"},
             lambda t: round(rng.uniform(0.8, 1.6), 2))
    # the generated DAGs: runs every `every` minutes until they are deactivated, then none
    for dom, dag in zip(doms, dags):
        p.dag(dag, f"*/{every} * * * *", ["export", partner, dom], "data-eng", rel)
        lg = p.start.replace(minute=(p.start.minute // every) * every, second=0, microsecond=0)
        while lg <= p.end:
            if lg + timedelta(seconds=1) >= gone:
                break
            q = lg + timedelta(seconds=rng.uniform(0.5, 2))
            e = p.py_task(dag, run_id(lg), f"push_{dom}_extract", q, rng.uniform(15, 50), p.pick_worker(q), 1, 2, None, rel,
                          ok_lines=[("sftp.py:181", f"Uploaded {dom}_{lg.strftime('%Y%m%d%H%M')}.csv.gz to sftp.{partner}.example.com")])
            p.run(dag, run_id(lg), lg, q, q, e + timedelta(seconds=1), "success")
            lg += timedelta(minutes=every)
    v.distractors([first_kill, gone + timedelta(minutes=30)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    ents = [timeouts, dur_key, stream_key(dp), f"airflow:import:{fileloc}", *(f"airflow:dag:{d}" for d in dags)]
    v.incidents.append({"id": "parse-1", "start": z(first_kill), "severity": "high",
                        "root_cause_any_of": [f"airflow:import:{fileloc}", dur_key, timeouts, stream_key(dp)], "entities": ents})
    v.summary.append(f"{rel}'s parse outgrows the processor timeout from {z(slow)}; its {len(dags)} DAGs are deactivated at "
                     f"{z(gone)} and their runs stop.")
    return v.build()


# =====================================================================================
# Contention: a migration queued behind a report blocks every extract of a source
# =====================================================================================
def m_source_db_lock_queue(k):
    """The source application's deploy runs a schema migration (ALTER TABLE ... ADD COLUMN) on its
    PostgreSQL database shortly before the nightly batch. The ALTER needs an ACCESS EXCLUSIVE lock
    and queues behind a long reporting query; every later reader of that table queues behind the
    ALTER. The nightly extracts of the DAGs loading that source wait until the ETL role's
    lock_timeout and fail ("canceling statement due to lock timeout"), try after try, until the
    report ends and the ALTER goes through; the database logs each wait (log_lock_waits). Source:
    alphagov/notifications-api#3901 ("alembic tries to acquire ACCESS EXCLUSIVE lock, but is blocked
    and waits in queue ... other selects are told to wait in the queue behind the alembic query ...
    causing timeouts, errors, downtime"), guevara/read-it-later#11367 ("Schema changes and the
    Postgres lock queue"), taskcluster/taskcluster#3632 (a migration hung on a lock, blocking
    other tables), PostgreSQL docs log_lock_waits ("process N still waiting for AccessShareLock on
    relation R of database D after 1000.0 ms") and error 55P03 lock_not_available
    (psycopg2.errors.LockNotAvailable)."""
    v = Night("source-db-lock-queue", k)
    p, rng = v.p, v.rng
    src, doms = by_source(v)
    db = f"{src}-db.c{hexid(rng, 12)}.{REGION}.rds.amazonaws.com"
    table = rng.choice(["accounts", "documents", "line_items", "customers", "transactions"])
    rel, dbid = rng.randint(16390, 99000), rng.randint(16384, 16500)
    report_pid, alter_pid = rng.randint(10000, 60000), rng.randint(10000, 60000)
    report_at = p.start + timedelta(minutes=rng.uniform(0, 4))
    alter_at = v.logical - timedelta(minutes=rng.uniform(1, 4))
    release = alter_at + timedelta(minutes=rng.uniform(22, 38))
    lock_timeout = 300
    pg = {"service_name": "postgresql", "host": f"{src}-db", "level": "info"}

    peers = {}  # pid -> its client address, one per session

    def pglog(at, pid, user, kind, text):
        stamp = at.strftime("%Y-%m-%d %H:%M:%S")
        peer = peers.setdefault(pid, f"10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}({rng.randint(32768, 60999)})")
        p.log(pg, at, f"{stamp} UTC:{peer}:{user}@{src}:[{pid}]:{kind}:  {text}")
        return p.streams[tuple(sorted(pg.items()))][-1]
    col = rng.choice(["tax_region", "external_ref", "archived_at", "risk_score"])
    alter = f"ALTER TABLE public.{table} ADD COLUMN {col} text NOT NULL DEFAULT ''"
    pglog(alter_at + timedelta(seconds=1.0), alter_pid, "app_migrator", "LOG",
          f"process {alter_pid} still waiting for AccessExclusiveLock on relation {rel} of database {dbid} after 1000.{rng.randint(10, 99)} ms\n"
          f"DETAIL:  Process holding the lock: {report_pid}. Wait queue: {alter_pid}.\nSTATEMENT:  {alter}")
    waits = []  # (pid, waiting since, until, its log entry): the wait queue each entry prints
    ents, tasks, dags = [stream_key(pg), f"host:{db}"], [], []
    for dom in doms:
        dag, task = f"{dom}_daily", f"bronze_{dom}_{src}"
        dags.append(dag)

        def extract(path, t, host, dag=dag, task=task, dom=dom):
            mt = rng.choice([1, 2])
            for n in range(1, mt + 2):
                h = host if n == 1 else p.pick_worker(t)
                st = t + timedelta(seconds=rng.uniform(0.8, 2.5))
                sel = (f"SELECT * FROM public.{table} WHERE updated_at > '{(v.logical - timedelta(days=1)).strftime('%Y-%m-%d %H:%M:%S')}'")
                q = st + timedelta(seconds=rng.uniform(1.5, 3))
                if q >= release:  # the ALTER went through: a normal extract
                    e = p.py_task(dag, v.rid, task, t, rng.uniform(60, 240), h, n, mt, None, path,
                                  ok_lines=[("base.py:84", f"Retrieving connection '{src}_postgres'"),
                                            ("postgres_to_lake.py:57", f"Extracted {rng.randint(20_000, 400_000)} rows from {src}.public.{table}")])
                    p.tis[-1]["operator"] = "PostgresToLakeOperator"
                    return e, True
                pid = rng.randint(10000, 60000)
                entry = pglog(q + timedelta(seconds=1.0), pid, "etl_reader", "LOG",
                              f"process {pid} still waiting for AccessShareLock on relation {rel} of database {dbid} after 1000.{rng.randint(10, 99)} ms\n"
                              f"DETAIL:  Process holding the lock: {report_pid}. Wait queue: QUEUE.\n"
                              f"STATEMENT:  {sel}")
                out = q + timedelta(seconds=lock_timeout)
                waits.append((pid, q, min(out, release), entry))
                if out >= release:  # the lock comes before the timeout: a slow but good extract
                    e = p.py_task(dag, v.rid, task, t, (release - st).total_seconds() + rng.uniform(60, 200), h, n, mt, None, path,
                                  ok_lines=[("base.py:84", f"Retrieving connection '{src}_postgres'")])
                    p.tis[-1]["operator"] = "PostgresToLakeOperator"
                    pglog(release + timedelta(milliseconds=rng.randint(5, 400)), pid, "etl_reader", "LOG",
                          f"process {pid} acquired AccessShareLock on relation {rel} of database {dbid} after "
                          f"{(release - q).total_seconds() * 1000:.3f} ms\nSTATEMENT:  {sel}")
                    return e, True
                pglog(out, pid, "etl_reader", "ERROR", f"canceling statement due to lock timeout\nSTATEMENT:  {sel}")
                err = (AIRFLOW_TB
                       + '  File "/opt/airflow/plugins/lakehouse/operators/postgres_to_lake.py", line 61, in execute\n'
                         "    cursor.execute(self.sql)\n"
                         "psycopg2.errors.LockNotAvailable: canceling statement due to lock timeout")
                e = p.py_task(dag, v.rid, task, t, (out - st).total_seconds() + 0.2, h, n, mt, err, path,
                              ok_lines=[("base.py:84", f"Retrieving connection '{src}_postgres'")])
                p.tis[-1]["operator"] = "PostgresToLakeOperator"
                key = task_key(dag, v.rid, task)
                note(key, tasks, ents)
                if n > mt:
                    return e, False
                t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
        v.overrides[dag] = {task: extract}
    v.distractors([alter_at, release])
    daily_dags(p, v.domains, v.logical, v.overrides)
    for pid, since, _, entry in waits:  # who queued on the table when this session began to wait, in order
        queue = [alter_pid] + [x for x, a, b, _ in sorted(waits, key=lambda w: w[1]) if a <= since < b or x == pid]
        entry[1] = entry[1].replace("QUEUE", ", ".join(str(x) for x in queue))
    pglog(release, alter_pid, "app_migrator", "LOG",
          f"process {alter_pid} acquired AccessExclusiveLock on relation {rel} of database {dbid} after "
          f"{(release - alter_at).total_seconds() * 1000:.3f} ms\nSTATEMENT:  {alter}")
    failed = [d for d in dags if any(r["dag_id"] == d and r["dag_run_id"] == v.rid and r["state"] == "failed" for r in p.runs)]
    failed_run_entities(v, ents, failed)
    inc = {"id": "lockq-1", "start": z(alter_at + timedelta(seconds=1)), "severity": "high",
           "root_cause_any_of": [stream_key(pg), f"host:{db}"], "entities": ents}
    if tasks:
        v.incidents.append(inc)
    v.summary.append(f"A migration on {db} queues behind a report from {z(alter_at)} to {z(release)}; "
                     f"{len(tasks)} extracts of {src} wait and time out.")
    return v.build()


# =====================================================================================
# A shared change: a rebuilt worker image breaks one operator family
# =====================================================================================
def m_worker_image_numpy_abi(k):
    """The Celery workers are rolled to a rebuilt image whose unpinned requirements pulled NumPy 2
    while the pinned pandas wheel was compiled against NumPy 1. Spark SQL tasks do not import
    pandas and keep passing; every task that imports pandas, in whichever DAG, fails on the new
    workers with "ValueError: numpy.dtype size changed, may indicate binary incompatibility.
    Expected 96 from C header, got 88 from PyObject"; during the rollout a retry that lands on a
    worker not yet rolled passes. The cause's own evidence is the rollout (Kubernetes events of the
    worker pods, the workers' restarts). Source: matterport/Mask_RCNN#3063 and seung-lab/igneous#203
    (the error text on import), openutm/flight-blender#1 ("need to stay with numpy<2"; seen in
    Celery), apache/airflow#52753 (NumPy 2 against binary wheels built for another NumPy:
    "compiled against system libraries"), numpy/numpy#11628 (the binary-incompatibility check),
    Kubernetes events "Pulled: Successfully pulled image ... / Started: Started container"."""
    v = Night("worker-image-numpy-abi", k)
    p, rng = v.p, v.rng
    tag_old = f"2026.{rng.randint(5, 8):02d}.{rng.randint(1, 9)}"
    tag_new = tag_old + "-r" + str(rng.randint(2, 5))
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/data-platform/airflow"
    roll = v.at("02:%02d:%02d" % (rng.randint(2, 9), rng.randint(0, 59)))
    order = list(p.airflow_workers)
    rng.shuffle(order)
    rolled = {}
    ev = {"service_name": "kubernetes-events", "namespace": "airflow", "level": "info"}
    t = roll
    for w in order:
        p.log(ev, t, f"StatefulSet airflow/airflow-worker: Killing: Stopping container worker (pod {w})")
        p.aw_log(w, t + timedelta(seconds=0.3), f"{t.strftime('%Y-%m-%d %H:%M:%S.%f')} [warning  ] worker: Warm shutdown (MainProcess) [celery.apps.worker]")
        up = t + timedelta(seconds=rng.uniform(40, 80))
        p.log(ev, up - timedelta(seconds=14), f"Pod airflow/{w}: Pulled: Successfully pulled image \"{image}:{tag_new}\" in {rng.uniform(9, 14):.3f}s")
        p.log(ev, up - timedelta(seconds=1), f"Pod airflow/{w}: Started: Started container worker")
        p.aw_log(w, up, f"{up.strftime('%Y-%m-%d %H:%M:%S.%f')} [info     ] celery@{w} ready. [celery.apps.worker]")
        rolled[w] = up
        t = up + timedelta(seconds=rng.uniform(30, 90))
    area = rng.choice(["finance", "sales", "ops"])
    exports = [d for d, _ in rng.sample(v.domains, rng.randint(3, 5))]
    ents, tasks, dags = [stream_key(ev)], [], []
    slots = [v.at("02:%02d" % m) for m in (15, 20, 30, 45)]
    for i, dom in enumerate(exports):
        dag = f"{dom}_{area}_export"
        path = f"exports/{dag}.py"
        lg = rng.choice(slots)
        p.dag(dag, f"{lg.minute} 2 * * *", ["export", dom], "analytics-eng", path)
        rid = run_id(lg)
        q = lg + timedelta(seconds=rng.uniform(0.5, 2))
        mt = rng.choice([1, 2])
        t, ok, n = q, False, 0
        while n <= mt:
            n += 1
            h = p.pick_worker(t)
            new = t >= rolled[h]
            line = rng.randint(24, 40)
            err = (AIRFLOW_TB
                   + f'  File "/opt/airflow/dags/{path}", line {line}, in build_{dom}_export\n'
                     "    import pandas as pd\n"
                     '  File "/home/airflow/.local/lib/python3.12/site-packages/pandas/__init__.py", line 49, in <module>\n'
                     "    from pandas.core.api import (\n"
                     '  File "/home/airflow/.local/lib/python3.12/site-packages/pandas/core/api.py", line 1, in <module>\n'
                     "    from pandas._libs import (\n"
                     '  File "/home/airflow/.local/lib/python3.12/site-packages/pandas/_libs/__init__.py", line 18, in <module>\n'
                     "    from pandas._libs.interval import Interval\n"
                     '  File "interval.pyx", line 1, in init pandas._libs.interval\n'
                     "ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88 from PyObject")
            e = p.py_task(dag, rid, f"build_{dom}_export", t, rng.uniform(1.2, 2.5) if new else rng.uniform(40, 120), h, n, mt,
                          err if new else None, path)
            if not new:
                ok = True
                break
            key = task_key(dag, rid, f"build_{dom}_export")
            note(key, tasks, ents)
            t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
        if ok:
            e2 = p.py_task(dag, rid, f"upload_{dom}_export", e + timedelta(seconds=2), rng.uniform(5, 20), p.pick_worker(e), 1, 2, None,
                           path, ok_lines=[("sftp.py:181", f"Uploaded {dom}.csv.gz")])
            p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, e2 + timedelta(seconds=1), "success")
        else:
            p.skipped(dag, rid, f"upload_{dom}_export", e + timedelta(seconds=1), 2, "SFTPOperator")
            p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, e + timedelta(seconds=2), "failed")
            ents.extend([task_key(dag, rid, f"upload_{dom}_export"), f"airflow:dagrun:{dag}/{rid}", f"airflow:dag:{dag}"])
            dags.append(dag)
    v.distractors([roll, max(rolled.values())])
    daily_dags(p, v.domains, v.logical, v.overrides)
    first = min((r for r in p.tis if r["state"] in ("up_for_retry", "failed") and r["dag_id"].endswith(f"_{area}_export")),
                key=lambda r: r["end_date"], default=None)
    if tasks:
        v.incidents.append({"id": "image-1", "start": z(roll), "severity": "high", "root_cause_any_of": [stream_key(ev)],
                            "entities": ents})
    v.summary.append(f"Workers rolled to {image}:{tag_new} from {z(roll)}; pandas tasks of {len(tasks)} export DAGs fail on import"
                     + (f" (first at {first['end_date']})." if first else "."))
    return v.build()


# =====================================================================================
# A machine: one worker's NFS mount hangs
# =====================================================================================
def m_worker_nfs_mount_hang(k):
    """The DAGs and logs folders of the Celery workers are an EFS file system mounted over NFS. On
    one worker the NFS client stops getting answers (the other workers' mounts are fine): every
    task process on that worker that touches the mount enters uninterruptible sleep, writes no log
    and sends no heartbeat; the kernel reports "nfs: server ... not responding, still trying" and
    "task python3:N blocked for more than 122 seconds". After task_instance_heartbeat_timeout the
    scheduler fails those tries ("Detected a task instance without a heartbeat"); their retries
    elsewhere pass, tasks without retries fail. Source: kubernetes-sigs/aws-efs-csi-driver#616
    ("Processes accessing the nfs mount enter an uninterupable sleep ... dmesg reports ... nfs
    server not responding", "INFO: task ... blocked for more than 1208 seconds"), aws/efs-utils#61
    (mounts hanging on one instance), raspberrypi/linux#2482 ("nfs: server ... not responding, still
    trying"), apache/airflow#10790 (an EFS-backed worker unable to read the DAG file), Airflow docs
    "Task Instance Heartbeat Timeout" (formerly zombie tasks; "Detected a task instance without a
    heartbeat")."""
    v = Night("worker-nfs-mount-hang", k)
    p, rng = v.p, v.rng
    w = rng.choice(p.airflow_workers)
    hang = v.at("02:%02d:%02d" % (rng.randint(2, 7), rng.randint(0, 59)))
    fs = f"fs-0{hexid(rng, 16)}.efs.{REGION}.amazonaws.com"
    timeout = 300
    kern = {"service_name": "kernel", "host": w, "level": "error"}
    uptime = rng.uniform(300000, 2_000_000)

    def klog(at, line):
        p.log(kern, at, f"[{uptime + (at - p.start).total_seconds():.6f}] {line}")
    t = hang + timedelta(seconds=rng.uniform(30, 60))
    while t < p.end:
        klog(t, f"nfs: server {fs} not responding, still trying")
        t += timedelta(seconds=rng.uniform(150, 260))
    ents, tasks, dags, hung = [f"host:{w}", stream_key(kern)], [], [], []

    def victim(dag_id, task_id, table, mt):
        def run(path, t, host):
            if t < hang - timedelta(seconds=90):  # done before the mount hung: runs normally elsewhere
                return p.sql_task(dag_id, v.rid, task_id, table, t, rng.uniform(90, 250), p.pick_worker(t), 1, mt, path), True
            st = t + timedelta(seconds=rng.uniform(0.8, 2))
            froze = max(st, hang)
            end = froze + timedelta(seconds=timeout + rng.uniform(3, 15))
            log = []
            if st < hang:
                log = p.spark_task_logs(dag_id, task_id, v.rid, st, [(f"MERGE INTO lakehouse.{table} t USING lakehouse.{table}_updates s "
                                                                      "ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *", None)], path)
                log = [l for l in log if l[1:20] < afts(hang)[:19]]
            p.ti(dag_id, v.rid, task_id, 1, mt, t, st, end, "up_for_retry" if mt > 0 else "failed", w, SQL, log=log)
            hung.append((froze, rng.randint(20000, 400000)))
            sched_error(p, end - timedelta(milliseconds=30), "scheduler_job_runner.py:2236",
                        f"Detected a task instance without a heartbeat: {ti_repr(dag_id, v.rid, task_id, 'running')} "
                        "(See https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/tasks.html#task-instance-heartbeat-timeout)")
            key = task_key(dag_id, v.rid, task_id)
            tasks.append(key)
            ents.append(key)
            if mt == 0:
                return end, False
            t2 = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))
            other = rng.choice([x for x in p.airflow_workers if x != w])
            return p.sql_task(dag_id, v.rid, task_id, table, t2, rng.uniform(90, 250), other, 2, mt, path), True
        return run
    for dag_id, task_id, table in victims_of_window(v, rng.randint(3, 5), ("silver", "gold")):
        v.overrides.setdefault(dag_id, {})[task_id] = victim(dag_id, task_id, table, rng.choice([0, 1, 2]))
        dags.append(dag_id)
    orig = p.pick_worker
    p.pick_worker = lambda t: (lambda x: rng.choice([y for y in p.airflow_workers if y != w])
                               if x == w and t >= hang - timedelta(minutes=2) else x)(orig(t))
    inc = {"id": "nfs-1", "start": z(hang), "severity": "high", "root_cause_any_of": [f"host:{w}", stream_key(kern)], "entities": ents}
    v.incidents.append(inc)
    v.distractors([hang, hang + timedelta(minutes=12)])
    finish_outage(v, inc, dags, tasks)
    for froze, pid in sorted(hung):
        at = froze + timedelta(seconds=122 + rng.uniform(0, 6))
        if at < p.end:
            klog(at, f"INFO: task python3:{pid} blocked for more than 122 seconds.\n"
                     "      Not tainted 6.1.102-111.182.amzn2023.x86_64 #1\n"
                     '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.\n'
                     f"task:python3         state:D stack:0     pid:{pid}  ppid:{pid - rng.randint(1, 9)}   flags:0x00000002")
    blocked = metric_key("system.processes.count", {"service.name": "airflow-worker", "host.name": w, "status": "blocked"})
    ents.append(blocked)
    inc["root_cause_any_of"].append(blocked)
    for x in p.airflow_workers:
        v.series({"service.name": "airflow-worker", "host.name": x}, "system.processes.count", "gauge", "{process}",
                 {"status": "blocked"}, (lambda t, x=x: sum(1 for f, _ in hung if f <= t) if x == w else (1 if rng.random() < 0.03 else 0)))

    def silence(sc):
        # a frozen task process never reports its end: drop the end lines its Celery worker would print
        for s in sc["loki"]["streams"]:
            if s["labels"].get("service_name") == "airflow-worker" and s["labels"].get("host") == w:
                s["entries"] = [e for e in s["entries"] if not (e[0] >= ts(hang) and ("Task finished" in e[1] or "succeeded in" in e[1]))]
    v.post.append(silence)
    v.summary.append(f"Worker {w}'s NFS mount of {fs} hangs at {z(hang)}; {len(tasks)} task processes freeze without a heartbeat.")
    return v.build()


# =====================================================================================
# A job's own behaviour, late evidence: a micro-batch writer bloats a table's metadata
# =====================================================================================
def m_iceberg_metadata_bloat(k):
    """A micro-batch DAG appends to an events table every five minutes and nothing expires its
    snapshots or rewrites its manifests: every commit carries all earlier manifests forward, the
    table's metadata grows, and each commit and each scan plan takes longer (the writer's own
    CommitReports show it all night). The nightly gold steps of the DAGs that join that table
    spend their execution_timeout planning the scan on the driver and are killed ("AirflowTaskTimeout:
    Timeout"), retry after retry, long after the writer's commits started to slow. The cause is
    the writer (its table's maintenance), not the readers. Source: apache/iceberg#8203 (docs:
    "Snapshots accumulate quickly with frequent commits, so it is highly recommended that tables
    written by streaming queries are regularly maintained"), icegatetech/icegate#159 ("fast_append
    ... carries all existing manifests forward and adds one more ... Query planning pays for that
    directly"), apache/iceberg#2130 (tables with tens of thousands of snapshots), trinodb/trino#26563
    (slow planning from a large number of manifest files), Iceberg's LoggingMetricsReporter
    ("Received metrics report: CommitReport{...}" / "ScanReport{...totalPlanningDuration...}") and
    Airflow's "Process timed out, PID: N" / "AirflowTaskTimeout: Timeout, PID: N"."""
    v = Night("iceberg-metadata-bloat", k)
    p, rng = v.p, v.rng
    edom = rng.choice(["clickstream", "telemetry", "app_events", "pos_events"])
    wdag, wtask, table = f"{edom}_microbatch", f"append_{edom}", f"silver.{edom}"
    wpath = f"streaming/{wdag}.py"
    p.dag(wdag, "*/5 * * * *", ["silver", "streaming"], "platform", wpath)
    snaps = rng.randint(38_000, 61_000)
    manifests = snaps // rng.randint(2, 4)
    c0, growth = rng.uniform(24, 40), rng.uniform(0.9, 1.6)  # commit seconds at start, added per run
    lg = p.start.replace(minute=(p.start.minute // 5) * 5, second=0, microsecond=0) + timedelta(minutes=5)
    free, i, first = p.start, 0, None
    while lg <= p.end:
        q = max(lg + timedelta(seconds=rng.uniform(0.5, 2)), free)
        commit = c0 + growth * i + rng.uniform(-2, 2)
        dur = rng.uniform(35, 60) + commit
        if q + timedelta(seconds=dur + 4) > p.end:  # would end after the night's data: left out
            break
        e = p.sql_task(wdag, run_id(lg), wtask, table, q, dur, p.pick_worker(q), 1, 2, wpath)
        p.run(wdag, run_id(lg), lg, q, q, e + timedelta(seconds=1), "success")
        snaps += 1
        manifests += 1
        at = e - timedelta(seconds=0.6)
        p.driver_log(at, f"{sparkts(at)} INFO LoggingMetricsReporter: Received metrics report: CommitReport{{tableName=glue_catalog.{table}, "
                         f"snapshotId={rng.getrandbits(62)}, sequenceNumber={snaps}, operation=append, commitMetrics=CommitMetricsResult{{"
                         f"totalDuration=TimerResult{{timeUnit=NANOSECONDS, totalDuration=PT{commit:.3f}S, count=1}}, "
                         f"attempts=CounterResult{{unit=COUNT, value=1}}, addedDataFiles=CounterResult{{unit=COUNT, value={rng.randint(8, 40)}}}, "
                         f"totalDataFiles=CounterResult{{unit=COUNT, value={snaps * rng.randint(9, 12)}}}, "
                         f"addedRecords=CounterResult{{unit=COUNT, value={rng.randint(40_000, 200_000)}}}}}, metadata={{engine-version=3.5.4}}}}")
        first = first or at
        free = e + timedelta(seconds=1)
        i += 1
        lg += timedelta(minutes=5)
    ents, root = [f"airflow:dag:{wdag}"], [f"airflow:dag:{wdag}"]
    tasks, dags = [], []
    limit = rng.choice([20, 25, 30]) * 60

    def reader(dag, task, gtable, dom):
        def run(path, t, host):
            n, mt = 0, 2
            while n <= mt:
                n += 1
                h = host if n == 1 else p.pick_worker(t)
                st = t + timedelta(seconds=rng.uniform(0.8, 2.5))
                stmt = (f"MERGE INTO lakehouse.{gtable} t USING (SELECT s.*, count(e.event_id) AS events_7d FROM lakehouse.silver.{dom} s "
                        f"LEFT JOIN lakehouse.{table} e ON e.{dom}_id = s.id AND e.event_date >= date_sub(current_date(), 7) "
                        "GROUP BY ALL) u ON t.id = u.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")
                log = p.spark_task_logs(dag, task, v.rid, st, [(stmt, None)], path)
                end = st + timedelta(seconds=limit + rng.uniform(0.2, 1.5))
                key = task_key(dag, v.rid, task)
                if end > p.end:
                    p.ti(dag, v.rid, task, n, mt, t, st, None, "running", h, SQL, log=log)
                    note(key, tasks, ents)
                    return p.end + timedelta(hours=1), False
                pid = rng.randint(2000, 60000)
                log += [f"[{afts(end - timedelta(milliseconds=60))}] {{timeout.py:68}} ERROR - Process timed out, PID: {pid}",
                        f"[{afts(end - timedelta(milliseconds=20))}] {{task_runner.py:1084}} ERROR - " + AIRFLOW_TB
                        + f"  File \"/home/airflow/.local/lib/python3.12/site-packages/airflow/utils/timeout.py\", line 69, in handle_timeout\n"
                          f"    raise AirflowTaskTimeout(self.error_message)\nairflow.exceptions.AirflowTaskTimeout: Timeout, PID: {pid}"]
                p.ti(dag, v.rid, task, n, mt, t, st, end, "up_for_retry" if n <= mt else "failed", h, SQL, log=log)
                note(key, tasks, ents)
                t = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))
            return end, False
        return run
    for dom, _ in rng.sample(v.domains, rng.randint(3, 4)):
        dag, task = f"{dom}_daily", f"gold_{dom}_daily"
        v.overrides.setdefault(dag, {})[task] = reader(dag, task, f"gold.{dom}_daily", dom)
        dags.append(dag)
    v.distractors([first or p.start, v.at("02:30")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    for r in p.runs:  # a reader still planning at the end: its run is still running
        if r["dag_id"] in dags and r["dag_run_id"] == v.rid and r["end_date"] and r["end_date"] > ts(p.end):
            r["end_date"], r["state"] = None, "running"
    failed_run_entities(v, ents, [d for d in dags if any(r["dag_id"] == d and r["dag_run_id"] == v.rid and r["state"] == "failed"
                                                          for r in p.runs)])
    ents.extend(f"airflow:dag:{d}" for d in dags)
    v.incidents.append({"id": "bloat-1", "start": z(first or p.start), "severity": "high", "root_cause_any_of": root,
                        "entities": ents})
    v.summary.append(f"{wdag} commits to {table} every 5 min with {manifests} manifests and growing; the gold steps of "
                     f"{len(dags)} DAGs joining it time out planning after {limit // 60} min.")
    return v.build()


# =====================================================================================
# Late evidence: a lifecycle rule expires a table's live data files
# =====================================================================================
def m_s3_lifecycle_expires_live_files(k):
    """A lifecycle rule meant for the lake bucket's scratch prefix is saved with a filter that also
    matches the warehouse prefix ("expire current versions after 30 days"). S3 applies it
    asynchronously from midnight UTC: the data files of the silver tables older than 30 days are
    expired one by one (server access log "S3.EXPIRE.OBJECT" by AmazonS3; CloudTrail does not see
    lifecycle actions). Iceberg still references them: every job of the night that reads such a
    table fails with "NotFoundException: Location does not exist" (S3 404 NoSuchKey), try after
    try, in several DAGs. Source: AWS docs "Lifecycle and logging" ("S3 Lifecycle actions are not
    captured by CloudTrail object level logging ... server access logs ... S3.EXPIRE.OBJECT: Amazon
    S3 permanently deletes the object due to the lifecycle expiration action"), AWS knowledge
    center "s3-lifecycle-rule-delay" ("S3 lifecycle rules run only once each day at midnight UTC";
    the prefix filter decides which objects a rule affects), "Troubleshoot Amazon S3 Lifecycle
    issues" (expirations are asynchronous), Iceberg's S3InputStream ("Location does not exist")
    over the SDK's NoSuchKeyException."""
    v = Night("s3-lifecycle-expires-live-files", k)
    p, rng = v.p, v.rng
    victims = victims_of_window(v, rng.randint(3, 5), ("silver", "gold"))
    labels = {"service_name": "s3-server-access-logs", "bucket": p.lake, "level": "info"}
    owner = hexid(rng, 32) * 2
    tables = sorted({f"silver.{dag_id[:-len('_daily')]}" for dag_id, _, _ in victims} | {
        f"silver.{d}" for d, _ in rng.sample(v.domains, 2)})
    files = {tb: [f"warehouse/silver.db/{tb.split('.')[1]}/data/{rng.randint(0, 99999):05d}-{rng.randint(0, 400)}-"
                  f"{uuid.UUID(int=rng.getrandbits(128))}-0-{rng.randint(1, 99999):05d}.parquet" for _ in range(rng.randint(20, 40))]
             for tb in tables}
    t = began = p.start + timedelta(seconds=rng.uniform(2, 20))
    order = [(tb, f) for tb in tables for f in files[tb]]
    rng.shuffle(order)
    for tb, key in order:
        stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
        p.log(labels, t, f"{owner} {p.lake} [{stamp}] - AmazonS3 {hexid(rng, 16).upper()} S3.EXPIRE.OBJECT {key} \"-\" - - - "
                         f"{rng.randint(2_000_000, 180_000_000)} - - \"-\" \"-\" - {hexid(rng, 40)} - - - - - -")
        t += timedelta(seconds=rng.uniform(4, 25))
        if t > p.end:
            break
    ents, tasks, dags = [stream_key(labels)], [], []
    for dag_id, task_id, table in victims:
        dom = dag_id[:-len("_daily")]
        lost = rng.choice(files[f"silver.{dom}"])

        def why(n, h, eid, lost=lost):
            return (f"org.apache.iceberg.exceptions.NotFoundException: Location does not exist: s3://{p.lake}/{lost}\n"
                    "Caused by: software.amazon.awssdk.services.s3.model.NoSuchKeyException: The specified key does not exist. "
                    f"(Service: S3, Status Code: 404, Request ID: {hexid(rng, 16).upper()})")
        mt = rng.choice([0, 1, 2])
        v.overrides.setdefault(dag_id, {})[task_id] = failing_task(v, dag_id, task_id, table, (p.start, p.end), why, ents, tasks,
                                                                   fails=mt + 1, max_tries=mt)
        dags.append(dag_id)
    inc = {"id": "lifecycle-1", "start": z(began), "severity": "high",
           "root_cause_any_of": [stream_key(labels)], "entities": ents}
    v.incidents.append(inc)
    v.distractors([v.at("02:05"), v.at("02:40")])
    finish_outage(v, inc, dags, tasks)
    ents.extend(f"airflow:dag:{d}" for d in dags if f"airflow:dagrun:{d}/{v.rid}" in ents)
    v.summary.append(f"A lifecycle rule expires old data files of {len(tables)} silver tables in {p.lake}; "
                     f"{len(tasks)} reading tasks fail on missing files.")
    return v.build()


# =====================================================================================
# A job's own behaviour: one query's broadcast takes the shared Spark Connect driver down
# =====================================================================================
def m_connect_driver_oom_broadcast(k):
    """One DAG's query joins a dimension table that grew far past its stale statistics, so Spark
    plans a broadcast join: the Spark Connect server's driver collects the whole table and builds
    the broadcast relation in its own memory, the driver container goes over its memory limit and
    the kernel's memory cgroup kills the JVM. Every Connect session of every DAG in flight dies
    with it ("StatusCode.UNAVAILABLE ... Socket closed"), tasks starting while it restarts are
    refused, and the server comes back as a new Spark application. The query's retry does it
    again. The cause is that one job (its broadcast), not the victims nor the server. Source:
    apache/spark#37069 / SPARK-39667 and apache/spark#48925 / SPARK-50386 (building the broadcast
    relation on the driver: "Not enough memory to build and broadcast the table to all worker
    nodes"; "OutOfMemoryError has occurred on driver"), apache/spark#21899 / SPARK-24912 (driver
    OOM during a broadcast join), microsoft/SynapseML#1249 ("Size of broadcasted table far exceeds
    estimates"), Spark's MemoryStore ("Block broadcast_N stored as values in memory (estimated size
    ..., free ...)"), the kernel's "Memory cgroup out of memory: Killed process N (java)" (as in
    docker/for-linux#1001), gRPC status UNAVAILABLE for clients of a dead server (pyspark Connect
    "SparkConnectGrpcException ... StatusCode.UNAVAILABLE")."""
    v = Night("connect-driver-oom-broadcast", k)
    p, rng = v.p, v.rng
    dom, _ = rng.choice(v.domains)
    dim = rng.choice(["customer_events_scd", "product_price_history", "address_history", "device_sessions"])
    hdag, htask = f"{dom}_360_rollup", f"build_{dom}_360"
    hpath = f"gold/{hdag}.py"
    minute = rng.choice([4, 5, 6])
    p.dag(hdag, f"{minute} 2 * * *", ["gold", dom], "analytics-eng", hpath)
    hlg = v.at("02:%02d" % minute)
    hrid = run_id(hlg)
    q1 = hlg + timedelta(seconds=rng.uniform(0.5, 2))
    st1 = q1 + timedelta(seconds=rng.uniform(0.8, 2))
    crash1 = min(st1 + timedelta(seconds=rng.uniform(120, 300)), v.at("02:12:40"))
    back1 = crash1 + timedelta(seconds=rng.uniform(60, 120))
    q2 = crash1 + timedelta(seconds=1) + timedelta(minutes=5, seconds=rng.uniform(0, 3))
    st2 = q2 + timedelta(seconds=rng.uniform(0.8, 2))
    lo = max(st2 + timedelta(seconds=120), v.at("02:18"))
    crash2 = lo + timedelta(seconds=rng.uniform(0, max(1.0, (v.at("02:26") - lo).total_seconds())))
    back2 = crash2 + timedelta(seconds=rng.uniform(60, 120))
    downs = [(crash1, back1), (crash2, back2)]
    kern = {"service_name": "kernel", "host": p.driver_host, "level": "error"}
    uptime = rng.uniform(500000, 3_000_000)
    ents, tasks, failed_dags, hog_jobs = [], [], set(), []
    stmt = (f"INSERT OVERWRITE lakehouse.gold.{dom}_360 SELECT f.*, d.segment, d.valid_from FROM lakehouse.silver.{dom} f "
            f"JOIN lakehouse.silver.{dim} d ON f.customer_id = d.customer_id AND f.updated_at >= d.valid_from")

    def socket_closed(at):
        return (PYSPARK_TB + "pyspark.errors.exceptions.connect.SparkConnectGrpcException: <_MultiThreadedRendezvous of RPC that "
                "terminated with:\n\tstatus = StatusCode.UNAVAILABLE\n\tdetails = \"Socket closed\"\n\tdebug_error_string = "
                "\"UNKNOWN:Error received from peer  {grpc_message:\"Socket closed\", grpc_status:14, "
                f"created_time:\"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}+00:00\"}}\"\n>")

    def refused():
        return (PYSPARK_TB + "pyspark.errors.exceptions.connect.SparkConnectGrpcException: <_MultiThreadedRendezvous of RPC that "
                "terminated with:\n\tstatus = StatusCode.UNAVAILABLE\n\tdetails = \"failed to connect to all addresses; last error: "
                f"UNKNOWN: ipv4:{p.driver_host}:15002: Failed to connect to remote host: Connection refused\"")
    # the hog: each try's broadcast side is collected by a job, built on the driver, and the driver dies
    for n, (q, st, (crash, back)) in enumerate([(q1, st1, downs[0]), (q2, st2, downs[1])], 1):
        js = st + timedelta(seconds=2.6)
        je = crash - timedelta(seconds=rng.uniform(20, 50))
        job, _ = p.spark_job(hdag, htask, hrid, js, je, nstages=2)
        hog_jobs.append(job["jobId"])
        gib = rng.uniform(6.5, 9.8)
        at = je + timedelta(seconds=rng.uniform(6, 15))
        p.driver_log(at, f"{sparkts(at)} INFO MemoryStore: Block broadcast_{rng.randint(2000, 9000)} stored as values in memory "
                         f"(estimated size {gib:.1f} GiB, free {rng.randint(90, 700)}.{rng.randint(0, 9)} MiB)")
        pid = rng.randint(7, 90)
        at = crash - timedelta(milliseconds=rng.randint(5, 60))
        p.log(kern, at, f"[{uptime + (at - p.start).total_seconds():.6f}] Memory cgroup out of memory: Killed process {pid} (java) "
                        f"total-vm:{rng.randint(26_000_000, 31_000_000)}kB, anon-rss:{rng.randint(15_900_000, 16_300_000)}kB, "
                        f"file-rss:{rng.randint(20000, 60000)}kB, shmem-rss:0kB, UID:185 pgtables:{rng.randint(33000, 40000)}kB oom_score_adj:-997")
        p.driver_log(back, f"{sparkts(back)} INFO SparkConnectServer: Spark Connect server started at: 0:0:0:0:0:0:0:0%0:15002")
        end = crash + timedelta(seconds=rng.uniform(0.05, 1.2))
        log = p.spark_task_logs(hdag, htask, hrid, st, [(stmt, None)], hpath)
        log.append(f"[{afts(end)}] {{task_runner.py:1084}} ERROR - {socket_closed(end)}")
        p.ti(hdag, hrid, htask, n, 1, q, st, end, "up_for_retry" if n == 1 else "failed", p.pick_worker(q), SQL, log=log)
    p.skipped(hdag, hrid, f"publish_{dom}_360", end + timedelta(seconds=1), 2, "PythonOperator")
    p.run(hdag, hrid, hlg, q1 - timedelta(seconds=0.3), q1, end + timedelta(seconds=2), "failed")
    hog_key = task_key(hdag, hrid, htask)
    ents += [hog_key, f"airflow:dag:{hdag}", f"airflow:dagrun:{hdag}/{hrid}", task_key(hdag, hrid, f"publish_{dom}_360"),
             f"spark:connect:sc://spark-connect.internal:15002", stream_key(kern)]

    def gate(dag, task, table, op, mt):
        def run(path, t, host):
            n = 1
            while True:
                h = host if n == 1 else p.pick_worker(t)
                dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
                hit = next(((a, b) for a, b in downs if t < b and t + timedelta(seconds=dur + 3) > a), None)
                if hit is None:
                    return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
                a, _ = hit
                fail_at = a + timedelta(seconds=rng.uniform(0.05, 1.5)) if t < a else t + timedelta(seconds=rng.uniform(3, 5))
                text = socket_closed(fail_at) if t < a else refused()
                end = p.sql_task(dag, v.rid, task, table, t, max(1.0, (fail_at - t).total_seconds() - 1.6), h, n, mt, path,
                                 fail=lambda sid: "", job=False, final_log=text, operator=op)
                retry = failed_try(v, dag, task, n, mt, end, tasks, ents, failed_dags)
                if retry is None:
                    return end, False
                n, t = n + 1, retry
        return run
    gate_every_task(v, gate)
    v.distractors([crash1, crash2])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    heap = metric_key("jvm.memory.used", {"service.name": "spark-connect", "host.name": p.driver_host, "jvm.memory.type": "heap"})
    ents.append(heap)
    root = [hog_key, f"airflow:dag:{hdag}"] + [f"spark:job:{p.app_id}/{j}" for j in hog_jobs]
    ents[1:1] = [f"spark:job:{p.app_id}/{j}" for j in hog_jobs]
    # the cause shows first in the driver's heap series: its first sample within 3 minutes of the crash
    ramp = p.start + timedelta(minutes=-(-(crash1 - timedelta(minutes=3) - p.start).total_seconds() // 60))
    v.incidents.append({"id": "driver-1", "start": z(ramp), "severity": "critical",
                        "root_cause_any_of": root, "entities": ents})

    def restart(sc):
        # the driver's death ends its Spark application; the restarted server is a new one
        app0 = sc["spark"]["applications"][0]
        starts = [b - timedelta(seconds=rng.uniform(8, 15)) for _, b in downs]
        ids = [app0["id"]] + [f"app-{s_.strftime('%Y%m%d%H%M%S')}-0000" for s_ in starts]

        def era(t):
            return sum(1 for c, _ in downs if c <= t)
        apps = [app0] + [{"id": ids[i + 1], "name": "Spark Connect server", "start": ts(starts[i]), "end": None, "jobs": [],
                          "stages": [], "executors": [dict(app0["executors"][0], addTime=ts(starts[i]))]} for i in range(len(downs))]
        owner = {}
        for j in app0["jobs"]:
            owner[("job", j["jobId"])] = era(d(j["submissionTime"][:23]))
        for j in list(app0["jobs"]):
            i = owner[("job", j["jobId"])]
            for sid in j["stageIds"]:
                owner[("stage", sid)] = i
            if i:
                app0["jobs"].remove(j)
                apps[i]["jobs"].append(j)
        for st in list(app0["stages"]):
            i = owner.get(("stage", st["stageId"]), 0)
            if i:
                app0["stages"].remove(st)
                apps[i]["stages"].append(st)
        app0["end"] = ts(downs[0][0])
        for e in app0["executors"][1:]:
            if not e.get("removeTime") or e["removeTime"] > ts(downs[0][0]):
                e["removeTime"] = ts(downs[0][0] + timedelta(seconds=rng.uniform(0.2, 2)))
                e["removeReason"] = f"Executor self-exiting due to : Driver {p.driver_host}:7078 disassociated! Shutting down."
        for i, (start, (_, b)) in enumerate(zip(starts, downs), 1):
            n = 0
            for h in sorted(p.workers):
                for _ in range(4):
                    e = {"id": str(n), "hostPort": f"{h}:{rng.randint(32000, 46000)}", "addTime": ts(b - timedelta(seconds=rng.uniform(1, 6))),
                         "totalCores": 4, "maxMemory": 7194093158, "failedTasks": 0, "totalTasks": rng.randint(10, 900)}
                    if i < len(downs):
                        e["removeTime"] = ts(downs[i][0] + timedelta(seconds=rng.uniform(0.2, 2)))
                        e["removeReason"] = f"Executor self-exiting due to : Driver {p.driver_host}:7078 disassociated! Shutting down."
                    apps[i]["executors"].append(e)
                    n += 1
            if i < len(downs):
                apps[i]["end"] = ts(downs[i][0])
        sc["spark"]["applications"] = apps
        sc["spark"]["connect"]["up"] = [[ts(p.app_start), True]] + [x for c, b in downs for x in ([ts(c), False], [ts(b), True])]

        def rekey(key):
            for kind in ("job", "stage"):
                pre = f"spark:{kind}:{app0['id']}/"
                if key.startswith(pre):
                    return f"spark:{kind}:{ids[owner.get((kind, int(key[len(pre):])), 0)]}/{key[len(pre):]}"
            return key
        for inc in sc["truth"]["incidents"]:
            inc["entities"] = [rekey(x) for x in inc["entities"]]
            inc["root_cause_any_of"] = [rekey(x) for x in inc["root_cause_any_of"]]
        sc["truth"]["quiet"] = sorted({rekey(x) for x in sc["truth"]["quiet"]})
        for m in sc["metrics"]:
            if m["resource"].get("service.name") != "spark-connect":
                continue
            for i in range(len(m["values"])):
                t = p.start + timedelta(minutes=i)
                down = any(c <= t < b for c, b in downs)
                if m["name"] == "spark.executors.active":
                    m["values"][i] = None if down else 4 * len(p.workers)
                elif m["name"] == "jvm.memory.used":
                    ramp = next((c for c in (downs[0][0], downs[1][0]) if c - timedelta(minutes=3) <= t < c), None)
                    if down:
                        m["values"][i] = None
                    elif ramp:
                        m["values"][i] = int(14_495_514_624 * rng.uniform(0.93, 0.99))
    v.post.append(restart)
    v.summary.append(f"{hdag}.{htask} broadcasts the grown silver.{dim} and the Spark Connect driver is OOM-killed at "
                     f"{z(crash1)} and {z(crash2)}; {len(tasks)} tasks of other DAGs in flight fail.")
    return v.build()


MODES = {
    "redis-broker-maxmemory": m_redis_broker_maxmemory,
    "dag-processor-timeout": m_dag_processor_timeout,
    "source-db-lock-queue": m_source_db_lock_queue,
    "worker-image-numpy-abi": m_worker_image_numpy_abi,
    "worker-nfs-mount-hang": m_worker_nfs_mount_hang,
    "iceberg-metadata-bloat": m_iceberg_metadata_bloat,
    "s3-lifecycle-expires-live-files": m_s3_lifecycle_expires_live_files,
    "connect-driver-oom-broadcast": m_connect_driver_oom_broadcast,
}


if __name__ == "__main__":
    held_out_main(__doc__, MODES)
