#!/usr/bin/env python3
"""A third set of held-out failure modes (guardian-scenario/1), written by a hand that does not
change the correlator.

  python3 test/scenarios/held-out-modes-3.py --out DIR [--variants N]

None of these is among the 20 modes of modes.py, the 9 of novel-modes.py or the 4 of
held-out-modes.py. They are scored on the code of the day they were written and once more at the
end of the session, never per mode in between, so their figures say how Guardian does on
failures nobody tuned it for. The rule that keeps them useful: never change Guardian while
reading what it does on these.

They spread over the classes issue 17 names and over the machine / data / external axes:

* a shared resource: a NAT gateway out of ports toward the object store (external), a source
  database whose password was rotated under the pipelines (external);
* a job's own behaviour on a machine: one task's memory takes a Celery worker into the kernel's
  OOM killer, which kills its neighbours too (machine);
* contention between runs: a compaction of one database's tables racing the writers' commits in
  the Glue catalog (data); a backfill holding every slot of an Airflow pool (absence);
* late evidence: a source's read replica stops replaying, the extracts succeed on stale data and
  only the freshness checks fail, long after the lag began (data).

Each mode is a real incident class of this platform, its wording and causal chain cited beside
it. The platform simulation and the generic mechanics are modes.py's and generate.py's,
imported. Deterministic: the same command writes the same files. Python standard library only.
"""
import uuid
from datetime import timedelta

from generate import afts, daily_dags, metric_key, run_id, sparkts, task_key, ts
from modes import (held_out_main, AIRFLOW_TB, REGION, Night, failing_task, finish_outage, shared_outage, stream_key,
                   victims_of_window, z)

ACCOUNT = "123456789012"


def by_source(v, databases=("erp", "crm", "psp")):
    """A source database that two or more of the night's DAGs load from (else the source most of
    them load from), and those DAGs' domains."""
    groups = {}
    for dom, src in v.domains:
        groups.setdefault(src, []).append(dom)
    pick = [s for s in sorted(groups) if s in databases and len(groups[s]) >= 2] or sorted(groups)
    src = max(pick, key=lambda s: (len(groups[s]), v.rng.random()))
    return src, groups[src]


def hexid(rng, n):
    return uuid.UUID(int=rng.getrandbits(128)).hex[:n]


def failed_run_entities(v, ents, dags):
    v.downstream(ents, set(dags))
    ents.extend(f"airflow:dag:{dag}" for dag in dags)


