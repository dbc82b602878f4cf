#!/usr/bin/env python3
"""An eighth set of held-out failure modes (guardian-scenario/1), written by a hand that does not
change the correlator.

  python3 test/scenarios/held-out-modes-8.py --out DIR [--variants N]

None of these 8 is among the 71 modes of modes.py, novel-modes.py and the seven earlier held-out
generators. They are scored on the code of the day they were written and once more at the end of
the session, never per mode in between, so their figures say how Guardian does on failures nobody
tuned it for. The rule that keeps them useful: never change Guardian while reading what it does on
these.

They spread over the classes issue 17 names and over the machine / data / external axes:

* a shared resource: the schema registry cannot write to its own Kafka store after a restart and
  stays down, every Avro load of the night fails (external); a serving PostgreSQL database held
  back by a stale replication slot reaches its transaction-ID stop limit and refuses every write,
  its warnings have been in its log for hours (external);
* one machine: a log shipper's memory leak on a Spark worker drives the kernel's OOM killer to
  kill that host's executors, one after another (machine); a Spark worker rebuilt on a new image
  with a small connection-tracking table drops packets once the batch starts (machine);
* a job's own behaviour: a new progress-watcher DAG polls the Airflow API with many threads and no
  pause; the API server saturates and the task supervisors of every DAG time out calling it
  (machine); a reference-data job overwrites a shared dimension with zero rows when its provider
  answers an empty list; every DAG whose gold step converts with it fails later (data);
* contention between runs of the same DAGs: an engineer clears the past week's runs of several
  DAGs while tonight's runs are running; every run overwrites the same staging table and the
  readers lose their files (data);
* absence and late evidence: an infrastructure change disables the schedules of the ingestion
  functions; nothing fails, nothing is logged, the functions simply stop; the change's record
  lands minutes later and the quarter-hourly loaders find nothing to load (external).

Each mode is a real incident class of this platform, its wording and causal chain cited beside
it. The platform simulation and the generic mechanics are modes.py's, generate.py's and the
earlier held-out generators', imported. Deterministic: the same command writes the same files.
Python standard library only.
"""
import heapq
import importlib
import json
import uuid
from datetime import datetime, timedelta

from generate import DRIVER_STACK, PYSPARK_TB, afts, d, daily_dags, metric_key, run_id, sparkts, task_key, ts
from modes import held_out_main, AIRFLOW_TB, REGION, Night, stream_key, z

_h3 = importlib.import_module("held-out-modes-3")
_h4 = importlib.import_module("held-out-modes-4")
_h5 = importlib.import_module("held-out-modes-5")
_h6 = importlib.import_module("held-out-modes-6")
_h7 = importlib.import_module("held-out-modes-7")
failed_run_entities, ACCOUNT = _h3.failed_run_entities, _h3.ACCOUNT
SQL, CHECK = _h4.SQL, _h4.CHECK
gate_every_task, note, ti_repr = _h4.gate_every_task, _h4.note, _h4.ti_repr
wlog, statement = _h5.wlog, _h5.statement
retrying = _h6.retrying
kafka_stamp = _h7.kafka_stamp

CONNECT_ERR = "pyspark.errors.exceptions.connect.SparkConnectGrpcException: "


def syslog(at, host):
    return f"{at.strftime('%b %d %H:%M:%S')} {host}"


def rds_prefix(at, client, who, pid):
    """RDS for PostgreSQL's log_line_prefix, %t:%r:%u@%d:[%p]:."""
    return f"{at.strftime('%Y-%m-%d %H:%M:%S')} UTC:{client}:{who}:[{pid}]:"


def stage_abort(p, sid, host, eid, why):
    """What the driver reports when one task of stage `sid` failed on every one of its 4 attempts."""
    x = p.rng.randint(0, 199)
    p.tid += p.rng.randint(50, 900)
    return (f"Job aborted due to stage failure: Task {x} in stage {sid}.0 failed 4 times, most recent failure: Lost task {x}.3 in "
            f"stage {sid}.0 (TID {p.tid}) ({host} executor {eid}): {why}" + DRIVER_STACK)


def spark_failure(v, ents, dag, rid, task, table, t, hit, host, n, mt, path, op, why_at):
    """One try of a nightly task whose Spark job fails at `hit` with `why_at(sid)`; records its job and stage."""
    p = v.p
    end = p.sql_task(dag, rid, task, table, t, (hit - t).total_seconds() - 1.5, host, n, mt, path, fail=why_at, operator=op)
    job = p.jobs[-1]
    ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
    lost = p.stages[-1]["failureReason"].split("most recent failure: ")[1].split("\n")[0]
    p.driver_log(end - timedelta(milliseconds=80), f"{sparkts(end)} WARN TaskSetManager: {lost}", "warn")
    ents.append(stream_key({"service_name": "spark-driver", "host": p.driver_host, "level": "warn"}))
    return end


def parse_ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def first_point(v, t):
    """The first minute's data point of a series at or after `t` (when a change at `t` first shows in it)."""
    i = v.minute_of(t)
    at = v.p.start + timedelta(minutes=i)
    return at if at >= t else at + timedelta(minutes=1)


def drop_sched_line(p, needle):
    """Removes the scheduler's info lines containing `needle` (a run re-queued by a clear is not created)."""
    key = tuple(sorted({"service_name": "airflow-scheduler", "host": "airflow-scheduler-1", "level": "info"}.items()))
    p.streams[key] = [e for e in p.streams.get(key, []) if needle not in e[1]]


