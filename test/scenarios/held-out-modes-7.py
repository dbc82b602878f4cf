#!/usr/bin/env python3
"""A seventh set of held-out failure modes (guardian-scenario/1), written by a hand that does not
change the correlator.

  python3 test/scenarios/held-out-modes-7.py --out DIR [--variants N]

None of these 8 is among the 63 modes of modes.py, novel-modes.py and the six earlier held-out
generators. They are scored on the code of the day they were written and once more at the end of
the session, never per mode in between, so their figures say how Guardian does on failures nobody
tuned it for. The rule that keeps them useful: never change Guardian while reading what it does on
these.

They spread over the classes issue 17 names and over the machine / data / external axes:

* a shared resource: the root volume of the Spark Connect driver's host fills and every statement
  that broadcasts fails (machine); a Kafka broker's disk fails and the partitions it alone held go
  offline under the nightly readers (external);
* one machine: a job's user-defined function leaks threads on one Spark worker until the host's
  task limit refuses new threads to every executor there (a job's own behaviour, machine);
* contention: an analyst's notebook application takes every core of the standalone cluster while
  the shared Connect application has released its executors (machine); a backfill's parallel
  extracts take every connection of a source database (a job's own behaviour, external);
* absence: the Celery broker's Sentinel failover after a network partition discards the tasks the
  scheduler published to the isolated master; they stay queued until the scheduler gives up on
  them (machine); yesterday's run of a DAG hangs on a dead socket and, with max_active_runs 1,
  today's run is never created; the DAGs waiting on it time out (data);
* late evidence: a role's maximum session duration is lowered by an infrastructure change; the
  exports that assume it fail minutes later, and the change's record lands late (external).

Each mode is a real incident class of this platform, its wording and causal chain cited beside
it. The platform simulation and the generic mechanics are modes.py's, generate.py's and the
earlier held-out generators', imported. Deterministic: the same command writes the same files.
Python standard library only.
"""
import importlib
import json
import uuid
from datetime import timedelta

from generate import DRIVER_STACK, PYSPARK_TB, afts, daily_dags, metric_key, run_id, sparkts, task_key, ts
from modes import held_out_main, AIRFLOW_TB, REGION, Night, stream_key, z

_h3 = importlib.import_module("held-out-modes-3")
_h4 = importlib.import_module("held-out-modes-4")
_h5 = importlib.import_module("held-out-modes-5")
_h6 = importlib.import_module("held-out-modes-6")
failed_run_entities, by_source, ACCOUNT = _h3.failed_run_entities, _h3.by_source, _h3.ACCOUNT
SQL, CHECK = _h4.SQL, _h4.CHECK
gate_every_task, note, failed_try, ti_repr = _h4.gate_every_task, _h4.note, _h4.failed_try, _h4.ti_repr
wlog, timed_out, cancel, statement = _h5.wlog, _h5.timed_out, _h5.cancel, _h5.statement
retrying = _h6.retrying

CONNECT_ERR = "pyspark.errors.exceptions.connect.SparkConnectGrpcException: "


def pg_stamp(at):
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def kafka_stamp(at):
    return f"[{at.strftime('%Y-%m-%d %H:%M:%S,')}{at.microsecond // 1000:03d}]"


def redis_stamp(at, role):
    return f"1:{role} {at.strftime('%d %b %Y %H:%M:%S')}.{at.microsecond // 1000:03d}"


# =====================================================================================
# A shared resource: the root volume of the Spark Connect driver's host fills
# =====================================================================================
def m_driver_local_disk_full(k):
    """The Spark Connect server's driver keeps spark.local.dir and the application's event log on
    its host's root volume. The long-lived application's event log does not roll and has grown for
    days; when the nightly batch starts, the blocks the driver writes for broadcast joins (every
    MERGE of the silver and gold steps broadcasts its updates) fill what is left. From then on the
    driver cannot store a broadcast piece: the BlockManager logs "Putting block broadcast_N_piece0
    failed due to exception java.io.IOException: No space left on device", the statement fails
    with "Failed to store broadcast_N_piece0 of broadcast_N in local BlockManager", in every DAG,
    while the statements that do not broadcast pass; the event-log listener fails too. An operator
    deletes old event logs and the retries after that pass. The cause is the driver host's disk
    (its filesystem series climbing to full, the driver's own error lines), not the tasks. Source:
    apache/kyuubi#14 ("ERROR SparkContext ... java.io.IOException: No space left on device" on a
    Spark driver host), sparklyr/sparklyr#1390 and #812 and ldbc/ldbc_snb_datagen_spark#254 ("No
    space left on device" from spark.local.dir on a small root partition; "the /tmp directory can
    fill up quickly"), treeverse/lakeFS#9917 (Spark running out of local disk under heavy load),
    apache/spark#3635 / SPARK-4792 (local dir errors), Spark's TorrentBroadcast ("Failed to store
    $pieceId of $broadcastId in local BlockManager") and BlockManager ("Putting block $blockId
    failed due to exception $e."), and the OpenTelemetry host metric system.filesystem.utilization."""
    v = Night("driver-local-disk-full", k)
    p, rng = v.p, v.rng
    full = v.at("02:%02d:%02d" % (rng.randint(3, 7), rng.randint(0, 59)))
    freed = full + timedelta(minutes=rng.randint(16, 26), seconds=rng.randint(0, 59))
    batch = v.at("02:00")
    u0 = rng.uniform(0.86, 0.9)

    def util(t):
        if t < batch:
            return round(u0 + 0.01 * (t - p.start) / (batch - p.start) + rng.uniform(-0.001, 0.001), 4)
        if t < full - timedelta(seconds=59):
            return round(u0 + 0.01 + (0.999 - u0 - 0.01) * (t - batch) / (full - batch) + rng.uniform(-0.001, 0.001), 4)
        if t < freed:
            return round(rng.uniform(0.9995, 1.0), 4)
        return round(rng.uniform(0.41, 0.45), 4)
    fs = v.series({"service.name": "spark-connect", "host.name": p.driver_host}, "system.filesystem.utilization", "gauge", "1",
                  {"device": "/dev/nvme0n1p1", "mode": "rw", "mountpoint": "/", "type": "xfs"}, util)
    err = {"service_name": "spark-driver", "host": p.driver_host, "level": "error"}
    warn = {"service_name": "spark-driver", "host": p.driver_host, "level": "warn"}
    t = full + timedelta(seconds=rng.uniform(1, 8))
    while t < freed:
        p.log(err, t, f"{sparkts(t)} ERROR AsyncEventQueue: Listener EventLoggingListener threw an exception\n"
                      "java.io.IOException: No space left on device\n\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)\n"
                      "\tat java.base/java.io.FileOutputStream.write(FileOutputStream.java:367)\n"
                      "\tat java.base/java.io.BufferedOutputStream.flushBuffer(BufferedOutputStream.java:125)")
        t += timedelta(seconds=rng.uniform(6, 25))
    ents, tasks, failed_dags = [fs, stream_key(err), f"host:{p.driver_host}", stream_key(warn)], [], set()

    def gate(dag, task, table, op, mt):
        def attempt(path, n, t, h):
            dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
            hit = t + timedelta(seconds=rng.uniform(8, 40))
            if not task.startswith(("silver_", "gold_")) or not full <= hit < freed or rng.random() < 0.15:
                return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
            bid = rng.randint(40_000, 90_000)
            p.log(warn, hit - timedelta(milliseconds=30), f"{sparkts(hit)} WARN BlockManager: Putting block broadcast_{bid}_piece0 failed "
                                                          "due to exception java.io.IOException: No space left on device.")
            text = (PYSPARK_TB + f"pyspark.errors.exceptions.connect.SparkException: Failed to store broadcast_{bid}_piece0 of "
                    f"broadcast_{bid} in local BlockManager\n\nJVM stacktrace:\norg.apache.spark.SparkException: Failed to store "
                    f"broadcast_{bid}_piece0 of broadcast_{bid} in local BlockManager\n"
                    "\tat org.apache.spark.broadcast.TorrentBroadcast.$anonfun$writeBlocks$1(TorrentBroadcast.scala:181)\n"
                    "\tat org.apache.spark.sql.execution.exchange.BroadcastExchangeExec.$anonfun$relationFuture$1(BroadcastExchangeExec.scala:174)")
            return p.sql_task(dag, v.rid, task, table, t, (hit - t).total_seconds() - 1.5, h, n, mt, path, fail=lambda sid: "",
                              job=False, final_log=text, operator=op), False
        return retrying(v, dag, task, mt, attempt, tasks, ents, failed_dags)
    gate_every_task(v, gate)
    v.distractors([full, freed])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "driver-disk-1", "start": z(full), "severity": "critical",
                            "root_cause_any_of": [fs, stream_key(err), f"host:{p.driver_host}"], "entities": ents})
    v.summary.append(f"The Spark Connect driver's root volume on {p.driver_host} is full from {z(full)} to {z(freed)}; "
                     f"{len(tasks)} statements that broadcast fail.")
    return v.build()