# =====================================================================================
# A job's own behaviour on one machine
# =====================================================================================
def m_celery_worker_oom_killed(k):
    """A reporting task loads a whole table into pandas on one Celery worker; the host runs out of
    memory and the kernel's OOM killer kills it, and with it other task processes on that worker,
    in several DAGs (each killed with SIGKILL, exit code -9). Their retries on other workers pass;
    tasks without retries fail. The hog's retry lands on the same worker and is killed again.
    Source: apache/airflow#61521 ("celery worker task goes out of memory silently": many tasks on
    a worker without enough memory; "a SIGKILL happened with exit_code -9"), apache/airflow#55599
    (Airflow 3's "Process terminated by signal ... signal=-9: signal_name=\"SIGKILL\"" for a task
    that hit the memory limit), apache/airflow#9655 (return code -9 from a task retrieving a large
    dataframe), docker/for-linux#1001 (the kernel's "Out of memory: Killed process N (python3)
    total-vm:..., anon-rss:..." and "oom_reaper: reaped process" lines)."""
    v = Night("celery-worker-oom-killed", k)
    p, rng = v.p, v.rng
    host = rng.choice(p.airflow_workers)
    grow = v.at("02:0%d" % rng.randint(2, 6)) + timedelta(seconds=rng.randint(0, 59))
    kill1 = grow + timedelta(minutes=rng.randint(3, 6), seconds=rng.randint(0, 59))
    retry = kill1 + timedelta(minutes=5, seconds=rng.uniform(0, 3))
    kill2 = retry + timedelta(minutes=rng.randint(3, 5), seconds=rng.randint(0, 59))
    area = rng.choice(["finance", "sales", "marketing", "supply"])
    hog_dag, hog_task = f"{area}_board_report", "build_report_frame"
    hog_path = f"reports/{hog_dag}.py"
    p.dag(hog_dag, "0 2 * * *", ["reports", area], "analytics-eng", hog_path)
    hog_rid = run_id(v.logical)
    kernel = {"service_name": "kernel", "host": host, "level": "error"}
    uptime = rng.uniform(200000, 900000)

    def kern(t, lines):
        for i, line in enumerate(lines):
            at = t + timedelta(milliseconds=3 * i)
            p.log(kernel, at, f"[{uptime + (at - p.start).total_seconds():.6f}] {line}")

    def oom_lines(pid, rss_mb):
        return [f"Out of memory: Killed process {pid} (python3) total-vm:{rss_mb * 1024 + rng.randint(90000, 400000)}kB, "
                f"anon-rss:{rss_mb * 1024}kB, file-rss:{rng.randint(2000, 9000)}kB, shmem-rss:0kB, UID:50000 "
                f"pgtables:{rng.randint(900, 30000)}kB oom_score_adj:0",
                f"oom_reaper: reaped process {pid} (python3), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"]

    def killed_log(t_end):
        return (f"[{afts(t_end)}] {{supervisor.py:1034}} CRITICAL - Process terminated by signal. For more information, see "
                "https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html#TaskRunner-killed: "
                'signal=-9: signal_name="SIGKILL": source="task"')

    def exit_9(t_end):
        key = (("host", host), ("level", "info"), ("service_name", "airflow-worker"))
        for e in reversed(p.streams.get(key, [])):
            if e[0] == ts(t_end) and "Task finished exit_code=1" in e[1]:
                e[1] = e[1].replace("exit_code=1", "exit_code=-9")
                break

    ents, tasks, dags = [f"host:{host}", stream_key(kernel)], [], []
    # the hog: killed on both tries, on the same worker
    hog_key = task_key(hog_dag, hog_rid, hog_task)
    start = grow - timedelta(seconds=rng.uniform(20, 90))
    per_kill = {kill1: [], kill2: []}
    for n, (t0, dead) in enumerate([(start, kill1), (retry, kill2)], 1):
        st = t0 + timedelta(seconds=rng.uniform(0.8, 2))
        rows = rng.randint(180, 620) * 1_000_000
        log = [f"[{afts(st + timedelta(milliseconds=300))}] {{dagbag.py:588}} INFO - Filling up the DagBag from /opt/airflow/dags/{hog_path}",
               f"[{afts(st + timedelta(seconds=2))}] {{report_frame.py:41}} INFO - Reading lakehouse.gold.{area}_ledger_daily "
               f"into a DataFrame ({rows:,} rows, 214 columns)", killed_log(dead + timedelta(seconds=1.2))]
        p.ti(hog_dag, hog_rid, hog_task, n, 1, t0, st, dead + timedelta(seconds=1.2), "up_for_retry" if n == 1 else "failed",
             host, "PythonOperator", pool="default_pool", log=log)
        exit_9(dead + timedelta(seconds=1.2))
        per_kill[dead].append(hog_key)
    p.run(hog_dag, hog_rid, v.logical, start - timedelta(seconds=1), start, kill2 + timedelta(seconds=3), "failed")
    ents.extend([hog_key, f"airflow:dagrun:{hog_dag}/{hog_rid}", f"airflow:dag:{hog_dag}"])

    def victim(dag_id, task_id, table, mt, idx):
        def run(path, t, _host):
            dead = next((x for x in (kill1, kill2) if t + timedelta(seconds=40) < x), None)
            if dead is None:  # started too late to meet the OOM: runs normally elsewhere
                return p.sql_task(dag_id, v.rid, task_id, table, t, rng.uniform(90, 250), p.pick_worker(t), 1, mt, path), True
            key = task_key(dag_id, v.rid, task_id)
            tasks.append(key)
            ents.append(key)
            t = max(t, dead - timedelta(minutes=6))
            st = t + timedelta(seconds=rng.uniform(0.8, 2))
            end = dead + timedelta(seconds=rng.uniform(0.3, 4) + idx * 0.4)
            log = p.spark_task_logs(dag_id, task_id, v.rid, st, [(f"MERGE INTO lakehouse.{table} t USING lakehouse.{table}_updates s "
                                                                   "ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *", None)], path)
            log.append(killed_log(end))
            p.ti(dag_id, v.rid, task_id, 1, mt, t, st, end, "up_for_retry" if mt > 0 else "failed", host,
                 "SparkConnectSqlOperator", log=log)
            exit_9(end)
            per_kill[dead].append(key)
            if mt == 0:
                return end, False
            t2 = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))
            other = rng.choice([w for w in p.airflow_workers if w != host])
            return p.sql_task(dag_id, v.rid, task_id, table, t2, rng.uniform(90, 250), other, 2, mt, path), True
        return run
    for i, (dag_id, task_id, table) in enumerate(victims_of_window(v, rng.randint(3, 5), ("bronze", "silver"))):
        v.overrides.setdefault(dag_id, {})[task_id] = victim(dag_id, task_id, table, rng.choice([0, 1, 2]), i)
        dags.append(dag_id)
    orig = p.pick_worker
    p.pick_worker = lambda t: (lambda w: rng.choice([x for x in p.airflow_workers if x != host])
                               if w == host and grow - timedelta(minutes=10) <= t <= kill2 + timedelta(minutes=1) else w)(orig(t))
    mem_key = metric_key("system.memory.utilization", {"service.name": "airflow-worker", "host.name": host, "state": "used"})
    ents.append(mem_key)
    inc = {"id": "oom-1", "start": z(grow), "severity": "high",
           "root_cause_any_of": [f"host:{host}", mem_key, stream_key(kernel), hog_key, f"airflow:dag:{hog_dag}"], "entities": ents}
    v.incidents.append(inc)
    v.distractors([grow, kill2])
    finish_outage(v, inc, dags, tasks)
    for dead, pids in per_kill.items():
        lines = ["python3 invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0"]
        for j, _ in enumerate(pids):
            lines += oom_lines(rng.randint(3000, 4_000_000 // 10), rng.randint(9000, 14000) if j == 0 else rng.randint(300, 1400))
        kern(dead, lines)

    def memory(sc):
        for m in sc["metrics"]:
            if m["name"] == "system.memory.utilization" and m["resource"].get("host.name") == host:
                for i in range(len(m["values"])):
                    t = p.start + timedelta(minutes=i)
                    for a, b in ((grow, kill1), (retry, kill2)):
                        if a <= t < b:
                            m["values"][i] = round(min(0.985, 0.55 + 0.43 * (t - a).total_seconds() / (b - a).total_seconds()), 4)
    v.post.append(memory)
    v.summary.append(f"{hog_dag}.{hog_task} fills worker {host}'s memory from {z(grow)}; the OOM killer kills it and "
                     f"{len(tasks)} other tasks at {z(kill1)} and {z(kill2)}.")
    return v.build()


# =====================================================================================
# Contention: a backfill holds every slot of a pool (absence as evidence)
# =====================================================================================
def m_airflow_pool_exhausted(k):
    """An engineer starts a backfill of a heavy reprocessing DAG shortly before the nightly batch:
    its long tasks take every slot of the `spark_connect` pool, so the nightly runs are created
    but their tasks stay scheduled (nothing fails, nothing runs) until slots free up; an hourly
    DAG's run hits its dagrun_timeout and fails with its task skipped. The only direct evidence is
    the pool's own series (open slots 0, starving tasks rising) and the scheduler's "Not
    scheduling since there are 0 open slots in pool ..." lines. Source: apache/airflow#15399
    ("Not scheduling since there are %s open slots in pool %s"; a pool filled so nothing else gets
    scheduled), apache/airflow#13542 ("Task stuck in scheduled or queued state, pool has all
    slots queued, nothing is executing"), astronomer/airflow-guides#257 (pools: once every slot is
    filled the remaining tasks wait), Airflow docs "DAG runs: dagrun_timeout" and the metrics
    reference (pool.open_slots, pool.starving_tasks)."""
    v = Night("airflow-pool-exhausted", k)
    p, rng = v.p, v.rng
    slots = 16
    dom, _ = rng.choice(v.domains)
    bdag = f"{dom}_reprocess"
    bpath = f"maintenance/{bdag}.py"
    p.dag(bdag, "0 5 * * 0", ["maintenance", dom], "data-eng", bpath)
    began = p.start + timedelta(minutes=rng.randint(2, 6), seconds=rng.randint(0, 59))
    long_ = k % 2 == 1
    frees = []
    for i in range(slots):
        lg = v.logical.replace(hour=0, minute=0) - timedelta(days=slots + 3 - i)
        brid = f"backfill__{lg.strftime('%Y-%m-%dT%H:%M:%S')}+00:00"
        q = began + timedelta(seconds=1.5 * i + rng.uniform(0, 1))
        dur = rng.uniform(95, 140) * 60 if long_ else rng.uniform(38, 62) * 60
        e = p.sql_task(bdag, brid, f"rebuild_{dom}_history", f"silver.{dom}_history", q, dur, p.pick_worker(q), 1, 1, bpath)
        p.run(bdag, brid, lg, q - timedelta(seconds=1), q, e + timedelta(seconds=1) if e < p.end else None,
              "success" if e < p.end else "running", run_type="backfill")
        frees.append(e + timedelta(seconds=rng.uniform(1, 6)))
    frees.sort()
    # the nightly tasks take the slots as they free, highest priority first (bronze tasks weigh most)
    order = list(v.domains)
    rng.shuffle(order)
    slot_of = {f"{d_}_daily": frees[i] for i, (d_, _) in enumerate(order)} if len(order) <= len(frees) else {}
    hourly = []
    for dom2, _ in rng.sample([x for x in v.domains if x[0] != dom], rng.randint(1, 2)):
        hourly.append((f"{dom2}_hourly", f"refresh_{dom2}_kpis", f"gold.{dom2}_kpis"))
    rest = frees[len(order):]
    timeout = timedelta(minutes=rng.choice([30, 40, 45]))
    ents = [f"airflow:dag:{bdag}"]
    waiting = []  # (from, to): a task waiting for a slot

    def late(dag_id, dom_, src_):
        def run(path, t, host):
            t0 = max(t, slot_of[dag_id])
            waiting.append((t, t0))
            return p.sql_task(dag_id, v.rid, f"bronze_{dom_}_{src_}", f"bronze.{dom_}_{src_}", t0, rng.uniform(60, 300),
                              p.pick_worker(t0), 1, 1, path), True
        return run
    for d_, s_ in v.domains:
        v.overrides.setdefault(f"{d_}_daily", {})[f"bronze_{d_}_{s_}"] = late(f"{d_}_daily", d_, s_)
    for j, (hdag, htask, htable) in enumerate(hourly):
        hpath = f"kpis/{hdag}.py"
        p.dag(hdag, "0 * * * *", ["gold"], "analytics-eng", hpath)
        for h in (-1, 0, 1):
            lg = v.at("02:00") + timedelta(hours=h)
            if lg > p.end:
                continue
            r = run_id(lg)
            q = lg + timedelta(seconds=rng.uniform(0.5, 2))
            if lg < began:
                e = p.sql_task(hdag, r, htask, htable, q, rng.uniform(30, 80), p.pick_worker(q), 1, 1, hpath)
                p.run(hdag, r, lg, q, q, e + timedelta(seconds=1), "success")
                continue
            slot = rest[j] if j < len(rest) else p.end + timedelta(hours=2)
            out = q + timeout
            if slot <= q:
                e = p.sql_task(hdag, r, htask, htable, q, rng.uniform(30, 80), p.pick_worker(q), 1, 1, hpath)
                p.run(hdag, r, lg, q, q, e + timedelta(seconds=1) if e < p.end else None, "success" if e < p.end else "running")
                continue
            if slot < out:
                waiting.append((q, slot))
                e = p.sql_task(hdag, r, htask, htable, slot, rng.uniform(30, 80), p.pick_worker(slot), 1, 1, hpath)
                p.run(hdag, r, lg, q, q, e + timedelta(seconds=1) if e < p.end else None, "success" if e < p.end else "running")
                continue
            waiting.append((q, out))
            if out > p.end:
                p.run(hdag, r, lg, q, q, None, "running")
                continue
            p.sched_log(out, f"[{afts(out)}] {{scheduler_job_runner.py:1791}} INFO - Run {r} of {hdag} has timed-out")
            p.ti(hdag, r, htask, 0, 1, None, out + timedelta(milliseconds=40), out + timedelta(milliseconds=40), "skipped", None,
                 "SparkConnectSqlOperator")
            p.run(hdag, r, lg, q, q, out + timedelta(milliseconds=60), "failed")
            ents.extend([task_key(hdag, r, htask), f"airflow:dagrun:{hdag}/{r}", f"airflow:dag:{hdag}"])
    v.distractors([began, v.at("02:30")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    for d_, _ in v.domains:
        if slot_of.get(f"{d_}_daily", p.start) > v.logical + timedelta(minutes=3):
            ents.extend([f"airflow:dag:{d_}_daily", f"airflow:dagrun:{d_}_daily/{v.rid}"])
    t = v.logical + timedelta(seconds=5)
    while t < p.end:
        n = sum(1 for a, b in waiting if a <= t < b)
        if n:
            p.sched_log(t, f"[{afts(t)}] {{scheduler_job_runner.py:538}} INFO - Not scheduling since there are 0 open slots in pool spark_connect")
        t += timedelta(seconds=rng.uniform(25, 65))
    res = {"service.name": "airflow-scheduler", "host.name": "airflow-scheduler-1"}

    def busy(t):
        return sum(1 for e in frees if began <= t < e) + sum(1 for a, b in waiting if b <= t < b + timedelta(minutes=4))
    open_key = v.series(res, "airflow.pool.open_slots", "gauge", "{slot}", {"pool_name": "spark_connect"},
                        lambda t: max(0, slots - busy(t)) if t >= began else rng.randint(12, 16))
    starve_key = v.series(res, "airflow.pool.starving_tasks", "gauge", "{task}", {"pool_name": "spark_connect"},
                          lambda t: sum(1 for a, b in waiting if a <= t < b))
    v.series(res, "airflow.pool.open_slots", "gauge", "{slot}", {"pool_name": "default_pool"}, lambda t: rng.randint(120, 128))
    ents[1:1] = [open_key, starve_key]

    def own_pools(sc):
        for ti in sc["airflow"]["task_instances"]:
            if ti["dag_id"] == "ops_maintenance":
                ti["pool"] = "ops"
    v.post.append(own_pools)
    v.incidents.append({"id": "pool-1", "start": z(began), "severity": "high",
                        "root_cause_any_of": [f"airflow:dag:{bdag}", open_key, starve_key], "entities": ents})
    v.summary.append(f"A backfill of {bdag} takes all {slots} slots of pool spark_connect at {z(began)}; "
                     f"the nightly tasks wait until {z(frees[0])}.")
    return v.build()


# =====================================================================================
# Late evidence: a read replica stops replaying
# =====================================================================================
def m_replica_lag_stale_extract(k):
    """The read replica the extracts read a source database from stops replaying WAL (a long
    reporting query holds replay back, max_standby_streaming_delay = -1): ReplicaLag grows one
    second per second. The nightly extracts succeed on stale data; nothing fails until each DAG's
    freshness check runs, minutes to an hour later, and fails. Source: AWS knowledge center "How
    do I troubleshoot the error 'canceling statement due to conflict with recovery'" (the replica
    either waits for the query before applying WAL, and "the replication lag increases", or
    cancels it; governed by max_standby_streaming_delay), pganalyze "B95: Canceling statement due
    to conflict with recovery" (raising the delay "allows the standby server to intentionally
    increase replication lag"), fixwikihub "Fix AWS RDS read replica lag" ("Queries on the
    replica return stale data"; CloudWatch ReplicaLag), PostgreSQL docs log_recovery_conflict_waits
    ("recovery still waiting after ... ms: recovery conflict on snapshot")."""
    v = Night("replica-lag-stale-extract", k)
    p, rng = v.p, v.rng
    src, doms = by_source(v)
    inst = f"{src}-db-replica-1"
    endpoint = f"{inst}.c{hexid(rng, 12)}.{REGION}.rds.amazonaws.com"
    stalled = p.start + timedelta(minutes=rng.uniform(0.5, 2.0))
    res = {"service.name": "aws-rds", "cloud.region": REGION, "db.instance.identifier": inst}
    lag = v.series(res, "aws.rds.replica_lag", "gauge", "s", {},
                   lambda t: round((t - stalled).total_seconds(), 1) if t >= stalled else round(rng.uniform(0, 1.5), 1))
    labels = {"service_name": "postgresql", "host": inst, "level": "info"}
    w = stalled + timedelta(seconds=1)
    p.log(labels, w, f"{w.strftime('%Y-%m-%d %H:%M:%S')} UTC::@:[{rng.randint(300, 900)}]:LOG:  recovery still waiting after "
                     f"{1000 + rng.uniform(0, 3):.3f} ms: recovery conflict on snapshot\n"
                     f"{w.strftime('%Y-%m-%d %H:%M:%S')} UTC::@:[{rng.randint(300, 900)}]:DETAIL:  Conflicting process: {rng.randint(20000, 40000)}.")
    ents, tasks, dags = [lag, stream_key(labels), f"host:{endpoint}"], [], []
    mark = stalled - timedelta(seconds=rng.uniform(1, 20))
    need = v.logical - timedelta(minutes=1)
    for dom in doms:
        dag = f"{dom}_daily"
        dags.append(dag)

        def extract(path, t, host, dom=dom, dag=dag):
            n = rng.randint(20_000, 400_000)
            ok = [("postgres_to_lake.py:57", f"Extracted {n} rows from {src} on {endpoint}:5432 where updated_at > "
                                             f"'{(v.logical - timedelta(days=1)).strftime('%Y-%m-%d %H:%M:%S')}'; "
                                             f"watermark max(updated_at) = {mark.strftime('%Y-%m-%d %H:%M:%S')}")]
            e = p.py_task(dag, v.rid, f"bronze_{dom}_{src}", t, rng.uniform(60, 240), host, 1, 1, None, path, ok_lines=ok)
            p.tis[-1]["operator"] = "PostgresToLakeOperator"
            return e, True

        def check(path, t, host, dom=dom, dag=dag):
            sql = (f"SELECT max(updated_at) >= TIMESTAMP '{need.strftime('%Y-%m-%d %H:%M:%S')}' AS fresh "
                   f"FROM lakehouse.silver.{dom}")
            err = AIRFLOW_TB + "airflow.exceptions.AirflowException: Test failed.\nQuery:\n" + sql + "\nResults:\n(False,)"
            key = task_key(dag, v.rid, f"dq_{dom}")
            for n in (1, 2):
                e = p.py_task(dag, v.rid, f"dq_{dom}", t, rng.uniform(6, 15), host if n == 1 else p.pick_worker(t), n, 1, err, path)
                p.tis[-1]["operator"] = "SparkConnectSqlCheckOperator"
                t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
            tasks.append(key)
            ents.append(key)
            return e, False
        v.overrides[dag] = {f"bronze_{dom}_{src}": extract, f"dq_{dom}": check}
    v.distractors([stalled, v.at("02:20")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, dags)
    v.incidents.append({"id": "lag-1", "start": z(stalled), "severity": "high",
                        "root_cause_any_of": [lag, stream_key(labels), f"host:{endpoint}"], "entities": ents})
    v.summary.append(f"Replica {inst} stops replaying at {z(stalled)}; {len(dags)} DAGs extract stale {src} data "
                     "and fail their freshness checks.")
    return v.build()


# =====================================================================================
# A shared resource: a source database's credential rotated
# =====================================================================================
def m_source_db_password_rotated(k):
    """Secrets Manager's single-user rotation changes the password of the source database's
    extraction user shortly before the nightly batch, but Airflow's connection to that database
    still holds the old one: every extract of the DAGs that load that source fails, try after try,
    with "password authentication failed", and the database logs each refused login. Source:
    apache/airflow#19271 and alephdata/aleph#2428 (psycopg2.OperationalError: connection to server
    at "..." (...), port 5432 failed: FATAL:  password authentication failed for user "..."),
    fly-apps/postgres-flex#256 (the server's "FATAL: password authentication failed" with
    "DETAIL: Connection matched ... pg_hba.conf line N" after a password stopped matching the
    secret), AWS Secrets Manager rotation docs and techlama.blog "Rotating secrets with AWS Secrets
    Manager" (createSecret / setSecret / testSecret / finishSecret; single-user rotation leaves a
    window where clients holding the old password are refused; "if your app caches the secret, it
    won't pick up the rotated credential and will fail after rotation")."""
    v = Night("source-db-password-rotated", k)
    p, rng = v.p, v.rng
    src, doms = by_source(v)
    user = "etl_reader"
    db = f"{src}-db.c{hexid(rng, 12)}.{REGION}.rds.amazonaws.com"
    ip = f"10.0.{rng.randint(20, 40)}.{rng.randint(10, 250)}"
    rotated = max(p.start + timedelta(seconds=20), v.logical - timedelta(minutes=rng.uniform(2, 6)))
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/{src}/{user}-{hexid(rng, 6)}"
    version = str(uuid.UUID(int=rng.getrandbits(128)))
    fn = "SecretsManagerRDSPostgreSQLRotationSingleUser"
    lam = {"service_name": "lambda", "function": fn, "level": "info"}
    for i, line in enumerate([f"createSecret: Successfully put secret for ARN {arn} and version {version}.",
                              f"setSecret: Successfully set password for user {user} in PostgreSQL DB for secret arn {arn}.",
                              f"testSecret: Successfully signed into PostgreSQL DB as user {user} for secret arn {arn}.",
                              f"finishSecret: Successfully set AWSCURRENT stage to version {version} for secret {arn}."]):
        at = rotated + timedelta(seconds=i * rng.uniform(0.8, 2.5))
        p.log(lam, at, f"[INFO]\t{ts(at)}\t{version}\t{line}")
    pg = {"service_name": "postgresql", "host": f"{src}-db", "level": "error"}
    ents, tasks, dags = [stream_key(lam), stream_key(pg), f"host:{db}"], [], []
    for dom in doms:
        dag, task = f"{dom}_daily", f"bronze_{dom}_{src}"
        dags.append(dag)

        def extract(path, t, host, dag=dag, task=task):
            for n in (1, 2):
                err = (AIRFLOW_TB
                       + '  File "/opt/airflow/plugins/lakehouse/operators/postgres_to_lake.py", line 48, in execute\n'
                       "    conn = self.hook.get_conn()\n"
                       '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/providers/postgres/hooks/postgres.py", line 175, in get_conn\n'
                       "    self.conn = psycopg2.connect(**conn_args)\n"
                       '  File "/home/airflow/.local/lib/python3.12/site-packages/psycopg2/__init__.py", line 122, in connect\n'
                       "    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)\n"
                       f'psycopg2.OperationalError: connection to server at "{db}" ({ip}), port 5432 failed: '
                       f'FATAL:  password authentication failed for user "{user}"')
                h = host if n == 1 else p.pick_worker(t)
                e = p.py_task(dag, v.rid, task, t, rng.uniform(1.5, 4), h, n, 1, err, path,
                              ok_lines=[("base.py:84", f"Retrieving connection '{src}_postgres'")])
                p.tis[-1]["operator"] = "PostgresToLakeOperator"
                at = e - timedelta(seconds=0.4)
                stamp = at.strftime("%Y-%m-%d %H:%M:%S")
                who = f"{stamp} UTC:10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}({rng.randint(32768, 60999)}):{user}@{src}:[{rng.randint(10000, 60000)}]"
                p.log(pg, at, f"{who}:FATAL:  "
                              f'password authentication failed for user "{user}"\n'
                              f"{who}:DETAIL:  "
                              f'Connection matched file "/rdsdbdata/config/pg_hba.conf" line 13: "host all all 0.0.0.0/0 scram-sha-256"')
                t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
            key = task_key(dag, v.rid, task)
            tasks.append(key)
            ents.append(key)
            return e, False
        v.overrides[dag] = {task: extract}
    v.distractors([rotated, v.at("02:10")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, dags)
    v.incidents.append({"id": "rotate-1", "start": z(rotated), "severity": "high",
                        "root_cause_any_of": [stream_key(lam), f"host:{db}", stream_key(pg)], "entities": ents})
    v.summary.append(f"The password of {user} on {db} is rotated at {z(rotated)}; {len(dags)} DAGs' extracts are refused.")
    return v.build()


# =====================================================================================
# A shared resource: the NAT gateway runs out of ports toward the object store
# =====================================================================================
def m_nat_gateway_port_exhaustion(k):
    """The Spark workers reach S3 through a NAT gateway (no gateway endpoint). A job opening a new
    connection per object pushes the gateway past its 55,000 simultaneous connections to the S3
    regional endpoint: ErrorPortAllocation rises, and new connections from every host to that
    destination time out, so S3 reads and writes of jobs of several DAGs fail with "connect timed
    out" (each text names its own bucket's hostname) until the load passes. Source: AWS knowledge
    center "How do I resolve the ErrorPortAllocation error on my NAT gateway?" ("NAT gateways
    support up to 55,000 simultaneous connections to each destination ... new connections to the
    destination fail and the ErrorPortAllocation metric ... increases"), AWS knowledge center
    "Troubleshoot connectivity issues when I use NAT gateway" (connectivity timeouts from private
    subnets), hivebook "AWS NAT gateway SNAT port exhaustion" ("an S3 regional endpoint reached
    over the internet"; connection churn without reuse), the AWS SDK's "SdkClientException:
    Unable to execute HTTP request: Connect to ... failed: connect timed out"."""
    v = Night("nat-gateway-port-exhaustion", k)
    p, rng = v.p, v.rng
    w0 = v.at("02:%02d" % rng.randint(3, 14)) + timedelta(seconds=rng.randint(0, 59))
    w1 = w0 + timedelta(minutes=rng.randint(18, 32))
    ramp = w0 - timedelta(minutes=rng.randint(3, 7))
    nat = f"nat-0{hexid(rng, 17)}"
    res = {"service.name": "aws-natgateway", "cloud.region": REGION, "nat_gateway.id": nat}
    errors = v.series(res, "aws.natgateway.error_port_allocation", "sum", "{error}", {},
                      lambda t: rng.randint(80, 1900) if w0 <= t < w1 else 0)

    def conns(t):
        if w0 <= t < w1:
            return rng.randint(54600, 55000)
        if ramp <= t < w0:
            return int(3000 + 51000 * (t - ramp).total_seconds() / (w0 - ramp).total_seconds())
        return rng.randint(1500, 4200)
    active = v.series(res, "aws.natgateway.active_connection_count", "gauge", "{connection}", {}, conns)
    ip = f"52.218.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

    def why(n, h, eid):
        bucket = rng.choice([p.lake, p.lake, p.landing])
        host = f"{bucket}.s3.{REGION}.amazonaws.com"
        return (f"software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP request: Connect to "
                f"{host}:443 [{host}/{ip}] failed: connect timed out\n"
                "Caused by: org.apache.http.conn.ConnectTimeoutException: Connect to "
                f"{host}:443 [{host}/{ip}] failed: connect timed out")
    inc, dags, tasks = shared_outage(v, rng.randint(3, 5), (w0 + timedelta(seconds=20), w1), why, errors, (active,), kind="nat",
                                     stages=("bronze", "silver", "gold"))
    v.distractors([ramp, w1])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"NAT gateway {nat} out of ports toward S3 from {z(w0)} to {z(w1)}; S3 calls of {len(tasks)} tasks time out.")
    return v.build()


# =====================================================================================
# Contention: a compaction races the writers' commits in the Glue catalog
# =====================================================================================
def m_compaction_commit_contention(k):
    """A maintenance DAG scheduled into the nightly batch compacts the silver tables
    (rewrite_data_files with partial progress, committing file group after file group). The
    writers of those tables commit at the same time: Glue's UpdateTable rejects their commits with
    ConcurrentModificationException, Iceberg's retries run out, and the silver steps of several
    DAGs fail; the compaction itself succeeds. The cause is the maintenance task, not the victims.
    Source: apache/iceberg#8636 ("software.amazon.awssdk.services.glue.model.
    ConcurrentModificationException: Update table failed due to concurrent modifications.
    (Service: Glue, Status Code: 400, ...)"), apache/iceberg#9521 ("Speeding up
    rewrite_data_files encountered concurrent write issue": "Retrying task after failure: Cannot
    commit glue_catalog.dw01.test because Glue detected concurrent update"), Iceberg docs
    "Maintenance: compact data files" and "Reliability: concurrent write operations"."""
    v = Night("compaction-commit-contention", k)
    p, rng = v.p, v.rng
    cdag = rng.choice(["lakehouse_compaction", "iceberg_rewrite_files", "silver_table_maintenance"])
    cpath = f"maintenance/{cdag}.py"
    p.dag(cdag, "0 2 * * *", ["maintenance", "iceberg"], "platform", cpath)
    began = v.logical + timedelta(seconds=rng.uniform(2, 6))
    victims = victims_of_window(v, rng.randint(3, 5), ("silver",))
    ents, tasks, dags, roots = [f"airflow:dag:{cdag}"], [], [], [f"airflow:dag:{cdag}"]
    last = began

    def why_for(table):
        def why(n, h, eid):
            return ("pyspark.errors.exceptions.connect.SparkConnectGrpcException: (org.apache.iceberg.exceptions.CommitFailedException) "
                    f"Cannot commit glue_catalog.{table} because Glue detected concurrent update\n"
                    "Caused by: software.amazon.awssdk.services.glue.model.ConcurrentModificationException: Update table failed due to "
                    f"concurrent modifications. (Service: Glue, Status Code: 400, Request ID: {uuid.UUID(int=rng.getrandbits(128))})")
        return why
    for i, (dag_id, task_id, table) in enumerate(victims):
        ctask = f"rewrite_data_files_{table.split('.')[1]}"
        q = began + timedelta(seconds=2 * i + rng.uniform(0, 1))
        end = p.sql_task(cdag, v.rid, ctask, table, q, rng.uniform(22, 40) * 60, p.pick_worker(q), 1, 1, cpath)
        p.tis[-1]["log"].insert(-1, f"[{afts(end - timedelta(seconds=2))}] {{spark_sql.py:104}} INFO - CALL lakehouse.system."
                                    f"rewrite_data_files(table => '{table}', options => map('partial-progress.enabled', 'true', "
                                    f"'partial-progress.max-commits', '{rng.choice([10, 20])}')): rewritten_data_files_count="
                                    f"{rng.randint(400, 4000)}, added_data_files_count={rng.randint(20, 200)}")
        last = max(last, end)
        key = task_key(cdag, v.rid, ctask)
        ents.append(key)
        roots.append(key)

        def warn(n, at, table=table):
            for j in range(3):
                w = at - timedelta(seconds=14 - j * 4)
                p.driver_log(w, f"{sparkts(w)} WARN Tasks: Retrying task after failure: Cannot commit glue_catalog.{table} "
                                "because Glue detected concurrent update", "warn")
        mt = rng.choice([0, 1, 2])
        v.overrides.setdefault(dag_id, {})[task_id] = failing_task(v, dag_id, task_id, table, (began + timedelta(seconds=60), end),
                                                                   why_for(table), ents, tasks, fails=mt + 1, max_tries=mt,
                                                                   job=False, on_fail=warn)
        dags.append(dag_id)
    p.run(cdag, v.rid, v.logical, began - timedelta(seconds=1), began, last + timedelta(seconds=2) if last < p.end else None,
          "success" if last < p.end else "running")
    inc = {"id": "compact-1", "start": z(began + timedelta(seconds=60)), "severity": "high", "root_cause_any_of": roots,
           "entities": ents}
    v.incidents.append(inc)
    v.distractors([began, last])
    finish_outage(v, inc, dags, tasks)
    v.summary.append(f"{cdag} compacts {len(victims)} silver tables from {z(began)}; the writers' commits conflict in Glue.")
    return v.build()


MODES = {
    "celery-worker-oom-killed": m_celery_worker_oom_killed,
    "airflow-pool-exhausted": m_airflow_pool_exhausted,
    "replica-lag-stale-extract": m_replica_lag_stale_extract,
    "source-db-password-rotated": m_source_db_password_rotated,
    "nat-gateway-port-exhaustion": m_nat_gateway_port_exhaustion,
    "compaction-commit-contention": m_compaction_commit_contention,
}


if __name__ == "__main__":
    held_out_main(__doc__, MODES)