# =====================================================================================
# A job's own behaviour on a shared machine: a watcher DAG saturates the Airflow API server
# =====================================================================================
def m_api_server_polled_to_timeout(k):
    """A new DAG, deployed that day, watches the nightly batch: its task lists the running task
    instances of every DAG through the Airflow REST API with 32 threads and no pause between polls.
    The API server serves both that public API and the execution API the task supervisors call to
    start, heartbeat and finish every task; its workers are soon all busy with the watcher's
    listings and its requests in flight stay at their limit. From then on the supervisors of new
    tries in every DAG time out calling it: the Celery worker logs "Starting call to
    'airflow.sdk.api.client.Client.request', this is the 4 time calling it." and then "Task
    execute_workload[...] raise unexpected: ReadTimeout('timed out')", the try never starts, and
    the scheduler reports that the executor finished it as failed while it was still queued ("was
    the task killed externally?"); it is retried, often into the same wall. When an operator marks
    the watcher failed, its supervisor is told to stop ("Server indicated the task shouldn't be
    running anymore") and the API server recovers. The cause is the watcher (its run, its polls in
    the API server's access log), the API server is where it shows. Source: apache/airflow#56571
    ("workers get ReadTimeout when calling api-server": "Starting call to
    'airflow.sdk.api.client.Client.request', this is the %d time calling it." then "Task
    execute_workload[$celery_task_uuid] raise unexpected: ReadTimeout('timed out')"), #56969 (the
    execution API's 5 s httpx timeout), #58422 and #64212 (task failures from API timeouts under
    load), #16505 (the web server's workers timing out), the scheduler's "Executor ... reported that
    the task instance ... finished with state failed, but the task instance's state attribute is
    queued" and the OpenTelemetry metric http.server.active_requests."""
    v = Night("api-server-polled-to-timeout", k)
    p, rng = v.p, v.rng
    api = "airflow-api-server-1"
    wdag, wtask, wpath = "batch_progress_watch", "watch_nightly_batch", "ops/batch_progress_watch.py"
    p.dag(wdag, "0 2 * * *", ["ops", "sla"], rng.choice(["analytics-eng", "data-eng"]), wpath)
    wq = v.logical + timedelta(seconds=rng.uniform(0.5, 2))
    wh = p.pick_worker(wq)
    wst = wq + timedelta(seconds=rng.uniform(0.8, 2))
    sat = (wst + timedelta(seconds=rng.uniform(70, 130))).replace(second=0, microsecond=0)
    kill = sat + timedelta(minutes=rng.uniform(14, 24))
    wip = f"10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}"
    access = {"service_name": "airflow-api-server", "host": api, "level": "info"}
    t = p.start + timedelta(seconds=rng.uniform(1, 20))
    while t < p.end:  # the UI's and the supervisors' ordinary traffic
        what = rng.choice(['"GET /api/v2/dags?limit=50&offset=0 HTTP/1.1" 200 OK', '"GET /ui/dashboard/historical_metrics_data HTTP/1.1" 200 OK',
                           f'"PUT /execution/task-instances/{uuid.UUID(int=rng.getrandbits(128))}/heartbeat HTTP/1.1" 204 No Content'])
        if not sat <= t < kill or rng.random() < 0.3:
            p.log(access, t, f"INFO:     10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}:{rng.randint(30000, 60000)} - {what}")
        t += timedelta(seconds=rng.uniform(8, 30))
    t = wst + timedelta(seconds=3)
    while t < kill:  # the watcher's listings (a sample: the log holds thousands a minute)
        dom = rng.choice(v.domains)[0]
        p.log(access, t, f"INFO:     {wip}:{rng.randint(30000, 60000)} - \"GET /api/v2/dags/{dom}_daily/dagRuns/~/taskInstances?"
                         f"state=running&limit=100 HTTP/1.1\" 200 OK")
        t += timedelta(seconds=rng.uniform(0.3, 2.5) if t >= sat else rng.uniform(1, 4))

    def active(t):
        if sat <= t < kill:
            return 64
        if wst <= t < sat:
            return rng.randint(30, 55)
        return rng.randint(1, 6)
    res = {"service.name": "airflow-api-server", "host.name": api}
    inflight = v.series(res, "http.server.active_requests", "gauge", "{request}", {}, active)
    wkey, wrun = task_key(wdag, v.rid, wtask), f"airflow:dagrun:{wdag}/{v.rid}"
    polls = [(f"batch_progress_watch.py:{41 + i}", line) for i, line in enumerate([
        f"Watching {len(v.domains)} DAG runs of {v.logical:%Y-%m-%d} through http://{api}:8080/api/v2 with 32 threads",
        "Polling task instances: no interval (as fast as the API answers)"])]
    p.py_task(wdag, v.rid, wtask, wq, (kill - wst).total_seconds() + 1.2, wh, 1, 0, None, wpath, ok_lines=polls, state="failed")
    told = parse_ts(p.tis[-1]["end_date"]) - timedelta(seconds=0.2)
    p.tis[-1]["log"].append(f"[{afts(told)}] {{supervisor.py:1001}} ERROR - Server indicated the task shouldn't be "
                            "running anymore detail={'reason': 'not_running', 'message': 'TI is no longer in the running state and task "
                            "should terminate', 'current_state': 'failed'}")
    p.run(wdag, v.rid, v.logical, wq - timedelta(seconds=0.3), wq, kill + timedelta(seconds=2), "failed")
    sched_err = {"service_name": "airflow-scheduler", "host": "airflow-scheduler-1", "level": "error"}
    ents = [wkey, wrun, f"airflow:dag:{wdag}", inflight, stream_key(access), stream_key(sched_err)]
    tasks, failed_dags = [wkey], set()

    def gate(dag, task, table, op, mt):
        def attempt(path, n, t, h):
            dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
            if not sat <= t < kill or rng.random() < 0.4:
                return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
            wid = uuid.UUID(int=rng.getrandbits(128))
            lw = {"service_name": "airflow-worker", "host": h, "level": "warning"}
            le = {"service_name": "airflow-worker", "host": h, "level": "error"}
            a = t + timedelta(seconds=rng.uniform(0.2, 1))
            p.aw_log(h, a, f"{wlog(a)} [info     ] Task execute_workload[{wid}] received [celery.worker.strategy]")
            for i in range(1, 5):
                a += timedelta(seconds=5 + rng.uniform(0.5, 2) * i)
                p.log(lw, a, f"{wlog(a)} [warning  ] Starting call to 'airflow.sdk.api.client.Client.request', this is the {i} time "
                             "calling it. [airflow.sdk.api.client]")
            a += timedelta(seconds=5.02)
            p.log(le, a, f"{wlog(a)} [error    ] Task execute_workload[{wid}] raise unexpected: ReadTimeout('timed out') [celery.app.trace]")
            ents.extend([stream_key(lw), stream_key(le)])
            out = a + timedelta(seconds=rng.uniform(1, 6))
            row = p.ti(dag, v.rid, task, n, mt, t, out, out, "up_for_retry" if n <= mt else "failed", None, op)
            row["start_date"] = None
            p.sched_log(out, f"[{afts(out)}] {{scheduler_job_runner.py:835}} ERROR - Executor CeleryExecutor(parallelism=32) reported that "
                             f"the task instance {ti_repr(dag, v.rid, task, 'queued')} finished with state failed, but the task instance's "
                             "state attribute is queued. Learn more: https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting"
                             ".html#task-state-changed-externally", "error")
            return out, False
        return retrying(v, dag, task, mt, attempt, tasks, ents, failed_dags)
    gate_every_task(v, gate)
    v.distractors([sat, kill])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    v.incidents.append({"id": "api-1", "start": z(sat), "severity": "high",
                        "root_cause_any_of": [wkey, wrun, f"airflow:dag:{wdag}", inflight, stream_key(access)], "entities": ents})
    v.summary.append(f"{wdag} polls the Airflow API without pause; the API server is saturated from {z(sat)} to {z(kill)} and "
                     f"{len(tasks) - 1} nightly tasks' supervisors time out calling it.")
    return v.build()


# =====================================================================================
# One machine: a log shipper's memory leak drives the OOM killer into the executors
# =====================================================================================
def m_log_agent_leak_oom_kills_executors(k):
    """The log shipper on the Spark workers (Fluent Bit, upgraded the week before) leaks memory on
    one host: its resident set grows for hours and it reports its input paused ("[ warn] [input]
    tail.0 paused (mem buf overlimit)") while it keeps growing. The executors on that host are
    sized to the host's memory; once the shipper has taken its share the kernel runs out, and the
    OOM killer chooses the process with the largest resident set, an executor JVM ("java invoked
    oom-killer", "Out of memory: Killed process N (java)"). The worker reports the executor exited
    with code 137, the tasks running there are lost ("ExecutorLostFailure (executor N exited caused
    by one of the running tasks) Reason: Command exited with code 137"); the worker relaunches an
    executor, which grows again and is killed in turn. Stages whose tasks fail there four times
    abort, in several DAGs; the same work on other hosts passes. When an operator restarts the
    shipper its memory is freed and the retries pass. The cause is the shipper on that host (its
    memory series, its own warnings), the host is where it shows, not the victim tasks. Source:
    fluent/fluent-bit#9777 ("Running fluent-bit ... appears to leak memory, the resident set size
    reaches gigabytes", with the kernel's "Out of memory: Killed process ..."), #10171 and #10241
    (memory leaks after upgrades, OOM kills after days), #8908 ("[ warn] [input] tail.0 paused (mem
    buf overlimit)" while memory grows to 15 GiB), #4609 (restarts with status 137), the kernel's
    oom-killer messages, Spark's Worker ("Executor ... finished with state EXITED message Command
    exited with code 137") and ExecutorLostFailure texts, and the OpenTelemetry host metrics
    process.memory.usage and system.memory.utilization."""
    v = Night("log-agent-leak-oom-kills-executors", k)
    p, rng = v.p, v.rng
    h = rng.choice(list(p.workers))
    first = v.at("02:%02d:%02d" % (rng.randint(3, 7), rng.randint(0, 59)))
    fixed = first + timedelta(minutes=rng.randint(18, 28), seconds=rng.randint(0, 59))
    kills, t = [], first
    while t < fixed - timedelta(minutes=2):
        kills.append(t)
        t += timedelta(seconds=rng.uniform(100, 240))
    rss0, rss1 = rng.uniform(0.9, 1.6) * 2**30, rng.uniform(8.2, 9.4) * 2**30

    def rss(t):
        if t >= fixed:
            return rng.randint(40, 70) * 2**20
        return int(rss0 + (rss1 - rss0) * (t - p.start) / (first - p.start) + rng.uniform(-0.02, 0.02) * 2**30)
    agent = v.series({"service.name": "fluent-bit", "host.name": h}, "process.memory.usage", "gauge", "By", {}, rss)
    fb = {"service_name": "fluent-bit", "host": h, "level": "warn"}
    t = first - timedelta(minutes=rng.uniform(25, 40))
    while t < fixed:
        if t >= p.start:
            p.log(fb, t, f"[{t.strftime('%Y/%m/%d %H:%M:%S')}] [ warn] [input] tail.0 paused (mem buf overlimit)")
            p.log(fb, t + timedelta(seconds=rng.uniform(1, 3)), f"[{t.strftime('%Y/%m/%d %H:%M:%S')}] [ info] [input] tail.0 resume "
                                                                  "(mem buf overlimit)")
        t += timedelta(seconds=rng.uniform(40, 120))
    p.host_mem_spike[h] = [(first, (fixed - first).total_seconds())]
    mem = metric_key("system.memory.utilization", {"service.name": "spark-worker", "host.name": h, "state": "used"})
    kern = {"service_name": "kernel", "host": h, "level": "error"}
    wl = {"service_name": "spark-worker", "host": h, "level": "info"}
    lost = []  # (time, executor id)
    for i, at in enumerate(kills):
        idx = i % 4
        e = p.exec_by_host[h][idx]
        pid = rng.randint(20000, 90000)
        p.log(kern, at - timedelta(milliseconds=40), f"{syslog(at, h)} kernel: java invoked oom-killer: gfp_mask=0x140cca"
                                                     "(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0")
        p.log(kern, at, f"{syslog(at, h)} kernel: Out of memory: Killed process {pid} (java) total-vm:{rng.randint(19, 23) * 10**6}kB, "
                        f"anon-rss:{rng.randint(12_800_000, 13_900_000)}kB, file-rss:{rng.randint(20_000, 60_000)}kB, shmem-rss:0kB, "
                        f"UID:1000 pgtables:{rng.randint(26_000, 31_000)}kB oom_score_adj:0")
        p.log(wl, at + timedelta(seconds=0.3), f"{sparkts(at)} INFO Worker: Executor {p.app_id}/{e['id']} finished with state EXITED "
                                               "message Command exited with code 137 exitStatus 137")
        p.driver_log(at + timedelta(seconds=0.5), f"{sparkts(at)} ERROR TaskSchedulerImpl: Lost executor {e['id']} on {h}: Command exited "
                                                  "with code 137", "error")
        lost.append((at, e["id"]))
        p.lose_executor(h, idx, at, "Command exited with code 137", failed_tasks=rng.randint(1, 5), replace_after=rng.uniform(6, 15))
    derr = {"service_name": "spark-driver", "host": p.driver_host, "level": "error"}
    ents = [agent, stream_key(fb), f"host:{h}", mem, stream_key(kern), stream_key(wl), stream_key(derr)]
    ents += [f"spark:executor:{p.app_id}/{eid}" for _, eid in lost]
    tasks, failed_dags = [], set()

    def gate(dag, task, table, op, mt):
        def attempt(path, n, t, hh):
            dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
            st = t + timedelta(seconds=4)
            hits = [(at, eid) for at, eid in lost if st < at < st + timedelta(seconds=dur)]
            if not hits or rng.random() < 0.35:
                return p.sql_task(dag, v.rid, task, table, t, dur, hh, n, mt, path, operator=op), True
            at, eid = hits[0]
            why = (f"ExecutorLostFailure (executor {eid} exited caused by one of the running tasks) Reason: Command exited with code 137")
            return spark_failure(v, ents, dag, v.rid, task, table, t, at + timedelta(seconds=rng.uniform(1, 4)), hh, n, mt, path, op,
                                 lambda sid: stage_abort(p, sid, h, eid, why)), False
        return retrying(v, dag, task, mt, attempt, tasks, ents, failed_dags)
    gate_every_task(v, gate)
    v.distractors([first, fixed])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "agent-oom-1", "start": z(min(first, first_point(v, first - timedelta(minutes=3)))), "severity": "high",
                            "root_cause_any_of": [agent, stream_key(fb), f"host:{h}", mem, stream_key(kern)], "entities": ents})
    v.summary.append(f"Fluent Bit on {h} leaks memory; the OOM killer kills {len(lost)} executors there from {z(first)} until it is "
                     f"restarted at {z(fixed)}; {len(tasks)} nightly tasks fail.")
    return v.build()