# =====================================================================================
# Absence: a Sentinel failover after a partition discards the tasks sent to the old master
# =====================================================================================
def m_sentinel_failover_lost_tasks(k):
    """The Celery broker is a Redis master with one replica and three Sentinels. A network
    partition isolates the master's availability zone: the Sentinels and the replica on the other
    side see the master down, agree (+sdown, +odown, quorum 2/2), elect a leader and promote the
    replica (+switch-master); the Celery workers lose their connection and reconnect through the
    Sentinels to the new master. The scheduler, in the master's zone, keeps its open connection
    and goes on publishing tasks to the isolated old master. When the partition heals the Sentinels
    reconfigure the old master as a replica (+convert-to-slave): it flushes its data and
    resynchronises, and every task message published to it during the partition is lost. Those
    tasks stay queued in Airflow, never received by any worker, until the scheduler's
    task_queued_timeout marks them failed and they are retried. Nothing fails at the time of the
    cause; the evidence is the Sentinels' and the old master's log, minutes before the first
    failure. Source: redis/redis#1073 (antirez: a partitioned master receiving writes is a
    "split-brain condition"), apecloud/kubeblocks#5107 ("some data are written successfully in the
    old master during the partition time", "You can't write against a read only replica"),
    StackExchange/StackExchange.Redis#121 ("This will lead to a possibly extended period of lost
    writes when the cluster heals"), redis/redis#3306 and #6459 (Sentinel's +sdown/+odown/
    +try-failover/+elected-leader/+switch-master sequence), celery/celery#1789 ("some tasks that are
    supposed to be spawned are lost"), apache/airflow#24731, #28941 and #32484 (Celery tasks stuck
    queued after the broker went away), stackabletech/airflow-operator#631 (after a Redis master
    switch "Every task is queued ... or they run into the dag timeout"), kombu#813 (Sentinel
    reconnection) and apache/airflow#30375 (the scheduler's "stuck in queued" message)."""
    v = Night("sentinel-failover-lost-tasks", k)
    p, rng = v.p, v.rng
    old, new = "redis-broker-0", "redis-broker-1"
    old_ip = f"10.0.{rng.randint(2, 4)}.{rng.randint(10, 250)}"
    new_ip = f"10.0.{rng.randint(5, 8)}.{rng.randint(10, 250)}"
    name = "airflow-broker"
    cut = v.at("02:02:30") + timedelta(seconds=rng.uniform(0, 150))
    heal = cut + timedelta(minutes=rng.uniform(4, 9))
    epoch = rng.randint(5, 40)
    runid = uuid.UUID(int=rng.getrandbits(128)).hex[:40]
    s1 = {"service_name": "redis-sentinel", "host": "redis-sentinel-1", "level": "warning"}
    s2 = {"service_name": "redis-sentinel", "host": "redis-sentinel-2", "level": "warning"}
    rlog = {"service_name": "redis", "host": old, "level": "warning"}
    master = f"master {name} {old_ip} 6379"
    promote = f"slave {new_ip}:6379 {new_ip} 6379 @ {name} {old_ip} 6379"
    demoted = f"slave {old_ip}:6379 {old_ip} 6379 @ {name} {new_ip} 6379"
    t = cut + timedelta(seconds=30 + rng.uniform(0.05, 0.9))  # down-after-milliseconds 30000
    for s in (s1, s2):
        p.log(s, t + timedelta(milliseconds=rng.randint(0, 400)), f"{redis_stamp(t, 'X')} # +sdown {master}")
    t += timedelta(seconds=0.5)
    steps = [("# +odown", f"{master} #quorum 2/2"), ("# +new-epoch", str(epoch)), ("# +try-failover", master),
             ("# +vote-for-leader", f"{runid} {epoch}"), ("# +elected-leader", master),
             ("# +failover-state-select-slave", master), ("# +selected-slave", promote),
             ("* +failover-state-send-slaveof-noone", promote), ("* +failover-state-wait-promotion", promote),
             ("# +promoted-slave", promote), ("# +failover-state-reconf-slaves", master), ("# +failover-end", master),
             ("# +switch-master", f"{name} {old_ip} 6379 {new_ip} 6379"), ("* +slave", demoted), ("# +sdown", demoted)]
    for tag, what in steps:
        p.log(s1, t, f"{redis_stamp(t, 'X')} {tag} {what}")
        if tag in ("# +new-epoch", "# +vote-for-leader", "# +switch-master", "* +slave", "# +sdown"):
            t2 = t + timedelta(milliseconds=rng.randint(20, 300))
            p.log(s2, t2, f"{redis_stamp(t2, 'X')} {tag} {what}")
        t += timedelta(milliseconds=rng.randint(80, 1100))
    promoted = t
    r = cut + timedelta(seconds=60 + rng.uniform(0, 2))  # repl-timeout
    p.log(rlog, r, f"{redis_stamp(r, 'M')} # Disconnecting timedout replica (streaming sync): {new_ip}:6379")
    for s in (s1, s2):
        h2 = heal + timedelta(milliseconds=rng.randint(100, 900))
        p.log(s, h2, f"{redis_stamp(h2, 'X')} # -sdown {demoted}")
    conv = heal + timedelta(seconds=rng.uniform(1, 10))
    p.log(s1, conv, f"{redis_stamp(conv, 'X')} * +convert-to-slave {demoted}")
    r = conv + timedelta(milliseconds=rng.randint(30, 200))
    offset = rng.randint(10**9, 9 * 10**9)
    for line in ["* Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to "
                 "synchronize with the new master with just a partial transfer.",
                 f"* Connecting to MASTER {new_ip}:6379", "* MASTER <-> REPLICA sync started",
                 f"* Full resync from master: {uuid.UUID(int=rng.getrandbits(128)).hex}{rng.randint(10**7, 10**8 - 1)}:{offset}",
                 f"* MASTER <-> REPLICA sync: receiving {rng.randint(2_000_000, 9_000_000)} bytes from master to disk",
                 "* MASTER <-> REPLICA sync: Flushing old data", "* MASTER <-> REPLICA sync: Loading DB in memory",
                 "* MASTER <-> REPLICA sync: Finished with success"]:
        p.log(rlog, r, f"{redis_stamp(r, 'S')} {line}")
        r += timedelta(milliseconds=rng.randint(5, 400))
    wwarn, seen = [], []
    for w in p.airflow_workers:
        lw = {"service_name": "airflow-worker", "host": w, "level": "warning"}
        at = cut + timedelta(seconds=rng.uniform(8, 40))
        p.log(lw, at, f"{wlog(at)} [warning  ] consumer: Connection to broker lost. Trying to re-establish the connection... "
                      "[celery.worker.consumer.consumer]")
        seen.append(at)
        back = promoted + timedelta(seconds=rng.uniform(2, 12))
        p.aw_log(w, back, f"{wlog(back)} [info     ] Connected to sentinel://redis-sentinel-0:26379/0 "
                          "[celery.worker.consumer.connection]")
        wwarn.append(stream_key(lw))
    sched_warn = {"service_name": "airflow-scheduler", "host": "airflow-scheduler-1", "level": "warning"}
    ents = [stream_key(s1), stream_key(s2), stream_key(rlog), f"host:{old}", stream_key(sched_warn)] + wwarn
    tasks, failed_dags, lost = [], set(), []
    timeout = 600

    def gate(dag, task, table, op, mt):
        def run(path, t, host):
            n = 1
            while True:
                h = host if n == 1 else p.pick_worker(t)
                dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
                if not cut <= t < heal:
                    return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
                out = t + timedelta(seconds=timeout + rng.uniform(1, 20))
                lost.append((t, out))
                row = p.ti(dag, v.rid, task, n, mt, t, out, out, "up_for_retry" if n <= mt else "failed", None, op)
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
    v.distractors([cut, heal, cut + timedelta(minutes=20)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    dom = rng.choice(v.domains)[0]
    se = heal + timedelta(seconds=rng.uniform(0.5, 3))
    p.sched_log(se, f"[{afts(se)}] {{celery_executor.py:239}} ERROR - Error sending Celery task: READONLY You can't write against "
                    f"a read only replica.\nCelery Task ID: TaskInstanceKey(dag_id='{dom}_daily', task_id='dq_{dom}', "
                    f"run_id='{v.rid}', try_number=1, map_index=-1)", "error")

    def queued(sc):
        for m in sc["metrics"]:
            if m["name"] == "airflow.executor.queued_tasks":
                for i in range(len(m["values"])):
                    at = p.start + timedelta(minutes=i)
                    m["values"][i] += sum(1 for a, b in lost if a <= at < b)
    v.post.append(queued)
    if tasks:
        v.incidents.append({"id": "failover-1", "start": z(min(seen)), "severity": "high",
                            "root_cause_any_of": [stream_key(s1), stream_key(s2), stream_key(rlog), f"host:{old}"],
                            "entities": ents})
    v.summary.append(f"A partition isolates the broker's master {old} from {z(cut)} to {z(heal)}; Sentinel promotes {new}, the "
                     f"old master's tasks are discarded when it rejoins, {len(tasks)} tasks stay queued until the timeout.")
    return v.build()


# =====================================================================================
# Contention between applications: a notebook takes every core of the standalone cluster
# =====================================================================================
def m_standalone_app_takes_all_cores(k):
    """The nightly DAGs share one Spark Connect application with dynamic allocation (minimum 0
    executors): in the quiet minutes before the batch it releases its idle executors ("Executor
    killed by driver."). An analyst starts a notebook against the same standalone master without
    spark.cores.max; a standalone application takes every free core by default, so the master
    gives it one executor with all cores on every worker. When the batch starts, the Connect
    application asks for executors ("Requesting N new executors because tasks are backlogged") and
    gets none: every statement of every DAG waits ("Initial job has not accepted any resources;
    check your cluster UI to ensure that workers are registered and have sufficient resources")
    until its execution_timeout kills it and its operation is interrupted. When an operator kills
    the notebook the Connect application gets its executors back and the retries pass. The cause
    is the other application (its registration and its executors in the master's log), not the
    victims. Source: cluster-apps-on-docker/spark-standalone-cluster-on-docker#83 ("You have
    another Spark Application running on this cluster already (e.g. a Spark Session created in
    Jupyter Lab) ... In a Standalone Cluster default behavior for a Spark Application is to grab
    all ressources"), databricks/spark-knowledgebase#9 and #12 (the "Initial job has not accepted
    any resources" warning; set spark.cores.max per application), amplab/spark-ec2#86 (a second
    application kept waiting), apache/spark#29332 ("in standalone mode ... you get them all by
    default"), Spark's ExecutorAllocationManager and Master logs ("Registered app ... with ID",
    "Launching executor ... on worker ...", "Removing app ...") and Airflow's "AirflowTaskTimeout"."""
    v = Night("standalone-app-takes-all-cores", k)
    p, rng = v.p, v.rng
    idle = p.start + timedelta(seconds=rng.uniform(20, 80))
    grab = min(idle + timedelta(minutes=rng.uniform(1.5, 4)), v.at("01:59:30"))
    kill = v.at("02:%02d:%02d" % (rng.randint(22, 36), rng.randint(0, 59)))
    ready = kill + timedelta(seconds=rng.uniform(12, 25))
    for e in p.executors:
        e["removeTime"] = ts(idle + timedelta(seconds=rng.uniform(0, 5)))
        e["removeReason"] = "Executor killed by driver."
    for h in p.workers:
        fresh = []
        for _ in range(4):
            e = {"id": str(p.next_exec), "hostPort": f"{h}:{rng.randint(32000, 46000)}",
                 "addTime": ts(ready - timedelta(seconds=rng.uniform(0, 6))), "totalCores": 4, "maxMemory": 7194093158,
                 "failedTasks": 0, "totalTasks": rng.randint(50, 900)}
            p.next_exec += 1
            p.executors.append(e)
            fresh.append(e)
        p.exec_by_host[h] = fresh
    user = rng.choice(["mkowalski", "jdoe", "asingh", "lchen", "tnguyen", "rgarcia"])
    aid = "app-" + grab.strftime("%Y%m%d%H%M%S") + f"-{rng.randint(2, 60):04d}"
    aname = f"jupyter-{user}"
    mlog = {"service_name": "spark-master", "host": "10.0.1.10", "level": "info"}
    p.log(mlog, grab, f"{sparkts(grab)} INFO Master: Registering app {aname}")
    p.log(mlog, grab + timedelta(milliseconds=4), f"{sparkts(grab)} INFO Master: Registered app {aname} with ID {aid}")
    execs = [{"id": "driver", "hostPort": f"10.0.9.{rng.randint(10, 250)}:{rng.randint(32000, 46000)}", "addTime": ts(grab),
              "totalCores": 0, "maxMemory": 2147483648, "failedTasks": 0}]
    for i, h in enumerate(p.workers):
        at = grab + timedelta(seconds=1 + 0.05 * i)
        p.log(mlog, at, f"{sparkts(at)} INFO Master: Launching executor {aid}/{i} on worker {p.workers[h]['id']}")
        execs.append({"id": str(i), "hostPort": f"{h}:{rng.randint(32000, 46000)}", "addTime": ts(at + timedelta(seconds=3)),
                      "totalCores": 16, "maxMemory": 34359738368, "failedTasks": 0})
    p.log(mlog, kill, f"{sparkts(kill)} INFO Master: Received unregister request from application {aid}")
    p.log(mlog, kill + timedelta(milliseconds=6), f"{sparkts(kill)} INFO Master: Removing app {aid}")
    ajobs, astages = [], []
    t, jid, sid = grab + timedelta(seconds=rng.uniform(40, 90)), 0, 0
    while t < kill:
        d = timedelta(minutes=rng.uniform(4, 14))
        done = t + d < kill
        ajobs.append({"jobId": jid, "name": "toPandas at /tmp/ipykernel_1/3187064121.py:4", "submissionTime": ts(t),
                      "completionTime": ts(t + d if done else kill), "stageIds": [sid], "status": "SUCCEEDED" if done else "FAILED",
                      "numTasks": 2000, "numFailedTasks": 0})
        astages.append({"stageId": sid, "attemptId": 0, "name": "toPandas at /tmp/ipykernel_1/3187064121.py:4",
                        "status": "COMPLETE" if done else "FAILED", "submissionTime": ts(t), "completionTime": ts(t + d if done else kill),
                        "numTasks": 2000, "numCompleteTasks": 2000 if done else 1180, "numFailedTasks": 0,
                        **({} if done else {"failureReason": f"Job {jid} cancelled because SparkContext was shut down"})})
        t, jid, sid = t + d + timedelta(seconds=rng.uniform(20, 120)), jid + 1, sid + 1
    app = {"id": aid, "name": aname, "start": ts(grab), "end": ts(kill), "jobs": ajobs, "stages": astages, "executors": execs}
    v.post.append(lambda sc: sc["spark"]["applications"].append(app))
    active = metric_key("spark.executors.active", {"service.name": "spark-connect", "host.name": p.driver_host})
    warn = {"service_name": "spark-driver", "host": p.driver_host, "level": "warn"}
    ents = [f"spark:app:{aid}", stream_key(mlog), stream_key(warn), active]
    tasks, failed_dags, waits = [], set(), []
    limits = {"bronze": 900, "silver": 900, "dq": 600, "gold": 900}  # execution_timeout

    def gate(dag, task, table, op, mt):
        limit = limits[task.split("_")[0]]

        def run(path, t, host):
            n = 1
            while True:
                hh = host if n == 1 else p.pick_worker(t)
                sub = t + timedelta(seconds=4.2)
                dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
                if not grab <= sub < ready:
                    return p.sql_task(dag, v.rid, task, table, t, dur, hh, n, mt, path, operator=op), True
                done = ready + timedelta(seconds=dur * rng.uniform(0.6, 0.9))
                if done < t + timedelta(seconds=limit):  # waits, then runs once executors come back
                    waits.append((sub, ready))
                    return p.sql_task(dag, v.rid, task, table, t, (done - t).total_seconds(), hh, n, mt, path, operator=op), True
                s0 = t + timedelta(seconds=rng.uniform(0.8, 2.5))
                out = s0 + timedelta(seconds=limit + rng.uniform(0.2, 1.5))
                waits.append((sub, out))
                lines = p.spark_task_logs(dag, task, v.rid, s0, [(statement(table, op), None)], path)
                vjob, vsids = p.spark_job(dag, task, v.rid, s0 + timedelta(seconds=2.6), out + timedelta(seconds=0.4), "FAILED",
                                          lambda sid: "", nstages=1)
                cancel(p, vjob)
                ents.extend([f"spark:job:{p.app_id}/{vjob['jobId']}", f"spark:stage:{p.app_id}/{vsids[-1]}"])
                p.ti(dag, v.rid, task, n, mt, t, s0, out, "up_for_retry" if n <= mt else "failed", hh, op,
                     log=lines + timed_out(out, rng.randint(2000, 60000)))
                retry = failed_try(v, dag, task, n, mt, out, tasks, ents, failed_dags)
                if retry is None:
                    return out, False
                n, t = n + 1, retry
        return run
    gate_every_task(v, gate)
    orig = p.sql_task

    def ops_waits(dag_id, rid, task_id, table, t0, dur_s, *a, **kw):
        # the ops refresh waits for executors too (it has no timeout)
        if dag_id == "ops_maintenance" and grab <= t0 + timedelta(seconds=4.2) < ready:
            waits.append((t0 + timedelta(seconds=4.2), ready))
            dur_s = (ready - t0).total_seconds() + dur_s * 0.7
        return orig(dag_id, rid, task_id, table, t0, dur_s, *a, **kw)
    p.sql_task = ops_waits
    v.distractors([grab + timedelta(minutes=10 * i) for i in range(5)] + [kill])
    daily_dags(p, v.domains, v.logical, v.overrides)
    p.sql_task = orig
    failed_run_entities(v, ents, sorted(failed_dags))
    if waits:
        first = min(a for a, _ in waits)
        p.driver_log(first + timedelta(seconds=1), f"{sparkts(first)} INFO ExecutorAllocationManager: Requesting {len(p.workers) * 4} new "
                                                   f"executors because tasks are backlogged (new desired total will be "
                                                   f"{len(p.workers) * 4} for resource profile id: 0)")
        t = first + timedelta(seconds=15)
        while t < ready:
            p.driver_log(t, f"{sparkts(t)} WARN TaskSchedulerImpl: Initial job has not accepted any resources; check your cluster UI "
                            "to ensure that workers are registered and have sufficient resources", "warn")
            t += timedelta(seconds=15)
    if tasks:
        v.incidents.append({"id": "cores-1", "start": z(grab), "severity": "high",
                            "root_cause_any_of": [f"spark:app:{aid}", stream_key(mlog)], "entities": ents})
    v.summary.append(f"Notebook application {aid} takes every core from {z(grab)} to {z(kill)} while the Connect application has no "
                     f"executors; {len(tasks)} nightly tasks time out waiting.")
    return v.build()


# =====================================================================================
# Contention for an external resource: a backfill takes every connection of a source database
# =====================================================================================
def m_backfill_exhausts_source_connections(k):
    """A data engineer starts a backfill of a history extract shortly before the nightly batch:
    sixteen daily runs at once (the backfill's max_active_runs), each reading the source PostgreSQL
    database over a dozen parallel JDBC partitions. Together they hold nearly every connection the
    database allows (max_connections 200, three reserved for superusers). The nightly loads of
    every DAG that extracts from that database then cannot connect ("FATAL: remaining connection
    slots are reserved for non-replication superuser connections"), nor can the source
    application's own clients; the loads fail on their retry too and their DAGs' runs fail. When
    enough of the backfill's extracts finish, connections free up. The cause is the backfill (a
    job's own behaviour on a shared external resource); its evidence is the database's connection
    count at its limit from the minute the backfill starts, and the database's log. Source:
    irrdnet/irrd#350 and goauthentik/authentik#9157 ("psycopg2.OperationalError: FATAL: remaining
    connection slots are reserved for non-replication superuser connections"), TOSIT-IO/
    tdp-collection#353 (the same refusal to a JDBC pool: "Failed to initialize pool: FATAL:
    remaining connection slots are reserved ..."), canonical/postgresql-k8s-operator#499 (the
    server's log lines, one per refused connection), ChicagoCityscape/website#505 ("This happens
    every morning around 8 AM": a scheduled load exhausting connections), greenplum-db/gpdb#9613
    (superuser_reserved_connections), apache/airflow#18051 (a long backfill with many runs
    starving other work), AWS RDS's DatabaseConnections metric, Spark's JDBC numPartitions."""
    v = Night("backfill-exhausts-source-connections", k)
    p, rng = v.p, v.rng
    src, doms = by_source(v)
    db = f"{src}-db"
    table = rng.choice(["orders", "order_lines", "ledger_entries", "stock_movements", "events"])
    bdag, btask, bpath = f"{src}_history_extract", f"extract_{src}_history", f"backfills/{src}_history_extract.py"
    p.dag(bdag, "0 3 * * *", ["backfill", src], "data-eng", bpath)
    bf = max(p.start + timedelta(minutes=1), v.at("01:%02d:%02d" % (rng.randint(52, 58), rng.randint(0, 59))))
    runs, per, maxc, base = 16, rng.choice([12, 13]), 200, rng.randint(22, 38)
    spans, bkeys = [], []
    first_day = (v.logical - timedelta(days=rng.randint(200, 400))).replace(hour=3, minute=0)
    for i in range(runs):
        lg = first_day + timedelta(days=i)
        rid = f"backfill__{lg.strftime('%Y-%m-%dT%H:%M:%S')}+00:00"
        q = bf + timedelta(seconds=0.2 * i + rng.uniform(0, 0.3))
        st = q + timedelta(seconds=rng.uniform(1, 4))
        end = st + timedelta(minutes=rng.uniform(24, 40))
        spans.append((st + timedelta(seconds=3), end))
        stmt = (f"INSERT OVERWRITE lakehouse.bronze.{src}_{table}_history SELECT * FROM jdbc_{src}.public.{table} "
                f"WHERE updated_at >= DATE '{lg:%Y-%m-%d}' AND updated_at < DATE '{lg + timedelta(days=1):%Y-%m-%d}'")
        log = p.spark_task_logs(bdag, btask, rid, st, [(stmt, (end - st).total_seconds() - 3)], bpath)
        log.insert(2, f"[{afts(st + timedelta(seconds=2))}] {{history.py:37}} INFO - Reading {src}.public.{table} for {lg:%Y-%m-%d} "
                      f"over {per} JDBC partitions (numPartitions={per}, partitionColumn=id)")
        p.spark_job(bdag, btask, rid, st + timedelta(seconds=2.6), end - timedelta(seconds=0.5))
        p.ti(bdag, rid, btask, 1, 1, q, st, end, "success", p.pick_worker(q), SQL, log=log)
        p.run(bdag, rid, lg, q - timedelta(seconds=0.3), q, end + timedelta(seconds=1), "success", run_type="backfill")
        bkeys.append(task_key(bdag, rid, btask))

    def running(t):
        return sum(1 for a, b in spans if a <= t < b)

    def refused(t):
        return base + per * running(t) + 2 >= maxc - 3
    conn = v.series({"service.name": "aws-rds", "cloud.region": REGION, "db.instance.id": db}, "aws.rds.database_connections",
                    "gauge", "{connection}", {}, lambda t: min(maxc - 3, base + per * running(t) + rng.randint(-2, 2)))
    pg = {"service_name": "postgresql", "host": db, "level": "fatal"}

    def pglog(at, user):
        p.log(pg, at, f"{pg_stamp(at)}:10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}({rng.randint(32768, 60999)}):{user}@{src}:"
                      f"[{rng.randint(2000, 60000)}]:FATAL:  remaining connection slots are reserved for non-replication superuser "
                      "connections")
    t = bf + timedelta(seconds=rng.uniform(5, 30))
    while t < p.end:
        if refused(t) and rng.random() < 0.6:
            pglog(t, "app")
        t += timedelta(seconds=rng.uniform(20, 70))
    ents = [f"airflow:dag:{bdag}", conn, stream_key(pg), f"host:{db}"] + bkeys
    tasks, failed_dags = [], set()
    for dom in doms:
        dag, task = f"{dom}_daily", f"bronze_{dom}_{src}"

        def attempt(path, n, t, h, dag=dag, task=task, dom=dom):
            at = t + timedelta(seconds=rng.uniform(3, 5))
            if not refused(at):
                return p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", t, rng.uniform(120, 420), h, n, 1, path), True
            pglog(at, "etl_reader")
            text = (PYSPARK_TB + CONNECT_ERR + "(org.postgresql.util.PSQLException) FATAL: remaining connection slots are reserved "
                                               "for non-replication superuser connections")
            return p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", t, (at - t).total_seconds() - 1.2, h, n, 1, path,
                              fail=lambda sid: "", job=False, final_log=text), False
        v.overrides[dag] = {task: retrying(v, dag, task, 1, attempt, tasks, ents, failed_dags)}
    v.distractors([bf, bf + timedelta(minutes=20)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "backfill-1", "start": z(bf), "severity": "high",
                            "root_cause_any_of": [f"airflow:dag:{bdag}", conn, stream_key(pg), f"host:{db}"] + bkeys,
                            "entities": ents})
    v.summary.append(f"A backfill of {bdag} ({runs} runs x {per} JDBC partitions) from {z(bf)} takes {db}'s connections; "
                     f"{len(tasks)} nightly extracts cannot connect.")
    return v.build()


# =====================================================================================
# A shared external resource: a Kafka broker's disk fails; partitions it alone held go offline
# =====================================================================================
def m_kafka_partition_offline(k):
    """On the shared Kafka cluster some partitions of one event topic have had a single in-sync
    replica since a broker restart the day before (their follower never caught up; the
    under-replicated count says so all along). Shortly before the batch the data volume of the
    broker leading them fails: the broker logs "Error while appending records ... in dir
    /var/lib/kafka/data" with an IOException and shuts down because all its log dirs failed. With
    unclean leader election disabled the controller cannot elect a leader for those partitions
    ("Failed to elect leader for partition ... under strategy
    OfflinePartitionLeaderElectionStrategy(false)"): they are offline. The nightly bronze loads of
    the DAGs that read the topic ask for the partitions' positions and time out after three
    attempts ("Timeout of 60000ms expired before the position for partition ... could be
    determined"), on their retry too; when the volume is replaced and the broker returns, loads
    pass. The cause is that broker (its log, the offline-partition count). Source:
    strimzi/strimzi-kafka-operator#4844 ("ERROR Shutdown broker because all log dirs in ... have
    failed (kafka.log.LogManager)"), apache/kafka#2929 / KIP-112 ("Error while appending records to
    partition ... in dir ..."), apache/kafka#9676 / KAFKA-10778 (append after a log-dir failure),
    getsentry/self-hosted#1321 ("Controller ... failed to change state for partition ... from
    OfflinePartition to OnlinePartition ... StateChangeFailedException: Failed to elect leader for
    partition ... under strategy OfflinePartitionLeaderElectionStrategy(false)"), apache/beam#30965
    and akka/alpakka-kafka#716 ("org.apache.kafka.common.errors.TimeoutException: Timeout of 60000ms
    expired before the position for partition ... could be determined"), Spark's
    KafkaOffsetReader ("Error in attempt N getting Kafka offsets") and the JMX metrics
    OfflinePartitionsCount and UnderReplicatedPartitions."""
    v = Night("kafka-partition-offline", k)
    p, rng = v.p, v.rng
    topic = rng.choice(["clickstream", "app-events", "device-telemetry", "order-events", "cart-events"])
    readers = rng.sample(v.domains, rng.randint(2, 3))
    parts = rng.choice([6, 12])
    lost = sorted(rng.sample(range(parts), rng.randint(1, 3)))
    fail = max(p.start + timedelta(minutes=1), v.at("01:%02d:%02d" % (rng.randint(54, 58), rng.randint(0, 59))))
    fixed = fail + timedelta(minutes=rng.randint(28, 42), seconds=rng.randint(0, 59))
    broker, ctrl = "kafka-broker-2", "kafka-broker-1"
    b2 = {"service_name": "kafka", "host": broker, "level": "error"}
    ce = {"service_name": "kafka", "host": ctrl, "level": "error"}
    ci = {"service_name": "kafka", "host": ctrl, "level": "info"}
    p.log(b2, fail, f"{kafka_stamp(fail)} ERROR Error while appending records to {topic}-{lost[0]} in dir /var/lib/kafka/data "
                    "(org.apache.kafka.storage.internals.log.LogDirFailureChannel)\njava.io.IOException: Input/output error\n"
                    "\tat java.base/sun.nio.ch.FileDispatcherImpl.write0(Native Method)\n"
                    "\tat java.base/sun.nio.ch.FileDispatcherImpl.write(FileDispatcherImpl.java:62)")
    at = fail + timedelta(milliseconds=rng.randint(200, 900))
    p.log(b2, at, f"{kafka_stamp(at)} ERROR Shutdown broker because all log dirs in /var/lib/kafka/data have failed "
                  "(kafka.log.LogManager)")
    at = fail + timedelta(seconds=rng.uniform(6, 18))  # the broker's session times out
    epoch = rng.randint(10, 90)
    p.log(ci, at, f"{kafka_stamp(at)} INFO [Controller id=1] Newly added brokers: , deleted brokers: 2, bounced brokers: , "
                  "all live brokers: 1,3 (kafka.controller.KafkaController)")
    offline_at = at + timedelta(seconds=0.3)
    for pt in lost:
        p.log(ce, offline_at, f"{kafka_stamp(offline_at)} ERROR [Controller id=1 epoch={epoch}] Controller 1 epoch {epoch} failed to "
                              f"change state for partition {topic}-{pt} from OfflinePartition to OnlinePartition (state.change.logger)\n"
                              f"kafka.common.StateChangeFailedException: Failed to elect leader for partition {topic}-{pt} under "
                              "strategy OfflinePartitionLeaderElectionStrategy(false)")
    p.log(ci, fixed, f"{kafka_stamp(fixed)} INFO [Controller id=1] Newly added brokers: 2, deleted brokers: , bounced brokers: , "
                     "all live brokers: 1,2,3 (kafka.controller.KafkaController)")
    res = {"service.name": "kafka", "host.name": ctrl}
    offline = v.series(res, "kafka.partition.offline", "gauge", "{partition}", {},
                       lambda t: len(lost) if offline_at - timedelta(seconds=59) <= t < fixed else 0)
    v.series(res, "kafka.partition.under_replicated", "gauge", "{partition}", {},
             lambda t: (parts // 3 + len(lost)) if fail - timedelta(seconds=59) <= t < fixed else len(lost))
    warn = {"service_name": "spark-driver", "host": p.driver_host, "level": "warn"}
    ents, tasks, failed_dags = [f"host:{broker}", stream_key(b2), offline, stream_key(ce), stream_key(warn)], [], set()
    for dom, src in readers:
        dag, task = f"{dom}_daily", f"bronze_{dom}_{src}"

        def attempt(path, n, t, h, dag=dag, task=task, dom=dom, src=src):
            st = t + timedelta(seconds=1.5)
            if not fail <= st < fixed:
                return p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", t, rng.uniform(60, 300), h, n, 1, path), True
            pt = rng.choice(lost)
            why = f"Timeout of 60000ms expired before the position for partition {topic}-{pt} could be determined"
            a = st + timedelta(seconds=2.4)
            for i in range(1, 4):
                a += timedelta(seconds=60 + rng.uniform(0.1, 1.2))
                p.log(warn, a, f"{sparkts(a)} WARN KafkaOffsetReaderConsumer: Error in attempt {i} getting Kafka offsets: \n"
                               f"org.apache.kafka.common.errors.TimeoutException: {why}")
            text = PYSPARK_TB + CONNECT_ERR + f"(org.apache.kafka.common.errors.TimeoutException) {why}"
            return p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", t, (a - t).total_seconds() - 1.2, h, n, 1, path,
                              fail=lambda sid: "", job=False, final_log=text), False
        v.overrides[dag] = {task: retrying(v, dag, task, 1, attempt, tasks, ents, failed_dags)}
    v.distractors([fail, v.logical + timedelta(minutes=15)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "kafka-1", "start": z(fail), "severity": "high",
                            "root_cause_any_of": [f"host:{broker}", stream_key(b2), offline, stream_key(ce)], "entities": ents})
    v.summary.append(f"{broker}'s data volume fails at {z(fail)}; {len(lost)} partitions of {topic} are offline until {z(fixed)} and "
                     f"{len(tasks)} nightly loads cannot read it.")
    return v.build()


# =====================================================================================
# Absence: yesterday's hung run holds max_active_runs; today's run is never created
# =====================================================================================
def m_hung_run_blocks_next_run(k):
    """One pipeline's DAG runs with max_active_runs 1. Yesterday its extract from a source
    database hung: the source failed over during the read, the connection was left half-open and
    the JDBC driver, without a socket timeout, waits in socketRead forever; the task has no
    execution_timeout, so the task, its Spark job and its DAG run are still running a day later,
    and nothing fails. At 02:00 the scheduler does not create tonight's run ("DAG ... is at (or
    above) max_active_runs (1 of 1), not creating any more runs"). The DAGs whose gold step waits
    for that pipeline's gold table with an ExternalTaskSensor poke in vain until their timeout,
    fail with AirflowSensorTimeout, and their gold steps never run. The cause is yesterday's hung
    task (its run holding the only slot); the symptom is a run that does not exist. Source:
    pgjdbc/pgjdbc#1508 ("Hung during socketRead0": a thread "still waiting for ack after
    failover/switch") and #1143 ("Thread hangs on socket read forever", a firewall closing idle
    connections; tcpKeepAlive), apache/airflow#26397 (new runs stop when a slow run holds
    max_active_runs=1), #29524 (a deadlock when max_active_runs is maxed), #986 ("document that
    max_active_runs can prevent a DAG from running"), #72403 (the scheduler's "DAG %s is at (or
    above) max_active_runs (%d of %d), not creating any more runs" with the blocking run), and
    apache/airflow#49122 (ExternalTaskSensor's "Poking for tasks ..." and "AirflowSensorTimeout:
    Sensor has timed out; run duration of N seconds exceeds the specified timeout of N.")."""
    v = Night("hung-run-blocks-next-run", k)
    p, rng = v.p, v.rng
    sdom, ssrc = rng.choice(v.domains)
    v.domains = [(d, s) for d, s in v.domains if d != sdom]
    sdag, spath = f"{sdom}_daily", f"pipelines/{sdom}_daily.py"
    p.dag(sdag, "0 2 * * *", ["bronze", "silver", "gold", sdom], "data-eng", spath)
    ylg = v.logical - timedelta(days=1)
    yrid = run_id(ylg)
    yq = ylg + timedelta(seconds=rng.uniform(0.5, 3))
    yst = yq + timedelta(seconds=rng.uniform(0.8, 2))
    htask = f"bronze_{sdom}_{ssrc}"
    stmt = (f"INSERT INTO lakehouse.bronze.{sdom}_{ssrc} SELECT *, current_timestamp() AS ingested_at FROM jdbc_{ssrc}.public.{sdom} "
            f"WHERE updated_at >= DATE '{ylg:%Y-%m-%d}'")
    hhost = rng.choice(p.airflow_workers)
    log = p.spark_task_logs(sdag, htask, yrid, yst, [(stmt, None)], spath)
    job, sids = p.spark_job(sdag, htask, yrid, yst + timedelta(seconds=2.6), yst + timedelta(minutes=40), "RUNNING", None, nstages=2)
    job["completionTime"] = None
    p.stages[-2]["completionTime"] = ts(yst + timedelta(minutes=rng.uniform(2, 5)))
    p.stages[-1].update({"status": "ACTIVE", "completionTime": None, "numCompleteTasks": p.stages[-1]["numTasks"] - 1})
    row = p.ti(sdag, yrid, htask, 1, 1, yq, yst, None, "running", None, SQL, log=log)
    row["hostname"], row["pid"] = hhost, rng.randint(1000, 65000)
    p.run(sdag, yrid, ylg, yq - timedelta(seconds=0.3), yq, None, "running")
    hkey, hjob = task_key(sdag, yrid, htask), f"spark:job:{p.app_id}/{job['jobId']}"
    created = v.logical + timedelta(seconds=rng.uniform(0.3, 1.5))
    p.sched_log(created, f"[{afts(created)}] {{scheduler_job_runner.py:1513}} INFO - DAG {sdag} is at (or above) max_active_runs "
                         "(1 of 1), not creating any more runs")
    waiters = rng.sample([d for d, _ in v.domains], rng.randint(2, 3))
    ents = [hkey, f"airflow:dagrun:{sdag}/{yrid}", f"airflow:dag:{sdag}", hjob, f"spark:stage:{p.app_id}/{sids[-1]}"]
    tasks, failed_dags, running = [], set(), []
    limits = {wdom: rng.choice([1800, 2700, 3600]) for wdom in waiters}

    def gold_after_sensor(wdom):
        wdag, gtask, sname = f"{wdom}_daily", f"gold_{wdom}_daily", f"wait_for_{sdom}_gold"

        def run(path_, t, host):
            st = t + timedelta(seconds=rng.uniform(0.8, 2.5))
            limit = limits[wdom]
            out = st + timedelta(seconds=limit + rng.uniform(0.2, 1.5))
            poke = (f"{{external_task.py:251}} INFO - Poking for tasks ['gold_{sdom}_daily'] in dag {sdag} on "
                    f"{v.logical.strftime('%Y-%m-%dT%H:%M:%S')}+00:00 ... ")
            if out + timedelta(seconds=5) > p.end:
                p.ti(wdag, v.rid, sname, 1, 0, t, st, None, "running", host, "ExternalTaskSensor", pool="default_pool",
                     log=[f"[{afts(st + timedelta(seconds=1))}] {poke}"])
                note(task_key(wdag, v.rid, sname), tasks, ents)
                running.append(wdag)
                return p.end + timedelta(hours=1), False
            log = [f"[{afts(st + timedelta(seconds=1 + 60 * i))}] {poke}" for i in range(0, limit // 60, 5)]
            log.append(f"[{afts(out)}] {{task_runner.py:1084}} ERROR - " + AIRFLOW_TB
                       + '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/bases/sensor.py", line 244, in execute\n'
                         "    raise AirflowSensorTimeout(message)\n"
                         f"airflow.exceptions.AirflowSensorTimeout: Sensor has timed out; run duration of {(out - st).total_seconds():.4f} "
                         f"seconds exceeds the specified timeout of {float(limit)}.")
            p.ti(wdag, v.rid, sname, 1, 0, t, st, out, "failed", host, "ExternalTaskSensor", pool="default_pool", log=log)
            note(task_key(wdag, v.rid, sname), tasks, ents)
            failed_dags.add(wdag)
            p.skipped(wdag, v.rid, gtask, out + timedelta(milliseconds=rng.randint(300, 1500)), 2)
            return out, False
        return run
    for wdom in waiters:
        v.overrides.setdefault(f"{wdom}_daily", {})[f"gold_{wdom}_daily"] = gold_after_sensor(wdom)
    v.distractors([v.logical, v.logical + timedelta(minutes=45)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    for r in p.runs:  # a run whose sensor still waits is running, not failed
        if r["dag_id"] in running and r["dag_run_id"] == v.rid:
            r.update({"end_date": None, "state": "running"})
    failed_run_entities(v, ents, sorted(failed_dags))

    def one_run_at_a_time(sc):
        for d in sc["airflow"]["dags"]:
            if d["dag_id"] == sdag:
                d["max_active_runs"] = 1
    v.post.append(one_run_at_a_time)
    v.incidents.append({"id": "hung-1", "start": z(v.logical), "severity": "high",
                        "root_cause_any_of": [hkey, f"airflow:dagrun:{sdag}/{yrid}", f"airflow:dag:{sdag}", hjob], "entities": ents})
    v.summary.append(f"Yesterday's {sdag} run hangs in {htask}; with max_active_runs 1 no 02:00 run is created and "
                     f"{len(tasks)} sensors wait for it in vain.")
    return v.build()


# =====================================================================================
# Late evidence: a role's maximum session duration is lowered; exports that assume it fail
# =====================================================================================
def m_iam_session_duration_lowered(k):
    """A security hardening change applied by the infrastructure pipeline shortly before the batch
    lowers the MaxSessionDuration of the IAM role the partner exports assume from 12 hours to 1
    hour. The Airflow AWS connection the export DAGs use assumes that role with DurationSeconds
    43200 (its assume_role_kwargs), so from then on every upload fails before it starts ("An error
    occurred (ValidationError) when calling the AssumeRole operation: The requested DurationSeconds
    exceeds the MaxSessionDuration set for this role."), on every retry, in every export DAG;
    nothing else on the platform uses the role. The change's own record (CloudTrail's UpdateRole
    event) lands minutes after the change; the failed AssumeRole calls are recorded too. Source:
    kreuzwerker/awsu#27, GuildEducationInc/aws-jumpcloud#49 and #48, ruimarinho/gsts#13,
    aws-azure-login/aws-azure-login#93 ("ValidationError: The requested DurationSeconds exceeds the
    MaxSessionDuration set for this role", "this role I used has a max of 4 hours"),
    prowler-cloud/prowler#923 (the same with the AWS CLI), cshamrick/stsauth#71 (AssumeRole's
    DurationSeconds "can have a value from 1 hour to 12 hours. If you specify a value higher than
    this setting ... the operation fails"), cevoaustralia/aws-google-auth#209, Airflow's Amazon
    provider (assume_role_kwargs in the connection's extra) and CloudTrail's event records
    (eventName UpdateRole, errorCode on failed calls; delivery within about five minutes)."""
    v = Night("iam-session-duration-lowered", k)
    p, rng = v.p, v.rng
    role = rng.choice(["lakehouse-partner-exports", "data-exports-writer", "partner-sftp-bridge"])
    arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    change = max(p.start + timedelta(minutes=1), v.at("01:%02d:%02d" % (rng.randint(52, 59), rng.randint(0, 59))))
    ct = {"service_name": "aws-cloudtrail", "level": "info"}

    def event(at, name, source, params, error=None, who="assumed-role/terraform-ci/ci-run"):
        rec = {"eventVersion": "1.10", "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": source, "eventName": name,
               "awsRegion": "us-east-1" if source == "iam.amazonaws.com" else REGION,
               "sourceIPAddress": f"10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}",
               "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:{who}-{rng.randint(1000, 9999)}"},
               "requestParameters": params, "eventID": str(uuid.UUID(int=rng.getrandbits(128))), "recipientAccountId": ACCOUNT}
        if error:
            rec.update({"errorCode": "ValidationError", "errorMessage": error})
        landed = at + timedelta(seconds=rng.uniform(180, 420))  # CloudTrail's delivery delay
        if landed < p.end:
            p.log(ct, landed, json.dumps(rec, separators=(",", ":")))
        return landed
    recorded = event(change, "UpdateRole", "iam.amazonaws.com", {"roleName": role, "maxSessionDuration": 3600})
    t = p.start + timedelta(seconds=rng.uniform(10, 90))
    while t < p.end:  # what else the trail records: other roles assumed, instances described
        kind = rng.random()
        if kind < 0.6:
            other = rng.choice(["spark-worker-instance", "airflow-worker-instance", "lambda-ingestion-exec"])
            event(t, "AssumeRole", "sts.amazonaws.com", {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{other}",
                                                         "roleSessionName": f"{other}-{rng.randint(10**5, 10**6)}",
                                                         "durationSeconds": 3600}, who=f"assumed-role/{other}/i")
        else:
            event(t, "DescribeInstances", "ec2.amazonaws.com", {"maxResults": 1000}, who="assumed-role/autoscaler/i")
        t += timedelta(seconds=rng.uniform(40, 160))
    exporters = rng.sample(v.domains, rng.randint(3, 4))
    minutes = sorted(rng.sample(range(10, 45, 5), len(exporters)))
    ents, tasks = [stream_key(ct)], []
    err = ("botocore.exceptions.ClientError: An error occurred (ValidationError) when calling the AssumeRole operation: The requested "
           "DurationSeconds exceeds the MaxSessionDuration set for this role.")
    first = None
    for (dom, _), mm in zip(exporters, minutes):
        edag, epath = f"export_{dom}_to_partner", f"exports/export_{dom}_to_partner.py"
        p.dag(edag, f"{mm} 2 * * *", ["export", dom], "data-eng", epath)
        lg = v.at("02:%02d" % mm)
        rid = run_id(lg)
        q = lg + timedelta(seconds=rng.uniform(0.5, 2))
        e = p.sql_task(edag, rid, f"build_{dom}_extract", f"gold.{dom}_daily", q, rng.uniform(40, 160), p.pick_worker(q), 1, 1, epath,
                       operator=CHECK)
        t, mt = e + timedelta(seconds=rng.uniform(1, 4)), 2
        utask = f"upload_{dom}_extract"
        for n in range(1, mt + 2):
            tb = (AIRFLOW_TB + f'  File "/opt/airflow/dags/{epath}", line 41, in upload_extract\n'
                  f"    hook.load_file(filename=path, key=f\"inbound/{dom}/{{ds}}.parquet\", bucket_name=\"{dom}-partner-drop\")\n"
                  '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/providers/amazon/aws/hooks/base_aws.py", line 332, in '
                  "_refresh_credentials\n    sts_response = self._assume_role(sts_client=sts_client)\n" + err)
            e = p.py_task(edag, rid, utask, t, rng.uniform(1.5, 4), p.pick_worker(t), n, mt, tb, epath,
                          ok_lines=[("base_aws.py:241", f"Assuming role {arn} with DurationSeconds 43200 (conn_id aws_partner_exports)")])
            first = min(first or e, e)
            event(e - timedelta(seconds=0.4), "AssumeRole", "sts.amazonaws.com",
                  {"roleArn": arn, "roleSessionName": "Airflow_aws_partner_exports", "durationSeconds": 43200},
                  error="The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                  who="assumed-role/airflow-worker-instance/i")
            t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
        ukey = task_key(edag, rid, utask)
        ents.extend([ukey, f"airflow:dagrun:{edag}/{rid}", f"airflow:dag:{edag}", task_key(edag, rid, f"notify_{dom}_partner")])
        tasks.append(ukey)
        p.skipped(edag, rid, f"notify_{dom}_partner", e + timedelta(milliseconds=rng.randint(300, 1500)), 0, "PythonOperator")
        p.run(edag, rid, lg, q - timedelta(seconds=0.3), q, e + timedelta(seconds=2), "failed")
    v.distractors([change, v.at("02:30")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.incidents.append({"id": "iam-1", "start": z(recorded), "severity": "high", "root_cause_any_of": [stream_key(ct)], "entities": ents})
    v.summary.append(f"Role {role}'s MaxSessionDuration is lowered to 1 h at {z(change)}; {len(tasks)} export uploads that assume it "
                     "for 12 h fail on every try.")
    return v.build()


# =====================================================================================
# One machine, a job's own behaviour: a UDF leaks threads until the host refuses new ones
# =====================================================================================
def m_executor_thread_leak(k):
    """A geo-IP enrichment job, scheduled just before the nightly batch, calls a lookup service from
    a user-defined function that builds a new HTTP client (and its thread pool) per partition and
    never closes it. The executor running it on one Spark worker accumulates thousands of threads;
    the worker's systemd unit has a task limit (TasksMax), so once the unit's threads reach it the
    kernel refuses every new thread in every JVM of that unit ("cgroup: fork rejected by pids
    controller"). The other executors on that host, running other DAGs' stages, fail their tasks
    with "java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or
    process/resource limits reached" and exit (code 52); the stages fail after four attempts and
    the nightly tasks fail, in several DAGs, while the same work on other hosts passes. When the
    leaking job aborts and its executor exits, the threads are freed and retries pass. The cause is
    the leaking job and its executor (its thread count climbing long before); the host is where it
    shows. Source: buildfarm/buildfarm#1267 ("java.lang.OutOfMemoryError: unable to create native
    thread: possibly out of memory or process/resource limits reached"; "EAGAIN for pthread_create
    can also be thread id/pid exhaustion"), openhab/openhab-addons#2849 and
    eclipse-archived/smarthome#5787 ("look for a TasksMax setting ... That leads to exactly this
    fork failure in thread-hungry java"), sonatype-nexus-community/nexus-repository-installer#18
    (a systemd unit's thread limit too low), observabilitystack/geoip-api#141 (DefaultTasksMax),
    mattshma/bigdata#32 (ulimit -u and native threads), Spark's executor exit code 52 (an uncaught
    OutOfMemoryError) and the Worker's "Executor ... finished with state EXITED message Command
    exited with code 52", the kernel's pids-controller message and the JVM metric jvm.thread.count."""
    v = Night("executor-thread-leak", k)
    p, rng = v.p, v.rng
    h = rng.choice(list(p.workers))
    lidx = rng.randrange(4)
    leid = p.exec_by_host[h][lidx]["id"]
    ldag, ltask, lpath = "sessions_geo_enrichment", "enrich_sessions_geoip", "enrichment/sessions_geo_enrichment.py"
    llg = (p.start + timedelta(minutes=rng.uniform(1, 3))).replace(second=0, microsecond=0)
    p.dag(ldag, f"{llg.minute} {llg.hour} * * *", ["enrichment", "sessions"], "analytics-eng", lpath)
    lrid = run_id(llg)
    lq = llg + timedelta(seconds=rng.uniform(0.5, 2))
    full = v.at("02:%02d:%02d" % (rng.randint(4, 9), rng.randint(0, 59)))
    freed = full + timedelta(minutes=rng.randint(10, 18), seconds=rng.randint(0, 59))
    limit = rng.choice([8192, 12288, 16384])
    why = "java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached"

    def aborted(sid, eid):
        x = rng.randint(0, 199)
        p.tid += rng.randint(50, 900)
        return (f"Job aborted due to stage failure: Task {x} in stage {sid}.0 failed 4 times, most recent failure: Lost task {x}.3 in "
                f"stage {sid}.0 (TID {p.tid}) ({h} executor {eid}): {why}" + DRIVER_STACK)
    lend = p.sql_task(ldag, lrid, ltask, "silver.sessions_geo", lq, (freed - lq).total_seconds() - 2, p.pick_worker(lq), 1, 0, lpath,
                      fail=lambda sid: aborted(sid, leid))
    ljob = p.jobs[-1]
    lst = lend - timedelta(seconds=(freed - lq).total_seconds() - 2)
    p.run(ldag, lrid, llg, lq - timedelta(seconds=0.3), lq, lend + timedelta(seconds=1), "failed")
    lkey = task_key(ldag, lrid, ltask)
    res = {"service.name": "spark-executor", "host.name": h}

    def threads(t):
        if t < lst:
            return rng.randint(140, 190)
        if t < full - timedelta(seconds=59):
            return int(170 + (limit - 600 - 170) * (t - lst) / (full - lst)) + rng.randint(-20, 20)
        if t < freed:
            return limit - 600 + rng.randint(0, 40)
        return None
    tkey = v.series({**res, "spark.executor.id": leid}, "jvm.thread.count", "gauge", "{thread}", {}, threads)
    kern = {"service_name": "kernel", "host": h, "level": "warning"}
    t = full + timedelta(seconds=rng.uniform(0, 5))
    while t < freed:
        p.log(kern, t, f"{t.strftime('%b %d %H:%M:%S')} {h} kernel: cgroup: fork rejected by pids controller in "
                       "/system.slice/spark-worker.service")
        t += timedelta(seconds=rng.uniform(4, 20))
    wlog_ = {"service_name": "spark-worker", "host": h, "level": "info"}

    def exited(eid, at):
        p.log(wlog_, at + timedelta(seconds=0.2), f"{sparkts(at)} INFO Worker: Executor {p.app_id}/{eid} finished with state EXITED "
                                                  "message Command exited with code 52 exitStatus 52")
    removed = []
    for i, e in enumerate(list(p.exec_by_host[h])):
        # the others die at their first thread refused; the leaking one when its job aborts
        at = freed - timedelta(seconds=2) if i == lidx else full + timedelta(seconds=rng.uniform(20, 90))
        p.lose_executor(h, i, at, "Command exited with code 52", failed_tasks=rng.randint(1, 6),
                        replace_after=(freed - at).total_seconds() + rng.uniform(8, 30))
        exited(e["id"], at)
        removed.append(e["id"])
        if i != lidx:
            v.series({**res, "spark.executor.id": e["id"]}, "jvm.thread.count", "gauge", "{thread}", {},
                     lambda t, at=at: rng.randint(130, 200) if t < at - timedelta(seconds=59) else None)
    ents = [tkey, lkey, f"airflow:dag:{ldag}", f"airflow:dagrun:{ldag}/{lrid}", f"spark:executor:{p.app_id}/{leid}", f"host:{h}",
            stream_key(kern), f"spark:job:{p.app_id}/{ljob['jobId']}", f"spark:stage:{p.app_id}/{ljob['stageIds'][-1]}"]
    ents += [f"spark:executor:{p.app_id}/{eid}" for eid in removed if eid != leid]
    tasks, failed_dags = [lkey], set()

    def relaunched(hit):
        """The executor the worker relaunched on the host, dead at its first refused thread."""
        e = {"id": str(p.next_exec), "hostPort": f"{h}:{rng.randint(32000, 46000)}",
             "addTime": ts(max(full + timedelta(seconds=30), hit - timedelta(seconds=rng.uniform(20, 60)))), "totalCores": 4,
             "maxMemory": 7194093158, "failedTasks": 1, "totalTasks": rng.randint(1, 20), "removeTime": ts(hit + timedelta(seconds=0.5)),
             "removeReason": "Command exited with code 52"}
        p.next_exec += 1
        p.executors.append(e)
        exited(e["id"], hit + timedelta(seconds=0.5))
        ents.append(f"spark:executor:{p.app_id}/{e['id']}")
        return e["id"]

    def gate(dag, task, table, op, mt):
        def attempt(path, n, t, hh):
            dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
            st = t + timedelta(seconds=1.5)
            hit = max(st + timedelta(seconds=rng.uniform(20, 40)), full + timedelta(seconds=rng.uniform(5, 120)))
            if not (hit < st + timedelta(seconds=dur) and hit < freed) or rng.random() < 0.45:
                return p.sql_task(dag, v.rid, task, table, t, dur, hh, n, mt, path, operator=op), True
            eid = relaunched(hit)
            end = p.sql_task(dag, v.rid, task, table, t, (hit - t).total_seconds() - 1.5, hh, n, mt, path,
                             fail=lambda sid: aborted(sid, eid), operator=op)
            job = p.jobs[-1]
            ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
            return end, False
        return retrying(v, dag, task, mt, attempt, tasks, ents, failed_dags)
    gate_every_task(v, gate)
    v.distractors([full, freed])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    v.incidents.append({"id": "threads-1", "start": z(full), "severity": "high",
                        "root_cause_any_of": [tkey, lkey, f"airflow:dag:{ldag}", f"spark:executor:{p.app_id}/{leid}", f"host:{h}"],
                        "entities": ents})
    v.summary.append(f"{ldag}'s UDF leaks threads in executor {leid} on {h}; the host refuses new threads from {z(full)} to "
                     f"{z(freed)} and {len(tasks) - 1} nightly tasks fail there.")
    return v.build()


MODES = {
    "driver-local-disk-full": m_driver_local_disk_full,
    "sentinel-failover-lost-tasks": m_sentinel_failover_lost_tasks,
    "standalone-app-takes-all-cores": m_standalone_app_takes_all_cores,
    "backfill-exhausts-source-connections": m_backfill_exhausts_source_connections,
    "kafka-partition-offline": m_kafka_partition_offline,
    "hung-run-blocks-next-run": m_hung_run_blocks_next_run,
    "iam-session-duration-lowered": m_iam_session_duration_lowered,
    "executor-thread-leak": m_executor_thread_leak,
}


if __name__ == "__main__":
    held_out_main(__doc__, MODES)