# =====================================================================================
# A shared external resource: the schema registry cannot write to its Kafka store
# =====================================================================================
def m_schema_registry_store_unwritable(k):
    """The nightly loads of the event topics decode Avro with the schemas of the Confluent Schema
    Registry, which the Spark Connect server asks for each topic's latest value schema when it
    plans the load. The registry keeps its schemas in a Kafka topic (_schemas) and, on start, must
    write a no-op record to it. Shortly before the batch the registry's node is replaced (a routine
    rotation) while one of the brokers holding _schemas is still down after its own maintenance:
    the topic is below its min.insync.replicas, the no-op write is rejected, and the registry fails
    its start ("Error starting the schema registry ... SchemaRegistryInitializationException: Error
    initializing kafka store while initializing schema registry ... StoreException: Failed to write
    Noop record to kafka store."), restarts, and fails again, for as long as the broker is out.
    Every load that asks for a schema meanwhile fails ("Failed to send HTTP request to endpoint:
    http://schema-registry.internal:8081/subjects/...-value/versions/latest", "Connection
    refused"), on its retry too, in every DAG that loads a topic. The cause is the registry (its own
    start failures, its scrape target down), not the loads. Source: confluentinc/schema-registry#357
    (a client error when the registry is not available: "java.net.ConnectException: Connection
    refused"), #512 and #770 ("ERROR Failed to send HTTP request to endpoint:
    http://localhost:8081/subjects/.../versions (io.confluent.kafka.schemaregistry.client.rest
    .RestService)" with "Connection refused"), AbsaOSS/ABRiS#209 (Spark asking the registry for a
    schema when it plans the read), the registry's KafkaStore ("Failed to write Noop record to kafka
    store") and SchemaRegistryRestApplication ("Error starting the schema registry") messages,
    Kafka's NotEnoughReplicasException ("Messages are rejected since there are fewer in-sync
    replicas than required.") and Prometheus's up series of a scrape target."""
    v = Night("schema-registry-store-unwritable", k)
    p, rng = v.p, v.rng
    reg = "schema-registry-0"
    url = "http://schema-registry.internal:8081"
    topics = {dom: rng.choice([f"{dom}.events.v{rng.randint(1, 3)}", f"cdc.{dom}.{src}"]) for dom, src in v.domains}
    readers = rng.sample(v.domains, rng.randint(2, 4))
    restart = max(p.start + timedelta(minutes=2), v.at("01:%02d:%02d" % (rng.randint(55, 58), rng.randint(0, 59))))
    fixed = restart + timedelta(minutes=rng.randint(28, 42), seconds=rng.randint(0, 59))
    info = {"service_name": "schema-registry", "host": reg, "level": "info"}
    err = {"service_name": "schema-registry", "host": reg, "level": "error"}
    brokers = "SASL_SSL://kafka-broker-1:9093,SASL_SSL://kafka-broker-2:9093,SASL_SSL://kafka-broker-3:9093"
    t, fails = restart, []
    while t < fixed:
        p.log(info, t, f"{kafka_stamp(t)} INFO Initializing KafkaStore with broker endpoints: {brokers} "
                       "(io.confluent.kafka.schemaregistry.storage.KafkaStore)")
        e = t + timedelta(seconds=rng.uniform(2, 6))
        p.log(err, e, f"{kafka_stamp(e)} ERROR Error starting the schema registry "
                      "(io.confluent.kafka.schemaregistry.rest.SchemaRegistryRestApplication)\n"
                      "io.confluent.kafka.schemaregistry.exceptions.SchemaRegistryInitializationException: Error initializing kafka store "
                      "while initializing schema registry\n"
                      "\tat io.confluent.kafka.schemaregistry.storage.KafkaSchemaRegistry.init(KafkaSchemaRegistry.java:370)\n"
                      "Caused by: io.confluent.kafka.schemaregistry.storage.exceptions.StoreInitializationException: "
                      "io.confluent.kafka.schemaregistry.storage.exceptions.StoreException: Failed to write Noop record to kafka store.\n"
                      "Caused by: org.apache.kafka.common.errors.NotEnoughReplicasException: Messages are rejected since there are fewer "
                      "in-sync replicas than required.")
        fails.append(e)
        t = e + timedelta(seconds=rng.uniform(20, 75))
    p.log(info, t, f"{kafka_stamp(t)} INFO Initializing KafkaStore with broker endpoints: {brokers} "
                   "(io.confluent.kafka.schemaregistry.storage.KafkaStore)")
    up_again = t + timedelta(seconds=rng.uniform(4, 9))
    p.log(info, up_again, f"{kafka_stamp(up_again)} INFO Server started, listening for requests... "
                          "(io.confluent.kafka.schemaregistry.rest.SchemaRegistryMain)")
    up = v.series({"service.name": "schema-registry", "host.name": reg}, "up", "gauge", "1", {},
                  lambda t: 0 if restart <= t < up_again else 1)
    derr = {"service_name": "spark-driver", "host": p.driver_host, "level": "error"}
    ents = [up, stream_key(err), f"host:{reg}", stream_key(info), stream_key(derr)]
    tasks, failed_dags = [], set()
    for dom, src in readers:
        dag, task = f"{dom}_daily", f"bronze_{dom}_{src}"
        subject = f"{topics[dom]}-value"

        def attempt(path, n, t, h, dag=dag, task=task, dom=dom, src=src, subject=subject):
            st = t + timedelta(seconds=1.5)
            if not restart <= st < up_again:
                return p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", t, rng.uniform(60, 300), h, n, 1, path), True
            a = st + timedelta(seconds=rng.uniform(2.6, 4))
            p.log(derr, a, f"{sparkts(a)} ERROR RestService: Failed to send HTTP request to endpoint: {url}/subjects/{subject}/versions/"
                           "latest\njava.net.ConnectException: Connection refused\n"
                           "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)\n"
                           "\tat io.confluent.kafka.schemaregistry.client.rest.RestService.sendHttpRequest(RestService.java:299)")
            text = PYSPARK_TB + CONNECT_ERR + "(java.net.ConnectException) Connection refused"
            return p.sql_task(dag, v.rid, task, f"bronze.{dom}_{src}", t, (a - t).total_seconds() - 1.2, h, n, 1, path,
                              fail=lambda sid: "", job=False, final_log=text), False
        v.overrides[dag] = {task: retrying(v, dag, task, 1, attempt, tasks, ents, failed_dags)}
    v.distractors([restart, v.logical + timedelta(minutes=15)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "registry-1", "start": z(min(fails[0], first_point(v, restart))),
                            "severity": "high", "root_cause_any_of": [up, stream_key(err), f"host:{reg}"], "entities": ents})
    v.summary.append(f"The schema registry {reg} cannot write its Kafka store from {z(restart)} to {z(up_again)}; {len(tasks)} Avro loads "
                     "fail.")
    return v.build()


# =====================================================================================
# A shared external resource: a serving database reaches its transaction-ID stop limit
# =====================================================================================
def m_serving_db_xid_wraparound(k):
    """The publish DAGs upsert each domain's daily summary from the lake into a serving PostgreSQL
    database (RDS) that the product's API also writes to. A logical replication slot left behind by
    a decommissioned change-data-capture connector holds back the oldest transaction the database
    must keep, so autovacuum has not been able to freeze old rows for weeks: the used transaction
    IDs climb, autovacuum warns ("oldest xmin is far in the past ... drop stale replication
    slots") and for hours every transaction has logged "WARNING: database "serving" must be vacuumed
    within N transactions". During the batch the database reaches its stop limit and refuses every
    command that needs a transaction ID ("ERROR: database is not accepting commands that assign new
    transaction IDs to avoid wraparound data loss in database "serving""), the API's writes and
    every publish task's upsert alike, on every retry, until the slot is dropped and a
    database-wide VACUUM is run. The cause is the database (its transaction-ID series, its own
    warnings and errors), not the publish tasks. Source: citusdata/citus#6053 ("ERROR: database is
    not accepting commands to avoid wraparound data loss in database ... HINT: ... You might also
    need to commit or roll back old prepared transactions, or drop stale replication slots."),
    greenplum-db/gpdb#7394 and #14005 ("WARNING: database "template1" must be vacuumed within N
    transactions", "HINT: To avoid a database shutdown, execute a database-wide VACUUM in that
    database."), reorg/pg_repack#247, monitoring-plugins/monitoring-plugins#515 (wraparound checks:
    "if it wraps around, you start losing data"), pganalyze-docs#163 (the stop limit 3 million IDs
    before wraparound), PostgreSQL 16's wording of the error (SQLSTATE 54000, psycopg2's
    ProgramLimitExceeded) and Amazon RDS's MaximumUsedTransactionIDs metric."""
    v = Night("serving-db-xid-wraparound", k)
    p, rng = v.p, v.rng
    db, inst = "serving", "serving-db"
    stop = max(p.start + timedelta(minutes=6), v.at("02:%02d:%02d" % (rng.randint(2, 9), rng.randint(0, 59))))
    limit = 2**31 - 1 - 3_000_000  # the stop limit
    rate = rng.uniform(160_000, 340_000)  # transaction IDs a minute

    def used(t):
        if t >= stop:
            return limit
        return int(limit - rate * (stop - t).total_seconds() / 60 + rng.randint(0, 4000))
    xids = v.series({"service.name": "aws-rds", "db.instance.id": inst}, "aws.rds.maximum_used_transaction_ids", "gauge", "{transaction}",
                    {}, used)
    warn = {"service_name": "postgresql", "host": inst, "level": "warning"}
    err = {"service_name": "postgresql", "host": inst, "level": "error"}
    t = p.start + timedelta(seconds=rng.uniform(2, 30))
    while t < stop:
        who = rng.choice([("10.0.12.31", "api@serving"), ("10.0.12.44", "api@serving"), ("10.0.12.58", "worker@serving")])
        left = int((stop - t).total_seconds() / 60 * rate) + 3_000_000
        p.log(warn, t, f"{rds_prefix(t, f'{who[0]}({rng.randint(30000, 60000)})', who[1], rng.randint(1000, 30000))}WARNING:  database "
                       f"\"{db}\" must be vacuumed within {left} transactions\n"
                       "HINT:  To avoid XID assignment failures, execute a database-wide VACUUM in that database.\n"
                       "\tYou might also need to commit or roll back old prepared transactions, or drop stale replication slots.")
        if rng.random() < 0.12:
            p.log(warn, t + timedelta(seconds=0.5), f"{rds_prefix(t, '[local]', 'rdsadmin@serving', rng.randint(1000, 30000))}WARNING:  "
                                                    "oldest xmin is far in the past\nHINT:  Close open transactions soon to avoid "
                                                    "wraparound problems.\n\tYou might also need to commit or roll back old prepared "
                                                    "transactions, or drop stale replication slots.")
        t += timedelta(seconds=rng.uniform(15, 50))
    refuse = (f"database is not accepting commands that assign new transaction IDs to avoid wraparound data loss in database \"{db}\"\n"
              "HINT:  Execute a database-wide VACUUM in that database.\n"
              "You might also need to commit or roll back old prepared transactions, or drop stale replication slots.")
    refuse_db = refuse.replace("\nYou might", "\n\tYou might")  # the server's log indents the hint's second line

    def refused(at, client, who, stmt):
        p.log(err, at, f"{rds_prefix(at, client, who, rng.randint(1000, 30000))}ERROR:  {refuse_db}\nSTATEMENT:  {stmt}")
    t = stop + timedelta(seconds=rng.uniform(0.5, 6))
    first_err = t
    while t < p.end:  # the product's API keeps trying its writes
        refused(t, f"10.0.12.{rng.choice([31, 44, 58])}({rng.randint(30000, 60000)})", "api@serving",
                rng.choice(["UPDATE sessions SET last_seen = $1 WHERE id = $2", "INSERT INTO audit_events (actor, action, at) VALUES ($1, $2, $3)"]))
        t += timedelta(seconds=rng.uniform(10, 45))
    publishers = rng.sample(v.domains, rng.randint(3, 4))
    first_min = stop.minute + 2 if stop.hour == 2 else 2
    minutes = sorted(rng.sample(range(first_min, first_min + 30, 3), len(publishers)))
    ents, tasks = [xids, stream_key(warn), stream_key(err), f"host:{inst}"], []
    for (dom, _), mm in zip(publishers, minutes):
        pdag, ppath = f"publish_{dom}_to_serving", f"publish/publish_{dom}_to_serving.py"
        p.dag(pdag, f"{mm} 2 * * *", ["publish", dom], "data-eng", ppath)
        lg = v.at("02:%02d" % mm)
        rid = run_id(lg)
        q = lg + timedelta(seconds=rng.uniform(0.5, 2))
        e = p.sql_task(pdag, rid, f"build_{dom}_summary", f"gold.{dom}_daily", q, rng.uniform(30, 120), p.pick_worker(q), 1, 1, ppath,
                       operator=CHECK)
        t, mt, utask = e + timedelta(seconds=rng.uniform(1, 4)), 2, f"upsert_{dom}_summary"
        stmt = f"INSERT INTO public.{dom}_daily_summary (id, day, metrics) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET metrics = EXCLUDED.metrics"
        for n in range(1, mt + 2):
            tb = (AIRFLOW_TB + f'  File "/opt/airflow/dags/{ppath}", line 57, in upsert_summary\n'
                  f'    hook.insert_rows(table="public.{dom}_daily_summary", rows=rows, replace=True, replace_index="id")\n'
                  '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/providers/common/sql/hooks/sql.py", line 873, in '
                  "insert_rows\n    cur.executemany(sql, values)\npsycopg2.errors.ProgramLimitExceeded: " + refuse)
            e = p.py_task(pdag, rid, utask, t, rng.uniform(1.5, 4), p.pick_worker(t), n, mt, tb, ppath,
                          ok_lines=[("sql.py:810", f"Loaded {rng.randint(200, 4000)} rows of gold.{dom}_daily to upsert into "
                                                   f"public.{dom}_daily_summary (conn_id postgres_serving)")])
            refused(e - timedelta(seconds=0.3), f"10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}({rng.randint(30000, 60000)})",
                    "publisher@serving", stmt)
            t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
        ukey = task_key(pdag, rid, utask)
        ents.extend([ukey, f"airflow:dagrun:{pdag}/{rid}", f"airflow:dag:{pdag}", task_key(pdag, rid, f"notify_{dom}_consumers")])
        tasks.append(ukey)
        p.skipped(pdag, rid, f"notify_{dom}_consumers", e + timedelta(milliseconds=rng.randint(300, 1500)), 0, "PythonOperator")
        p.run(pdag, rid, lg, q - timedelta(seconds=0.3), q, e + timedelta(seconds=2), "failed")
    v.distractors([stop, v.at("02:30")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    v.incidents.append({"id": "wraparound-1", "start": z(min(first_err, first_point(v, stop))), "severity": "critical",
                        "root_cause_any_of": [xids, stream_key(warn), stream_key(err), f"host:{inst}"], "entities": ents})
    v.summary.append(f"The serving database reaches its transaction-ID stop limit at {z(stop)}; {len(tasks)} publish upserts and the "
                     "API's writes are refused.")
    return v.build()


# =====================================================================================
# Contention between runs of the same DAGs: cleared past runs overwrite the staging table
# =====================================================================================
def m_cleared_past_runs_overwrite_staging(k):
    """Each nightly DAG's silver step first overwrites a staging table (a plain Parquet table,
    silver.<domain>_updates, not partitioned by day) with the day's changes, then merges it into the
    silver table. An engineer who has fixed a transformation clears the silver step and everything
    after it for the past several days of a few DAGs (the UI's clear with "past" and "downstream")
    while tonight's runs are running. All the cleared runs start at once (max_active_runs allows
    it) and every one of them, tonight's included, overwrites the same staging location: when one
    run's overwrite commits, it deletes the files another run has listed and is still reading, and
    that run's stage fails on every attempt ("[FAILED_READ_FILE.FILE_NOT_EXIST] File ... does not
    exist. It is possible the underlying files have been updated. You can explicitly invalidate the
    cache in Spark by running 'REFRESH TABLE tableName' command in SQL or by recreating the
    Dataset/DataFrame involved."). The retries collide again until fewer runs are left; some runs,
    tonight's among them, fail for good. The cause is the clear (its request in the API server's
    access log, the re-queued past runs), not the failing readers. Source: apache/spark#14003 /
    SPARK-16336 (the FileNotFoundException hint "It is possible the underlying files have been
    updated ... REFRESH TABLE"), sparklyr/sparklyr#1420, apache/amoro#873 and apache/hudi#8352 (a
    read failing after an overwrite deleted its files), apache/airflow#54134 and
    astronomer/airflow-guides#288 (clearing task instances with "past" and "downstream" to re-run
    them), #829 and #13407 (cleared runs and max_active_runs), #45113 (clearing a past run is a
    re-run of its period) and Airflow's clearTaskInstances endpoint."""
    v = Night("cleared-past-runs-overwrite-staging", k)
    p, rng = v.p, v.rng
    victims = rng.sample(v.domains, rng.randint(2, 3))
    days = rng.randint(3, 5)
    clear = v.at("02:%02d:%02d" % (rng.randint(1, 5), rng.randint(0, 59)))
    user = rng.choice(["mkowalski", "jdoe", "asingh", "lchen", "tnguyen", "rgarcia"])
    access = {"service_name": "airflow-api-server", "host": "airflow-api-server-1", "level": "info"}
    uip = f"10.0.9.{rng.randint(10, 250)}"
    t = p.start + timedelta(seconds=rng.uniform(1, 20))
    while t < p.end:  # the UI's ordinary traffic
        p.log(access, t, f"INFO:     10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}:{rng.randint(30000, 60000)} - "
                         + rng.choice(['"GET /api/v2/dags?limit=50&offset=0 HTTP/1.1" 200 OK', '"GET /ui/dashboard/historical_metrics_data HTTP/1.1" 200 OK']))
        t += timedelta(seconds=rng.uniform(20, 60))
    derr = {"service_name": "spark-driver", "host": p.driver_host, "level": "warn"}
    ents, roots, tasks, failed_dags = [stream_key(access)], [stream_key(access)], [], set()

    def missing(dom):
        part = rng.randint(0, 199)
        return (f"org.apache.spark.SparkFileNotFoundException: [FAILED_READ_FILE.FILE_NOT_EXIST] File "
                f"s3a://{p.lake}/warehouse/silver.db/{dom}_updates/part-{part:05d}-{uuid.UUID(int=rng.getrandbits(128))}-c000.snappy.parquet "
                "does not exist. It is possible the underlying files have been updated. You can explicitly invalidate the cache in Spark "
                "by running 'REFRESH TABLE tableName' command in SQL or by recreating the Dataset/DataFrame involved. SQLSTATE: 42K03")

    def silver_try(dag, dom, src, rid, ds, s, w, e, host, n, mt, path, failed, ent):
        """One try of a silver step: overwrite the staging table until `w`, merge from it until `e`."""
        over = (f"INSERT OVERWRITE TABLE silver.{dom}_updates SELECT * FROM lakehouse.bronze.{dom}_{src} WHERE dt = DATE '{ds}'")
        log = p.spark_task_logs(dag, f"silver_{dom}", rid, s, [(over, (w - s).total_seconds() - 2.4),
                                                                (statement(f"silver.{dom}", SQL), None if failed else (e - w).total_seconds() - 0.5)],
                                path)
        p.spark_job(dag, f"silver_{dom}", rid, s + timedelta(seconds=2.6), w - timedelta(seconds=0.3), "SUCCEEDED", None, nstages=1)
        h = rng.choice(list(p.workers))
        eid = rng.choice(p.exec_by_host[h])["id"]
        why = missing(dom)
        job, sids = p.spark_job(dag, f"silver_{dom}", rid, w + timedelta(seconds=0.2), e - timedelta(seconds=0.05),
                                "FAILED" if failed else "SUCCEEDED", (lambda sid: stage_abort(p, sid, h, eid, why)) if failed else None)
        if failed:
            reason = p.stages[-1]["failureReason"]
            log.append(f"[{afts(e - timedelta(milliseconds=40))}] {{task_runner.py:1084}} ERROR - " + PYSPARK_TB
                       + "pyspark.errors.exceptions.connect.SparkException: " + reason)
            p.driver_log(e - timedelta(milliseconds=90), f"{sparkts(e)} WARN TaskSetManager: "
                                                         + reason.split("most recent failure: ")[1].split("\n")[0], "warn")
            ent.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{sids[-1]}", stream_key(derr)])
        state = "success" if not failed else ("up_for_retry" if n <= mt else "failed")
        p.ti(dag, rid, f"silver_{dom}", n, mt, s - timedelta(seconds=rng.uniform(0.8, 2.5)), s, e, state, host, SQL, log=log)

    def simulate(starts):
        """Every participant's tries (start, write, end, failed) on one staging table: a try fails when another's
        overwrite commits while it reads; a failed try is retried 5 minutes later while retries are left."""
        heap, tries, running = [], {}, []
        for i, (s, mt, n0) in enumerate(starts):
            heapq.heappush(heap, (s, 0, i, n0, mt))
        while heap:
            at, kind, i, n, mt = heapq.heappop(heap)
            if kind == 0:  # a try starts
                w = at + timedelta(seconds=rng.uniform(25, 70))
                e = w + timedelta(seconds=rng.uniform(90, 360))
                tr = {"s": at, "w": w, "e": e, "failed": False, "n": n, "mt": mt, "done": False}
                tries.setdefault(i, []).append(tr)
                heapq.heappush(heap, (w, 1, i, n, mt))
                heapq.heappush(heap, (e, 2, i, n, mt))
            elif kind == 1:  # try (i, n) commits its overwrite: every other reader loses its files
                tr = tries[i][-1]
                if tr["done"] or tr["n"] != n:
                    continue
                running.append(tr)
                for o in list(running):
                    if o is tr or o["done"] or o["w"] >= at:
                        continue
                    o["failed"], o["done"] = True, True
                    o["e"] = at + timedelta(seconds=rng.uniform(4, 20))
                    running.remove(o)
                    oi = next(j for j, ts_ in tries.items() if o in ts_)
                    if o["n"] <= o["mt"]:
                        heapq.heappush(heap, (o["e"] + timedelta(minutes=5, seconds=rng.uniform(0, 3)), 0, oi, o["n"] + 1, o["mt"]))
            else:  # the try ends
                tr = tries[i][-1]
                if tr["n"] == n and not tr["done"]:
                    tr["done"] = True
                    if tr in running:
                        running.remove(tr)
        return tries

    def tonight_silver(dag, dom, src, past):
        def run(path, t, host):
            # tonight's run is participant 0; the cleared runs start together at the clear
            starts = [(t + timedelta(seconds=rng.uniform(0.8, 2.5)), 2, 1)]
            starts += [(clear + timedelta(seconds=rng.uniform(2, 25)), 3, 2) for _ in past]
            tries = simulate(starts)
            for i, trs in sorted(tries.items()):
                rid = v.rid if i == 0 else run_id(past[i - 1])
                ds = (v.logical if i == 0 else past[i - 1]).strftime("%Y-%m-%d")
                for tr in trs:
                    h = host if (i == 0 and tr["n"] == 1) else p.pick_worker(tr["s"])
                    silver_try(dag, dom, src, rid, ds, tr["s"], tr["w"], tr["e"], h, tr["n"], tr["mt"], path, tr["failed"], ents)
                    if tr["failed"]:
                        note(task_key(dag, rid, f"silver_{dom}"), tasks, ents)
                if i == 0:
                    continue
                last = trs[-1]
                r = p.run(dag, rid, past[i - 1], clear + timedelta(seconds=0.5), clear + timedelta(seconds=1), None, "running")
                drop_sched_line(p, f"creating run {rid}")
                rkey = f"airflow:dagrun:{dag}/{rid}"
                roots.extend([rkey, task_key(dag, rid, f"silver_{dom}")])
                ents.extend([rkey, task_key(dag, rid, f"silver_{dom}")])
                if last["failed"]:
                    for j, tid in enumerate([f"dq_{dom}", f"gold_{dom}_daily"]):
                        p.skipped(dag, rid, tid, last["e"] + timedelta(milliseconds=rng.randint(300, 1500)), 2 + j, CHECK if j == 0 else SQL)
                        ents.append(task_key(dag, rid, tid))
                    end, state = last["e"] + timedelta(seconds=2), "failed"
                    failed_dags.add(dag)
                else:
                    q = last["e"] + timedelta(seconds=rng.uniform(1, 5))
                    e1 = p.sql_task(dag, rid, f"dq_{dom}", f"silver.{dom}", q, rng.uniform(20, 70), p.pick_worker(q), 2, 2, path,
                                    operator=CHECK)
                    q = e1 + timedelta(seconds=rng.uniform(1, 5))
                    e2 = p.sql_task(dag, rid, f"gold_{dom}_daily", f"gold.{dom}_daily", q, rng.uniform(60, 300), p.pick_worker(q), 2, 3, path)
                    end, state = e2 + timedelta(seconds=1), "success"
                r.update({"end_date": ts(end) if end < p.end else None, "state": state if end < p.end else "running"})
                if end < p.end:
                    logical = past[i - 1]
                    p.sched_log(end, f"[{afts(end)}] {{dagrun.py:943}} {'INFO' if state == 'success' else 'ERROR'} - Marking run <DagRun "
                                     f"{dag} @ {logical.strftime('%Y-%m-%d %H:%M:%S+00:00')}: {rid}, state:running, queued_at: "
                                     f"{clear.strftime('%Y-%m-%d %H:%M:%S')}+00:00. run_type: scheduled> "
                                     f"{'successful' if state == 'success' else 'failed'}")
            mine = tries[0][-1]
            if mine["failed"]:
                failed_dags.add(dag)
            return mine["e"], not mine["failed"]
        return run
    for n, (dom, src) in enumerate(victims):
        dag = f"{dom}_daily"
        past = [v.logical - timedelta(days=j) for j in range(days, 0, -1)]
        at = clear + timedelta(seconds=0.4 * n)
        p.log(access, at, f'INFO:     {uip}:{rng.randint(30000, 60000)} - "POST /api/v2/dags/{dag}/clearTaskInstances HTTP/1.1" 200 OK')
        v.overrides[dag] = {f"silver_{dom}": tonight_silver(dag, dom, src, past)}
    v.distractors([clear, clear + timedelta(minutes=20)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "clear-1", "start": z(clear), "severity": "high", "root_cause_any_of": roots, "entities": ents})
    v.summary.append(f"{user} clears {days} past runs of {len(victims)} DAGs at {z(clear)}; every run overwrites the same staging "
                     f"tables and {len(tasks)} silver steps lose their files.")
    return v.build()


# =====================================================================================
# Absence and late evidence: an infrastructure change disables the ingestion schedules
# =====================================================================================
def m_ingest_schedules_disabled(k):
    """The ingestion functions are invoked by EventBridge schedule rules that one Terraform module
    creates. An upgrade of that module, applied by the infrastructure pipeline shortly before the
    batch, renamed the variable that enables the rules; the old name is ignored and the new one
    defaults to disabled, so the apply sets every rule of the module to DISABLED (PutRule with
    State DISABLED). From the next scheduled minute the functions are simply not invoked: no error,
    no log line, no throttle; their invocation counts drop to zero and nothing lands in the landing
    bucket. The quarter-hourly loaders of those sources then find no files for their interval and
    fail ("[PATH_NOT_FOUND] Path does not exist"), on their retry too, run after run, in each
    source's DAG. The change's own record (CloudTrail's PutRule events) lands minutes after it. The
    cause is the change (its record; the functions' invocations stopping), not the loaders.
    Source: hashicorp/terraform-provider-aws#10346 ("aws_cloudwatch_event_rule is_enabled flag is
    not working": a rule's enabled state changed by a provider upgrade), serverless/serverless#5111
    and #9864/#9865 (a schedule's enabled flag ignored or defaulted; "State": "DISABLED"),
    eddmann/serverless-fargate#45 and localstack/localstack#3616 (DisableRule and disabled rules not
    firing), the EventBridge API (PutRule's State), AWS Lambda's Invocations metric (no invocation,
    no data point but zero) and CloudTrail's delivery within about five minutes."""
    v = Night("ingest-schedules-disabled", k)
    p, rng = v.p, v.rng
    change = max(p.start + timedelta(minutes=rng.uniform(3, 6)), v.at("01:%02d:%02d" % (rng.randint(53, 58), rng.randint(0, 59))))
    ct = {"service_name": "aws-cloudtrail", "level": "info"}

    def event(at, name, source, params, who):
        rec = {"eventVersion": "1.10", "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": source, "eventName": name,
               "awsRegion": REGION, "sourceIPAddress": f"10.0.{rng.randint(2, 8)}.{rng.randint(10, 250)}",
               "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:{who}-{rng.randint(1000, 9999)}"},
               "requestParameters": params, "eventID": str(uuid.UUID(int=rng.getrandbits(128))), "recipientAccountId": ACCOUNT}
        landed = at + timedelta(seconds=rng.uniform(180, 420))  # CloudTrail's delivery delay
        if landed < p.end:
            p.log(ct, landed, json.dumps(rec, separators=(",", ":")))
        return landed
    t = p.start + timedelta(seconds=rng.uniform(10, 90))
    while t < p.end:  # what else the trail records
        if rng.random() < 0.6:
            other = rng.choice(["spark-worker-instance", "airflow-worker-instance", "lambda-ingestion-exec"])
            event(t, "AssumeRole", "sts.amazonaws.com", {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/{other}",
                                                         "roleSessionName": f"{other}-{rng.randint(10**5, 10**6)}", "durationSeconds": 3600},
                  f"assumed-role/{other}/i")
        else:
            event(t, "DescribeInstances", "ec2.amazonaws.com", {"maxResults": 1000}, "assumed-role/autoscaler/i")
        t += timedelta(seconds=rng.uniform(40, 160))
    recorded, firsts, ents, roots = [], [], [stream_key(ct)], [stream_key(ct)]
    for j, (fn, src, every) in enumerate(p.lambdas):
        at = change + timedelta(seconds=0.8 * j + rng.uniform(0, 0.5))
        recorded.append(event(at, "PutRule", "events.amazonaws.com",
                              {"name": f"{fn}-schedule", "scheduleExpression": f"rate({every} minute{'s' if every > 1 else ''})",
                               "state": "DISABLED", "eventBusName": "default"}, "assumed-role/terraform-ci/ci-run"))
        i = v.minute_of(change) + 1
        while i % every:
            i += 1
        firsts.append(p.start + timedelta(minutes=i))
        res = {"service.name": "lambda-ingestion", "faas.name": fn, "cloud.region": REGION}
        inv = metric_key("aws.lambda.invocations", res)
        roots.append(inv)
        ents.extend([inv, metric_key("ingest.rows", {**res, "source": src}), metric_key("aws.lambda.duration", res),
                     f'log:{{function="{fn}",level="info",service_name="lambda-ingestion"}}'])

    def stop(sc):
        for m in sc["metrics"]:
            fn = m["resource"].get("faas.name")
            if not fn:
                continue
            for i in range(len(m["values"])):
                if p.start + timedelta(minutes=i) > change:
                    m["values"][i] = None if m["name"] == "aws.lambda.duration" else 0
        names = {fn for fn, _, _ in p.lambdas}
        for s in sc["loki"]["streams"]:
            if s["labels"].get("function") in names:
                s["entries"] = [e for e in s["entries"] if d(e[0][:19]) < change]
    v.post.append(stop)
    tasks, failed = [], []
    for fn, src, every in p.lambdas:
        dag, task, path = f"load_{src}_quarter_hourly", "load_landed_files", f"ingest/load_{src}_quarter_hourly.py"
        p.dag(dag, "*/15 * * * *", ["ingest", "bronze", src], "data-eng", path)
        lg = p.start.replace(minute=(p.start.minute // 15) * 15, second=0, microsecond=0)
        while lg + timedelta(minutes=15) + timedelta(minutes=4) <= p.end:
            q = lg + timedelta(minutes=15, seconds=rng.uniform(0.5, 2))  # the run of [lg, lg + 15 min) starts at its end
            rid = run_id(lg)
            prefix = f"s3://{p.landing}/{src}/dt={lg:%Y-%m-%d}/hour={lg:%H}/minute={lg:%M}/"
            if lg < change:  # files landed in the interval's first minutes
                e = p.sql_task(dag, rid, task, f"bronze.{src}_stream", q, rng.uniform(20, 60), p.pick_worker(q), 1, 1, path)
                p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, e + timedelta(seconds=1), "success")
            else:
                t = q
                for n in (1, 2):
                    text = (PYSPARK_TB + "pyspark.errors.exceptions.connect.AnalysisException: [PATH_NOT_FOUND] Path does not exist: "
                            f"{prefix}. SQLSTATE: 42K03")
                    e = p.sql_task(dag, rid, task, f"bronze.{src}_stream", t, rng.uniform(3, 8), p.pick_worker(t), n, 1, path,
                                   fail=lambda sid: "", job=False, final_log=text)
                    t = e + timedelta(minutes=2, seconds=rng.uniform(0, 3))
                key = task_key(dag, rid, task)
                tasks.append(key)
                failed.append(e)
                ents.extend([key, f"airflow:dagrun:{dag}/{rid}", f"airflow:dag:{dag}"])
                p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, e + timedelta(seconds=1), "failed")
            lg += timedelta(minutes=15)
    v.distractors([change, v.at("02:30")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    if tasks:
        v.incidents.append({"id": "schedules-1", "start": z(min(firsts)), "severity": "high", "root_cause_any_of": roots,
                            "entities": ents})
    v.summary.append(f"A Terraform apply disables the ingestion schedules at {z(change)} (recorded from {z(min(recorded))}); the "
                     f"functions stop and {len(tasks)} quarter-hourly loads find nothing.")
    return v.build()


# =====================================================================================
# A job's own behaviour, late symptoms: a shared dimension overwritten with zero rows
# =====================================================================================
def m_reference_dimension_overwritten_empty(k):
    """A reference-data DAG refreshes the shared currency-rate dimension shortly before the batch:
    it fetches the day's rates from a provider's API and overwrites gold.dim_fx_rates with them.
    That night the provider answers 200 with an empty list (a release on its side); the job has no
    check on the count, fetches "0 rates", and its INSERT OVERWRITE commits an empty table: the
    Iceberg commit report shows the overwrite removing every record and adding none. Nothing fails
    there. Later in the batch, every DAG whose gold step converts amounts with that dimension fails
    on its guard ("[USER_RAISED_EXCEPTION] no fx rate for EUR on ..."), on every retry, in several
    DAGs; the DAGs that do not convert pass. The cause is the refresh job's run (its empty fetch and
    its overwrite), not the failing gold steps. Source: apache/iceberg's LoggingMetricsReporter
    ("Received metrics report: CommitReport{tableName=..., operation=overwrite,
    commitMetrics=...}") and apache/amoro#873 (an INSERT OVERWRITE that leaves a table without its
    data), Spark's raise_error ("[USER_RAISED_EXCEPTION] ... SQLSTATE: P0001"), apache/airflow#14303
    (checks that find no rows), the Great Expectations and dbt literature on row-count guards, and
    post-mortems of empty upstream answers taken as valid data (HTTP 200 with an empty body)."""
    v = Night("reference-dimension-overwritten-empty", k)
    p, rng = v.p, v.rng
    rdag, rpath = "refresh_reference_data", "reference/refresh_reference_data.py"
    rlg = max(p.start + timedelta(minutes=1), v.at("01:%02d" % rng.randint(50, 56))).replace(second=0, microsecond=0)
    p.dag(rdag, f"{rlg.minute} {rlg.hour} * * *", ["reference", "fx"], "data-eng", rpath)
    rrid = run_id(rlg)
    provider = rng.choice(["rates.example-fx.com", "api.fxfeed.example", "fx.example.org"])
    q = rlg + timedelta(seconds=rng.uniform(0.5, 2))
    e1 = p.py_task(rdag, rrid, "fetch_fx_rates", q, rng.uniform(2, 6), p.pick_worker(q), 1, 2, None, rpath,
                   ok_lines=[("http.py:41", f"GET https://{provider}/v2/rates?base=USD&date={v.logical:%Y-%m-%d}: 200 OK"),
                             ("fx.py:63", f"Fetched 0 rates for {v.logical:%Y-%m-%d}; writing s3://{p.landing}/fx_rates/dt={v.logical:%Y-%m-%d}/")])
    fetched = parse_ts(p.tis[-1]["start_date"]) + timedelta(seconds=2)  # its "Fetched 0 rates" line
    q2 = e1 + timedelta(seconds=rng.uniform(1, 4))
    e2 = p.sql_task(rdag, rrid, "refresh_dim_fx_rates", "gold.dim_fx_rates", q2, rng.uniform(15, 40), p.pick_worker(q2), 1, 2, rpath)
    p.tis[-1]["log"][-2] = p.tis[-1]["log"][-2].split("Running statement")[0] + (
        "Running statement 1/1: INSERT OVERWRITE lakehouse.gold.dim_fx_rates SELECT currency, rate, DATE '"
        f"{v.logical:%Y-%m-%d}' AS dt FROM json.`s3://{p.landing}/fx_rates/dt={v.logical:%Y-%m-%d}/`")
    removed = rng.randint(150, 180)
    p.driver_log(e2 - timedelta(seconds=0.6), f"{sparkts(e2)} INFO LoggingMetricsReporter: Received metrics report: CommitReport{{"
                                              f"tableName=lakehouse.gold.dim_fx_rates, snapshotId={rng.randint(10**18, 9 * 10**18)}, "
                                              f"sequenceNumber={rng.randint(300, 900)}, operation=overwrite, commitMetrics="
                                              "CommitMetricsResult{totalDuration=TimerResult{timeUnit=NANOSECONDS, totalDuration=PT0.38S, "
                                              "count=1}, attempts=CounterResult{unit=COUNT, value=1}, addedDataFiles=null, removedDataFiles="
                                              "CounterResult{unit=COUNT, value=1}, totalDataFiles=CounterResult{unit=COUNT, value=0}, "
                                              f"addedRecords=null, removedRecords=CounterResult{{unit=COUNT, value={removed}}}, totalRecords="
                                              "CounterResult{unit=COUNT, value=0}}, metadata={engine-name=spark, iceberg-version=Apache "
                                              "Iceberg 1.7.1}}")
    p.run(rdag, rrid, rlg, q - timedelta(seconds=0.3), q, e2 + timedelta(seconds=1), "success")
    fkey, dkey = task_key(rdag, rrid, "fetch_fx_rates"), task_key(rdag, rrid, "refresh_dim_fx_rates")
    roots = [dkey, fkey, f"airflow:dagrun:{rdag}/{rrid}", f"airflow:dag:{rdag}"]
    converters = rng.sample(v.domains, rng.randint(3, 5))
    ents, tasks, failed_dags = list(roots), [], set()
    ccy = rng.choice(["EUR", "GBP", "CHF", "SEK", "PLN"])
    for dom, _ in converters:
        dag, task, table = f"{dom}_daily", f"gold_{dom}_daily", f"gold.{dom}_daily"
        stmt = (f"MERGE INTO lakehouse.{table} t USING (SELECT s.*, CASE WHEN r.rate IS NULL THEN raise_error(concat('no fx rate for ', "
                f"s.currency, ' on ', s.dt)) ELSE s.amount / r.rate END AS amount_usd FROM lakehouse.silver.{dom} s LEFT JOIN "
                "lakehouse.gold.dim_fx_rates r ON r.currency = s.currency AND r.dt = s.dt) u ON t.id = u.id WHEN MATCHED THEN UPDATE SET * "
                "WHEN NOT MATCHED THEN INSERT *")

        def attempt(path, n, t, h, dag=dag, task=task, table=table, stmt=stmt):
            hit = t + timedelta(seconds=rng.uniform(25, 90))
            sh = rng.choice(list(p.workers))
            eid = rng.choice(p.exec_by_host[sh])["id"]
            why = f"org.apache.spark.SparkRuntimeException: [USER_RAISED_EXCEPTION] no fx rate for {ccy} on {v.logical:%Y-%m-%d} SQLSTATE: P0001"
            end = spark_failure(v, ents, dag, v.rid, task, table, t, hit, h, n, 2, path, SQL, lambda sid: stage_abort(p, sid, sh, eid, why))
            log = p.tis[-1]["log"]
            for i, line in enumerate(log):
                if "Running statement 1/1" in line:
                    log[i] = line.split("Running statement")[0] + "Running statement 1/1: " + stmt
            return end, False
        v.overrides[dag] = {task: retrying(v, dag, task, 2, attempt, tasks, ents, failed_dags)}
    v.distractors([rlg, v.at("02:15")])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    v.incidents.append({"id": "dim-1", "start": z(fetched), "severity": "high", "root_cause_any_of": roots,
                        "entities": ents})
    v.summary.append(f"{rdag} overwrites gold.dim_fx_rates with 0 rows at {z(e2)} (its provider answered an empty list); "
                     f"{len(tasks)} gold steps that convert with it fail.")
    return v.build()


# =====================================================================================
# One machine: a worker rebuilt on a new image drops packets when its conntrack table fills
# =====================================================================================
def m_worker_conntrack_table_full(k):
    """One Spark worker was replaced the day before by an instance of the new machine image. The
    old image raised the kernel's connection-tracking limit; the new one keeps the distribution's
    default (nf_conntrack_max 65536), sized for a small host. When the batch starts, the executors
    on that host open and close thousands of short connections to object storage and to the other
    hosts' shuffle services; the entries (closed ones linger in TIME_WAIT) reach the limit, and the
    kernel drops the packets of every new connection ("nf_conntrack: nf_conntrack: table full,
    dropping packet"). The tasks on that host's executors fail to connect ("Unable to execute HTTP
    request: Connect to ...s3...amazonaws.com:443 ... failed: connect timed out"), their stages abort
    after four attempts, in several DAGs; the same work on the other hosts passes. When an operator
    raises the limit the retries pass. The cause is that host's conntrack table (its entry count at
    its limit, its kernel's messages), not the tasks. Source: kubernetes/kubernetes#71261 ("dmesg -T
    show lots of nf_conntrack: table full, dropping packet", fixed by raising nf_conntrack_max to
    1048576), adobe-platform/porter#124 (dropped packets under load "which manifest as 503s"),
    canonical/hotsos#101 ("kernel: ... nf_conntrack: nf_conntrack: table full, dropping packet"),
    session-replay-tools/tcpcopy#131 (the default nf_conntrack_max of 65536 too small under
    load), wballard/starphleet#352 (raising the limit), Prometheus node_exporter's
    node_nf_conntrack_entries and node_nf_conntrack_entries_limit, the AWS SDK's "Unable to execute
    HTTP request: Connect to ... failed: connect timed out", and Spark's stage-abort texts."""
    v = Night("worker-conntrack-table-full", k)
    p, rng = v.p, v.rng
    h = rng.choice(list(p.workers))
    cap = 65536
    full = v.at("02:%02d:%02d" % (rng.randint(2, 7), rng.randint(0, 59)))
    fixed = full + timedelta(minutes=rng.randint(16, 26), seconds=rng.randint(0, 59))
    batch = v.logical

    def entries(t):
        if t < batch:
            return rng.randint(4000, 9000)
        if t < full - timedelta(seconds=59):
            return int(9000 + (cap - 9000) * (t - batch) / (full - batch)) - rng.randint(0, 900)
        if t < fixed:
            return cap - rng.randint(0, 12)
        return rng.randint(30000, 52000) if t < fixed + timedelta(minutes=20) else rng.randint(6000, 20000)
    res = {"service.name": "node-exporter", "host.name": h}
    ckey = v.series(res, "node_nf_conntrack_entries", "gauge", "{entry}", {}, entries)
    ckey_limit = v.series(res, "node_nf_conntrack_entries_limit", "gauge", "{entry}", {}, lambda t: cap if t < fixed else 1048576)
    kern = {"service_name": "kernel", "host": h, "level": "warning"}
    t = full + timedelta(seconds=rng.uniform(0.5, 4))
    while t < fixed:
        p.log(kern, t, f"{syslog(t, h)} kernel: nf_conntrack: nf_conntrack: table full, dropping packet")
        t += timedelta(seconds=rng.uniform(1, 9))
    ents, tasks, failed_dags = [ckey, stream_key(kern), f"host:{h}", ckey_limit], [], set()
    s3host = f"{p.lake}.s3.{REGION}.amazonaws.com"

    def gate(dag, task, table, op, mt):
        def attempt(path, n, t, hh):
            dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
            st = t + timedelta(seconds=4)
            hit = max(st + timedelta(seconds=rng.uniform(15, 40)), full + timedelta(seconds=rng.uniform(5, 90)))
            if not (hit < st + timedelta(seconds=dur) and hit < fixed) or rng.random() < 0.45:
                return p.sql_task(dag, v.rid, task, table, t, dur, hh, n, mt, path, operator=op), True
            eid = rng.choice(p.exec_by_host[h])["id"]
            ents.append(f"spark:executor:{p.app_id}/{eid}")
            why = (f"software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP request: Connect to {s3host}:443 "
                   f"[{s3host}/52.218.{rng.randint(0, 255)}.{rng.randint(1, 254)}] failed: connect timed out")
            return spark_failure(v, ents, dag, v.rid, task, table, t, hit, hh, n, mt, path, op,
                                 lambda sid: stage_abort(p, sid, h, eid, why)), False
        return retrying(v, dag, task, mt, attempt, tasks, ents, failed_dags)
    gate_every_task(v, gate)
    v.distractors([full, fixed])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "conntrack-1", "start": z(min(full, first_point(v, full - timedelta(seconds=59)))), "severity": "high",
                            "root_cause_any_of": [ckey, stream_key(kern), f"host:{h}"], "entities": ents})
    v.summary.append(f"{h}'s conntrack table is full from {z(full)} to {z(fixed)}; {len(tasks)} nightly tasks on its executors fail to "
                     "connect.")
    return v.build()


MODES = {
    "api-server-polled-to-timeout": m_api_server_polled_to_timeout,
    "log-agent-leak-oom-kills-executors": m_log_agent_leak_oom_kills_executors,
    "schema-registry-store-unwritable": m_schema_registry_store_unwritable,
    "serving-db-xid-wraparound": m_serving_db_xid_wraparound,
    "cleared-past-runs-overwrite-staging": m_cleared_past_runs_overwrite_staging,
    "ingest-schedules-disabled": m_ingest_schedules_disabled,
    "reference-dimension-overwritten-empty": m_reference_dimension_overwritten_empty,
    "worker-conntrack-table-full": m_worker_conntrack_table_full,
}


if __name__ == "__main__":
    held_out_main(__doc__, MODES)
