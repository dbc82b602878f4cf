#!/usr/bin/env python3
"""A fifth set of held-out failure modes (guardian-scenario/1), written by a hand that does not
change the correlator.

  python3 test/scenarios/held-out-modes-5.py --out DIR [--variants N]

None of these 8 is among the 47 modes of modes.py, novel-modes.py, held-out-modes.py,
held-out-modes-3.py and held-out-modes-4.py. They are scored on the code of the day they were
written and once more at the end of the session, never per mode in between, so their figures say
how Guardian does on failures nobody tuned it for. The rule that keeps them useful: never change
Guardian while reading what it does on these.

They spread over the classes issue 17 names and over the machine / data / external axes:

* a shared resource: AWS Secrets Manager throttling every connection lookup of the workers while
  another consumer in the account eats the quota (external); a SaaS org's daily API quota eaten by
  a backfill (external, also contention);
* a job's own behaviour: one skewed join drives the executors it lands on into a GC spiral, they
  stop heartbeating and take other DAGs' jobs down with them (data; its evidence on the executors'
  machines); a streaming writer that archives a catalog version on every commit reaches the
  catalog's per-table limit, and every writer of that table fails (data);
* contention: a heavy rebuild moved to the nightly batch's minute holds every core of the shared
  Spark application under FIFO scheduling, and the nightly statements time out waiting (data);
  the broker's visibility timeout shortened below the long tasks' run time, so each long task is
  delivered twice and the duplicate kills the original (machine);
* absence: the triggerer dies and deferred sensors never resume until their timeout (machine,
  late evidence); the telemetry gateway's memory limiter refuses data and the hosts' series go
  silent with nothing failing (machine).

Each mode is a real incident class of this platform, its wording and causal chain cited beside
it. The platform simulation and the generic mechanics are modes.py's, generate.py's and the
earlier held-out generators', imported. Deterministic: the same command writes the same files.
Python standard library only.
"""
import importlib
import uuid
from datetime import timedelta

from generate import DRIVER_STACK, PYSPARK_TB, afts, daily_dags, metric_key, run_id, sparkts, task_key, ts
from modes import held_out_main, AIRFLOW_TB, REGION, Night, stream_key, z

_h3 = importlib.import_module("held-out-modes-3")
_h4 = importlib.import_module("held-out-modes-4")
hexid, failed_run_entities = _h3.hexid, _h3.failed_run_entities
SQL, CHECK = _h4.SQL, _h4.CHECK
gate_every_task, note, failed_try, sched_error, ti_repr = (_h4.gate_every_task, _h4.note, _h4.failed_try, _h4.sched_error,
                                                           _h4.ti_repr)


def wlog(t):
    """The stamp of a Celery worker's structlog line."""
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def timed_out(t, pid):
    """The last lines of a task killed by its execution_timeout, ending at `t`."""
    return [f"[{afts(t - timedelta(milliseconds=60))}] {{timeout.py:68}} ERROR - Process timed out, PID: {pid}",
            f"[{afts(t - timedelta(milliseconds=20))}] {{task_runner.py:1084}} ERROR - " + AIRFLOW_TB
            + '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/utils/timeout.py", line 69, in handle_timeout\n'
              f"    raise AirflowTaskTimeout(self.error_message)\nairflow.exceptions.AirflowTaskTimeout: Timeout, PID: {pid}"]


def cancel(p, job):
    """Marks `job` (the last one recorded) as cancelled with its Spark Connect operation, as Spark does
    when a killed task's operation is interrupted: by its operation tag."""
    why = f"Job {job['jobId']} cancelled part of cancelled job tags {job['jobTags'][-1]}"
    for st in p.stages[-len(job["stageIds"]):]:
        if st["status"] == "FAILED":
            st.update({"failureReason": why, "numCompleteTasks": 0, "numFailedTasks": 0})
    job["numFailedTasks"] = 0


def quiet_retry(v, at):
    """A harmless oddity for nights whose incident spans most of the data: a reference-data DAG whose
    call to a public API times out once and passes on its retry (quiet)."""
    p, rng = v.p, v.rng
    dag, task, path = "refresh_public_holidays", "fetch_holidays", "reference/refresh_public_holidays.py"
    p.dag(dag, f"{at.minute} {at.hour} * * *", ["reference"], "data-eng", path)
    rid = run_id(at)
    q = at + timedelta(seconds=rng.uniform(0.5, 2))
    e = p.py_task(dag, rid, task, q, rng.uniform(30.2, 31.5), p.pick_worker(q), 1, 2,
                  AIRFLOW_TB + "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='date.nager.at', port=443): Read timed out. "
                               "(read timeout=30)", path)
    e2 = p.py_task(dag, rid, task, e + timedelta(minutes=2), rng.uniform(2, 5), p.pick_worker(e), 2, 2, None, path,
                   ok_lines=[("holidays.py:40", f"Fetched {rng.randint(9, 14)} public holidays for {at.year}")])
    p.run(dag, rid, at, q - timedelta(seconds=0.3), q, e2 + timedelta(seconds=1), "success")
    v.quiet.append(task_key(dag, rid, task))


# =====================================================================================
# Absence, late evidence: the triggerer dies and deferred sensors never resume
# =====================================================================================
def m_airflow_triggerer_down(k):
    """The Airflow triggerer runs the deferred sensors of the partner-import DAGs. During the
    nightly batch its pod goes over its memory limit and is OOM-killed, then crash-loops (each
    restart is killed again while it reloads its triggers): its heartbeat stops, the health
    endpoint reports it unhealthy, and the triggers it held never fire. The partner files land on
    time, but the sensors stay deferred; nothing fails until each sensor's timeout, when the
    scheduler times the deferral out and the task fails on a worker with "Trigger/execution
    timeout"; the loads behind them never run. The only early evidence is the triggerer's own
    (absent) heartbeat and its pod's events. Source: apache/airflow#52247 ("Deferred trigger tasks
    seem to get stuck": the async loop in the triggerer gets stuck, tasks stay "deferred" though the
    awaited DAG completed), apache/airflow#43634 ("Airflow task stuck on DEFERRED status"; the
    maintainers point at the triggerer's memory), apache/airflow#47013 (triggerer log "N triggers
    currently running [airflow.jobs.triggerer_job_runner]"), apache/airflow#15389 (AIP-40: the
    scheduler times out deferred tasks: next_method "__fail__" with error "Trigger/execution
    timeout", "Timed out %i deferred tasks without fired triggers"), apache/airflow#26205 ("The
    triggerer is not running. Please start the triggerer"), Kubernetes events ("Back-off restarting
    failed container ...") and node-problem-detector's "OOMKilling: Memory cgroup out of memory:
    Killed process N (...)" (the kernel line of docker/for-linux#1001)."""
    v = Night("airflow-triggerer-down", k)
    p, rng = v.p, v.rng
    trig = "airflow-triggerer-0"
    crash = v.at("02:%02d:%02d" % (rng.randint(1, 5), rng.randint(0, 59)))
    partner = rng.choice(["nielsen", "iri", "circana", "kantar", "gfk"])
    doms = [d for d, _ in rng.sample(v.domains, rng.randint(3, 5))]
    info = {"service_name": "airflow-triggerer", "host": trig, "level": "info"}
    ev = {"service_name": "kubernetes-events", "namespace": "airflow", "level": "warning"}
    held = []  # (deferred at, fired at or None): the triggers the triggerer holds
    ents, tasks, failed_dags = [f"host:{trig}", stream_key(info), stream_key(ev)], [], []
    timeouts = []
    for i, dom in enumerate(doms):
        dag = f"import_{dom}_from_{partner}"
        path = f"partners/{dag}.py"
        minute = rng.choice([0, 5, 10, 15])
        p.dag(dag, f"{minute} 2 * * *", ["partner", partner, dom], "data-eng", path)
        lg = v.at("02:%02d" % minute)
        rid = run_id(lg)
        q = lg + timedelta(seconds=rng.uniform(0.5, 2))
        st = q + timedelta(seconds=rng.uniform(0.8, 2.5))
        deferred = st + timedelta(seconds=rng.uniform(1.5, 3.5))
        landed = lg + timedelta(minutes=rng.uniform(4, 22))
        key = f"s3://{p.landing}/partners/{partner}/{dom}/dt={v.logical.strftime('%Y-%m-%d')}/_SUCCESS"
        limit = rng.choice([1800, 2400, 2700])
        sensor, load = f"wait_for_{dom}_drop", f"load_{dom}_drop"
        w1 = p.pick_worker(q)
        log = [f"[{afts(st + timedelta(milliseconds=300))}] {{dagbag.py:588}} INFO - Filling up the DagBag from /opt/airflow/dags/{path}",
               f"[{afts(st + timedelta(seconds=1))}] {{s3.py:117}} INFO - Poking for key : {key}",
               f"[{afts(deferred)}] {{task_runner.py:1012}} INFO - Pausing task as DEFERRED. dag_id={dag}, task_id={sensor}, "
               f"run_id={rid}, execution_date={lg.strftime('%Y%m%dT%H%M%S')}, start_date={st.strftime('%Y%m%dT%H%M%S')}"]
        p.aw_log(w1, deferred + timedelta(milliseconds=200),
                 f"{wlog(deferred)} [info     ] Task finished exit_code=0 duration={(deferred - st).total_seconds():.3f} "
                 "final_state=deferred [supervisor]")
        fires = deferred < crash and landed < crash
        if fires:
            fired = landed + timedelta(seconds=rng.uniform(1, 5))
            held.append((deferred, fired))
            resume = fired + timedelta(seconds=rng.uniform(2, 6))
            w2 = p.pick_worker(resume)
            log += [f"[{afts(resume + timedelta(seconds=1))}] {{s3.py:136}} INFO - Success criteria met. Exiting."]
            end = resume + timedelta(seconds=rng.uniform(1.5, 3))
            p.ti(dag, rid, sensor, 1, 0, q, st, end, "success", w2, "S3KeySensor", pool="default_pool", log=log)
            e = p.sql_task(dag, rid, load, f"bronze.{dom}_{partner}", end + timedelta(seconds=1), rng.uniform(60, 240), p.pick_worker(end),
                           1, 1, path)
            p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, e + timedelta(seconds=1), "success")
            continue
        held.append((deferred, None))
        out = deferred + timedelta(seconds=limit)
        skey = task_key(dag, rid, sensor)
        tasks.append(skey)
        ents.extend([skey, f"airflow:dag:{dag}"])
        if out + timedelta(seconds=20) > p.end:  # still deferred when the night's data ends
            p.ti(dag, rid, sensor, 1, 0, q, st, None, "running", w1, "S3KeySensor", pool="default_pool", log=log)
            p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, None, "running")
            ents.append(f"airflow:dagrun:{dag}/{rid}")
            continue
        found = out + timedelta(seconds=rng.uniform(0, 15))  # trigger_timeout_check_interval
        timeouts.append(found)
        resume = found + timedelta(seconds=rng.uniform(2, 5))
        w2 = p.pick_worker(resume)
        end = resume + timedelta(seconds=rng.uniform(1.5, 3))
        log.append(f"[{afts(end - timedelta(milliseconds=30))}] {{task_runner.py:1084}} ERROR - " + AIRFLOW_TB
                   + '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/task_runner.py", line 1001, in _execute_task\n'
                     "    raise TaskDeferralTimeout(error)\n"
                     "airflow.exceptions.TaskDeferralTimeout: Trigger/execution timeout")
        p.ti(dag, rid, sensor, 1, 0, q, st, end, "failed", w2, "S3KeySensor", pool="default_pool", log=log)
        p.skipped(dag, rid, load, end + timedelta(seconds=1), 1)
        p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, end + timedelta(seconds=2), "failed")
        ents.extend([task_key(dag, rid, load), f"airflow:dagrun:{dag}/{rid}"])
        failed_dags.append(dag)
    for found in sorted(timeouts):
        p.sched_log(found, f"[{afts(found)}] {{scheduler_job_runner.py:2024}} INFO - Timed out 1 deferred tasks without fired triggers")
    # the triggerer: a heartbeat and a trigger count every minute until it dies, then crash-loops
    t = p.start + timedelta(seconds=rng.uniform(0, 59))
    while t < crash:
        running = sum(1 for dfr, fired in held if dfr <= t and (fired is None or fired > t))
        p.log(info, t, f"{wlog(t)[:19]} [info     ] {running} triggers currently running [airflow.jobs.triggerer_job_runner]")
        t += timedelta(seconds=60 + rng.uniform(-0.5, 0.5))
    uid = uuid.UUID(int=rng.getrandbits(128))
    t, backoff = crash + timedelta(seconds=rng.uniform(0.5, 2)), 10
    node = f"ip-10-0-{rng.randint(2, 8)}-{rng.randint(10, 250)}.{REGION}.compute.internal"

    def oom(at):
        p.log(ev, at, f"Node {node}: OOMKilling: Memory cgroup out of memory: Killed process {rng.randint(7, 900)} (airflow) "
                      f"total-vm:{rng.randint(2_600_000, 3_100_000)}kB, anon-rss:{rng.randint(2_040_000, 2_090_000)}kB, "
                      f"file-rss:{rng.randint(9000, 40000)}kB, shmem-rss:0kB, UID:50000 pgtables:{rng.randint(4200, 6100)}kB oom_score_adj:999")
    oom(t)
    while t < p.end:
        p.log(ev, t + timedelta(seconds=1), f"Pod airflow/{trig}: BackOff: Back-off restarting failed container triggerer in pod "
                                            f"{trig}_airflow({uid})")
        up = t + timedelta(seconds=backoff + rng.uniform(1, 3))
        if up >= p.end:
            break
        p.log(ev, up, f"Pod airflow/{trig}: Started: Started container triggerer")
        p.log(info, up + timedelta(seconds=4), f"{wlog(up + timedelta(seconds=4))[:19]} [info     ] Starting the triggerer "
                                               "[airflow.cli.commands.triggerer_command]")
        t = up + timedelta(seconds=rng.uniform(20, 45))
        if t < p.end:
            oom(t)
        backoff = min(backoff * 2, 300)
    res = {"service.name": "airflow-triggerer", "host.name": trig}
    beat = v.series(res, "airflow.triggerer_heartbeat", "sum", "{heartbeat}", {}, lambda t: 12 if t < crash - timedelta(seconds=59) else None)
    v.series(res, "airflow.triggers.running", "gauge", "{trigger}", {},
             lambda t: sum(1 for dfr, fired in held if dfr <= t and (fired is None or fired > t)) if t < crash - timedelta(seconds=59) else None)
    ents.insert(1, beat)
    last_beat = crash - timedelta(seconds=rng.uniform(1, 5))

    def unhealthy(sc):
        for h in sc["airflow"]["health"]:
            at = h["at"]
            if at >= z(crash):
                h["triggerer"] = "unhealthy"
                h["latest_triggerer_heartbeat"] = ts(last_beat)
            else:
                h["latest_triggerer_heartbeat"] = h["latest_scheduler_heartbeat"]
    v.post.append(unhealthy)
    v.distractors([crash, crash + timedelta(minutes=45)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    if tasks:
        v.incidents.append({"id": "triggerer-1", "start": z(crash), "severity": "high",
                            "root_cause_any_of": [f"host:{trig}", beat, stream_key(info), stream_key(ev)], "entities": ents})
    v.summary.append(f"The triggerer {trig} is OOM-killed at {z(crash)} and crash-loops; {len(tasks)} deferred sensors of "
                     f"{partner} imports never resume until their timeout.")
    return v.build()


# =====================================================================================
# A shared resource: Secrets Manager throttles the workers' connection lookups
# =====================================================================================
def m_secrets_backend_throttled(k):
    """Airflow's workers resolve connections through the AWS Secrets Manager secrets backend. An
    External Secrets Operator in the same account and region is reconfigured to refresh a large
    number of secrets every few seconds; its GetSecretValue calls fill the account's request
    quota and Secrets Manager throttles everyone. Each Spark task resolving the Spark Connect
    connection at its start then fails: the backend's call is throttled ("ThrottlingException ...
    Rate exceeded") after the SDK's retries, the lookup falls through to the other backends, and
    the task fails with "The conn_id ... isn't defined", a text that names no cause. Retries pass
    or fail by chance until the operator's loop is rolled back. Source: apache/airflow#15780 ("High
    volume of API requests with AWS Secrets Manager backend"), apache/airflow#19324 (the backend's
    "botocore.exceptions.ClientError: An error occurred (...) when calling the GetSecretValue
    operation"), apache/airflow#16404 (secrets backend failover: on an error the lookup goes on to
    the next backend, "Unable to retrieve connection from secrets backend ... Checking subsequent
    secrets backend"), aws/aws-mwaa-local-runner#209 ("AirflowNotFoundException: The conn_id ...
    isn't defined"), apache/airflow#23906 (throttling of Amazon provider calls:
    "ThrottlingException"), external-secrets/external-secrets#4065 ("ThrottlingException: Rate
    exceeded ... status code: 400" in the operator's log), AWS Usage metrics (CallCount)."""
    v = Night("secrets-backend-throttled", k)
    p, rng = v.p, v.rng
    change = v.at("01:5%d:%02d" % (rng.randint(6, 9), rng.randint(0, 59)))
    w0 = change + timedelta(seconds=rng.uniform(50, 110))
    w1 = w0 + timedelta(minutes=rng.randint(22, 34), seconds=rng.randint(0, 59))
    hit = rng.uniform(0.55, 0.75)  # share of lookups that fail while throttled
    pod = f"external-secrets-{hexid(rng, 10)}-{hexid(rng, 5)}"
    eso = {"service_name": "external-secrets", "host": pod, "level": "error"}
    t = w0 + timedelta(seconds=rng.uniform(0, 2))
    n = 0
    while t < w1:
        ns = rng.choice(["payments", "checkout", "identity", "search", "catalog"])
        p.log(eso, t, '{"level":"error","ts":%.7f,"logger":"controllers.ExternalSecret","msg":"could not get secret data from '
                      'provider","ExternalSecret":{"name":"%s-%s","namespace":"%s"},"error":"ThrottlingException: Rate exceeded\\n'
                      '\\tstatus code: 400, request id: %s"}' % (t.timestamp(), ns, rng.choice(["db", "api-keys", "tls", "oauth"]), ns,
                                                               uuid.UUID(int=rng.getrandbits(128))))
        t += timedelta(seconds=rng.uniform(0.5, 4))
        n += 1
    res = {"service.name": "aws-usage", "cloud.region": REGION}
    quota = 600_000  # calls a minute at 10,000 a second

    def calls(t):
        if change <= t < w1:
            return int(quota * rng.uniform(0.97, 1.0)) if t >= w0 - timedelta(seconds=60) else int(quota * rng.uniform(0.4, 0.7))
        return rng.randint(1_800, 4_200)
    usage = v.series(res, "aws.usage.call_count", "sum", "{call}",
                     {"service": "SecretsManager", "type": "API", "resource": "GetSecretValue", "class": "None"}, calls)
    ents, tasks, failed_dags = [usage, stream_key(eso)], [], set()

    def lookup_failed(conn, at):
        return (f"[{afts(at - timedelta(milliseconds=900))}] {{context.py:164}} ERROR - Unable to retrieve connection from secrets "
                "backend (SecretsManagerBackend). Checking subsequent secrets backend.\nTraceback (most recent call last):\n"
                '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/providers/amazon/aws/secrets/secrets_manager.py", '
                "line 282, in _get_secret\n    response = self.client.get_secret_value(\n"
                '  File "/home/airflow/.local/lib/python3.12/site-packages/botocore/client.py", line 1023, in _make_api_call\n'
                "    raise error_class(parsed_response, operation_name)\n"
                "botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the GetSecretValue "
                "operation (reached max retries: 4): Rate exceeded")

    def gate(dag, task, table, op, mt):
        def run(path, t, host):
            n = 1
            while True:
                h = host if n == 1 else p.pick_worker(t)
                st = t + timedelta(seconds=rng.uniform(0.8, 2.5))
                if not (w0 <= st + timedelta(seconds=1.6) < w1) or rng.random() > hit:
                    dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
                    return p.sql_task(dag, v.rid, task, table, t, dur, h, n, mt, path, operator=op), True
                end = st + timedelta(seconds=rng.uniform(3.5, 7))  # the SDK's retries with backoff
                log = [f"[{afts(st + timedelta(milliseconds=300))}] {{dagbag.py:588}} INFO - Filling up the DagBag from /opt/airflow/dags/{path}",
                       f"[{afts(st + timedelta(seconds=1.2))}] {{base.py:84}} INFO - Retrieving connection 'spark_connect_default'",
                       lookup_failed("spark_connect_default", end),
                       f"[{afts(end - timedelta(milliseconds=40))}] {{task_runner.py:1084}} ERROR - " + AIRFLOW_TB
                       + '  File "/opt/airflow/plugins/lakehouse/operators/spark_sql.py", line 52, in execute\n'
                         "    conn = self.get_connection(self.conn_id)\n"
                         '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/context.py", line 190, in _get_connection\n'
                         "    raise AirflowNotFoundException(f\"The conn_id `{conn_id}` isn't defined\")\n"
                         "airflow.exceptions.AirflowNotFoundException: The conn_id `spark_connect_default` isn't defined"]
                p.ti(dag, v.rid, task, n, mt, t, st, end, "up_for_retry" if n <= mt else "failed", h, op, log=log)
                retry = failed_try(v, dag, task, n, mt, end, tasks, ents, failed_dags)
                if retry is None:
                    return end, False
                n, t = n + 1, retry
        return run
    gate_every_task(v, gate)
    orig = p.sql_task

    def ops_lookup(dag_id, rid, task_id, table, t0, dur_s, host, try_number=1, max_tries=2, path="", fail=None, **kw):
        # the ops refresh resolves the same connection: a first try in the window may fail, its retry a minute later
        st = t0 + timedelta(seconds=1.6)
        if dag_id != "ops_maintenance" or fail is not None or try_number != 1 or not w0 <= st < w1 or rng.random() > hit:
            return orig(dag_id, rid, task_id, table, t0, dur_s, host, try_number, max_tries, path, fail, **kw)
        end = st + timedelta(seconds=rng.uniform(3.5, 7))
        log = [f"[{afts(st + timedelta(milliseconds=300))}] {{dagbag.py:588}} INFO - Filling up the DagBag from /opt/airflow/dags/{path}",
               lookup_failed("spark_connect_default", end),
               f"[{afts(end - timedelta(milliseconds=40))}] {{task_runner.py:1084}} ERROR - " + AIRFLOW_TB
               + "airflow.exceptions.AirflowNotFoundException: The conn_id `spark_connect_default` isn't defined"]
        p.ti(dag_id, rid, task_id, 1, max_tries, t0, st, end, "up_for_retry", host, SQL, log=log)
        ents.append(task_key(dag_id, rid, task_id))
        return orig(dag_id, rid, task_id, table, end + timedelta(minutes=1), dur_s, p.pick_worker(end), 2, max_tries, path, **kw)
    p.sql_task = ops_lookup
    v.distractors([w0, w1])
    p.sql_task = orig
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    if tasks:
        v.incidents.append({"id": "secrets-1", "start": z(w0), "severity": "high", "root_cause_any_of": [usage, stream_key(eso)],
                            "entities": ents})
    v.summary.append(f"Secrets Manager GetSecretValue throttled from {z(w0)} to {z(w1)} (another consumer in the account); "
                     f"{len(tasks)} tasks fail their connection lookup.")
    return v.build()


def statement(table, op):
    """The statement a nightly task of `table` runs (as generate.py's sql_task writes it)."""
    if op == CHECK:
        return f"SELECT count(*) AS bad_rows FROM lakehouse.{table} WHERE id IS NULL OR updated_at IS NULL"
    return (f"MERGE INTO lakehouse.{table} t USING lakehouse.{table}_updates s ON t.id = s.id "
            "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *")


# =====================================================================================
# Contention: a heavy rebuild holds every core of the shared Spark application
# =====================================================================================
def m_spark_fifo_starvation(k):
    """A history rebuild that used to run on Sunday mornings is moved to the nightly batch's minute
    (02:00). All DAGs share one Spark Connect application whose scheduler runs jobs in FIFO order:
    once the rebuild submits its wide stage (tens of thousands of tasks), that stage takes every
    executor core as soon as one frees, for most of an hour. Statements submitted after it get no
    task slot; the nightly tasks wait until their execution_timeout kills them ("AirflowTaskTimeout")
    and their Connect operations are interrupted, retry after retry, in every DAG, while the
    rebuild itself succeeds. The cause is that one job (its place in the queue and its width), not
    the victims. Source: Spark docs "Job Scheduling: Scheduling Within an Application" ("By default,
    Spark's scheduler runs jobs in FIFO fashion ... if the jobs at the head of the queue are large,
    then later jobs may be delayed significantly", quoted in henridf/apache-spark-node#28),
    apache/spark#27862 / SPARK-31107 ("FIFO: it can easily causing congestion when large sql query
    occupies all the resources"), apache/spark#20881 (jobs of the default pool still run FIFO),
    apache/spark#39703 / SPARK-42157 ("Fair Scheduler configuration file not found so jobs will be
    scheduled in FIFO order"), Spark's "Adding task set N.0 with M tasks", Spark Connect's
    interruptTag ("part of cancelled job tags ...": a killed client's operation cancels its jobs)
    and Airflow's "Process timed out, PID: N" / "AirflowTaskTimeout: Timeout, PID: N"."""
    v = Night("spark-fifo-starvation", k)
    p, rng = v.p, v.rng
    dom, _ = rng.choice(v.domains)
    hdag, htask = f"{dom}_history_rebuild", f"rebuild_{dom}_history"
    hpath = f"maintenance/{hdag}.py"
    p.dag(hdag, "0 2 * * *", ["maintenance", dom], "data-eng", hpath)
    hlg = v.at("02:00")
    hrid = run_id(hlg)
    q = hlg + timedelta(seconds=rng.uniform(0.5, 2))
    st = q + timedelta(seconds=rng.uniform(0.8, 2))
    js = st + timedelta(seconds=2.6)
    hs = js + timedelta(seconds=rng.uniform(35, 80))  # the wide stage is submitted
    he = hs + timedelta(minutes=rng.uniform(45, 60))
    je = he + timedelta(seconds=rng.uniform(20, 50))
    width = rng.choice([40_000, 48_000, 60_000])
    cores = 16 * len(p.workers)
    stmt = (f"INSERT OVERWRITE lakehouse.silver.{dom}_history SELECT e.*, d.valid_from, d.valid_to FROM lakehouse.bronze.{dom}_events e "
            f"JOIN lakehouse.silver.{dom}_dim d ON e.{dom}_id = d.id AND e.event_ts BETWEEN d.valid_from AND d.valid_to")
    job, sids = p.spark_job(hdag, htask, hrid, js, je, nstages=2)
    p.stages[-2].update({"completionTime": ts(hs)})
    p.stages[-1].update({"submissionTime": ts(hs), "completionTime": ts(he), "numTasks": width, "numCompleteTasks": width})
    job["numTasks"] = p.stages[-2]["numTasks"] + width
    p.driver_log(hs, f"{sparkts(hs)} INFO DAGScheduler: Submitting {width} missing tasks from ShuffleMapStage {sids[1]} "
                     f"(MapPartitionsRDD[{rng.randint(90000, 99999)}] at sql at NativeMethodAccessorImpl.java:0) (first 15 tasks are for "
                     "partitions Vector(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14))")
    p.driver_log(hs + timedelta(milliseconds=40), f"{sparkts(hs)} INFO TaskSchedulerImpl: Adding task set {sids[1]}.0 with {width} tasks "
                                                  "resource profile 0")
    end = je + timedelta(seconds=rng.uniform(1, 3))
    log = p.spark_task_logs(hdag, htask, hrid, st, [(stmt, (je - st).total_seconds() - 2.4)], hpath)
    h = p.pick_worker(q)
    p.ti(hdag, hrid, htask, 1, 1, q, st, end, "success", h, SQL, log=log)
    e2 = p.py_task(hdag, hrid, f"analyze_{dom}_history", end + timedelta(seconds=1), rng.uniform(20, 60), p.pick_worker(end), 1, 1, None,
                   hpath, ok_lines=[("analyze.py:31", f"Computed statistics for silver.{dom}_history")])
    p.run(hdag, hrid, hlg, q - timedelta(seconds=0.3), q, e2 + timedelta(seconds=1), "success")
    hog_key = task_key(hdag, hrid, htask)
    hog_job = f"spark:job:{p.app_id}/{job['jobId']}"
    ents = [hog_key, f"airflow:dag:{hdag}", hog_job, f"spark:stage:{p.app_id}/{sids[1]}"]
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
                if not hs <= sub < he:
                    return p.sql_task(dag, v.rid, task, table, t, dur, hh, n, mt, path, operator=op), True
                done = he + timedelta(seconds=dur * rng.uniform(0.6, 0.9))
                if done < t + timedelta(seconds=limit):  # waits, then runs once the wide stage is done
                    waits.append((sub, he))
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

    def ops_slowed(dag_id, rid, task_id, table, t0, dur_s, *a, **kw):
        # the ops refresh waits for the wide stage too (it has no timeout)
        if dag_id == "ops_maintenance" and hs <= t0 + timedelta(seconds=4.2) < he:
            dur_s = (he - t0).total_seconds() + dur_s * 0.7
        return orig(dag_id, rid, task_id, table, t0, dur_s, *a, **kw)
    p.sql_task = ops_slowed
    v.distractors([hs + timedelta(minutes=10 * i) for i in range(7)] + [he])
    daily_dags(p, v.domains, v.logical, v.overrides)
    p.sql_task = orig
    quiet_retry(v, v.at("02:%02d" % rng.choice([20, 25, 35])))
    failed_run_entities(v, ents, sorted(failed_dags))
    conn = {"service.name": "spark-connect", "host.name": p.driver_host}
    v.series(conn, "spark.executor.threadpool.active_tasks", "gauge", "{task}", {},
             lambda t: cores if hs <= t < he else int(cores * rng.uniform(0.1, 0.45)))
    active = v.series(conn, "spark.dagscheduler.job.active", "gauge", "{job}", {},
                      lambda t: (1 if js <= t < je else 0) + sum(1 for a, b in waits if a <= t < b) + rng.randint(0, 2))
    ents.append(active)
    if tasks:
        v.incidents.append({"id": "fifo-1", "start": z(hs), "severity": "high",
                            "root_cause_any_of": [hog_key, f"airflow:dag:{hdag}", hog_job], "entities": ents})
    v.summary.append(f"{hdag} moved to 02:00 submits a {width}-task stage at {z(hs)} that holds all {cores} cores until {z(he)}; "
                     f"{len(tasks)} nightly tasks time out waiting.")
    return v.build()


# =====================================================================================
# A job's own behaviour: a skewed join's executors stop heartbeating, and take others down
# =====================================================================================
def m_executor_gc_heartbeat_loss(k):
    """One DAG's gold step joins on a key whose few values hold most of the rows. The executors that
    get the giant partitions spend nearly all their time in full GC, their heartbeats to the driver
    stop ("Issue communicating with driver in heartbeater"), and after the network timeout the
    driver removes them ("Removing executor N with no recent heartbeats: M ms exceeds timeout
    120000 ms"). Every job with a task on those executors loses it ("ExecutorLostFailure ...
    Reason: Executor heartbeat timed out after M ms"): with one task failure allowed, the
    statements of other DAGs running at that moment fail, and so does the skewed job; its retries
    do it again on other executors. The cause is that one job's skew, not the executors, hosts or
    victims. Source: NVIDIA/spark-rapids#2772 and Stratio/spark-rabbitmq#115 ("HeartbeatReceiver:
    Removing executor 6 with no recent heartbeats: 178850 ms exceeds timeout 120000 ms", "Lost
    executor 6 on ...: Executor heartbeat timed out after 178850 ms", "ExecutorLostFailure (executor
    6 exited caused by one of the running tasks) Reason: Executor heartbeat timed out", then
    "java.lang.OutOfMemoryError: GC overhead limit exceeded"), gbif/pipelines#683 ("Issue
    communicating with driver in heartbeater ... RpcTimeoutException: Futures timed out after [10
    seconds]", "lending weight to this being GC in the spark executors themselves"),
    apache/spark#37411 / SPARK-39984 ("When Executor performs full GC, it cannot send any message
    during full GC"), broadinstitute/gatk#4725 (a heartbeat timeout usually means an executor is
    dying, likely out of memory)."""
    v = Night("executor-gc-heartbeat-loss", k)
    p, rng = v.p, v.rng
    hog = rng.choice(v.domains)
    v.domains.remove(hog)
    v.domains.insert(0, hog)  # its run comes first: the losses it causes are known to every other task
    hdom = hog[0]
    hdag, htask = f"{hdom}_daily", f"gold_{hdom}_daily"
    losses = []  # (time, host, executor id, ms without a heartbeat)
    gc = {}  # executor id -> (GC spiral from, removed at)
    ents, tasks, failed_dags, root = [], [], set(), [task_key(hdag, v.rid, htask), f"airflow:dag:{hdag}"]
    warn = lambda h: {"service_name": "spark-executor", "host": h, "level": "warn"}

    def lost_why(eid, ms):
        return f"ExecutorLostFailure (executor {eid} exited caused by one of the running tasks) Reason: Executor heartbeat timed out after {ms} ms"

    def hog_run(path, t, host):
        n, mt = 0, 2
        while True:
            n += 1
            hh = host if n == 1 else p.pick_worker(t)
            gc0 = t + timedelta(seconds=rng.uniform(150, 330))
            picks = []
            for sh in rng.sample(sorted(p.workers), rng.randint(1, 2)):
                for idx in rng.sample(range(4), rng.randint(1, 2)):
                    picks.append((sh, idx))
            first = None
            for sh, idx in picks:
                e = p.exec_by_host[sh][idx]
                eid, ms = e["id"], rng.randint(121_500, 158_000)
                at = gc0 + timedelta(milliseconds=ms + rng.randint(0, 900))
                gc[eid] = (gc0, at, sh)
                hb = gc0 + timedelta(seconds=rng.uniform(9, 11))
                while hb < at:
                    p.log(warn(sh), hb, f"{sparkts(hb)} WARN Executor: Issue communicating with driver in heartbeater\n"
                                        "org.apache.spark.rpc.RpcTimeoutException: Futures timed out after [10000 milliseconds]. "
                                        "This timeout is controlled by spark.executor.heartbeatInterval")
                    hb += timedelta(seconds=rng.uniform(19, 22))
                p.driver_log(at, f"{sparkts(at)} WARN HeartbeatReceiver: Removing executor {eid} with no recent heartbeats: {ms} ms "
                                 "exceeds timeout 120000 ms", "warn")
                p.driver_log(at + timedelta(milliseconds=3), f"{sparkts(at)} ERROR TaskSchedulerImpl: Lost executor {eid} on {sh}: "
                                                             f"Executor heartbeat timed out after {ms} ms", "error")
                p.log({"service_name": "spark-worker", "host": sh, "level": "info"}, at + timedelta(seconds=1.2),
                      f"{sparkts(at)} INFO Worker: Asked to kill executor {p.app_id}/{eid}")
                p.log({"service_name": "spark-worker", "host": sh, "level": "info"}, at + timedelta(seconds=2.5),
                      f"{sparkts(at)} INFO Worker: Executor {p.app_id}/{eid} finished with state KILLED exitStatus 143")
                p.lose_executor(sh, idx, at + timedelta(milliseconds=20), f"Executor heartbeat timed out after {ms} ms",
                                failed_tasks=rng.randint(3, 12), replace_after=rng.uniform(4, 9))
                losses.append((at, sh, eid, ms))
                ents.append(f"spark:executor:{p.app_id}/{eid}")
                first = first or (at, sh, eid, ms)
            at, sh, eid, ms = first
            reason = lambda sid, sh=sh, eid=eid, ms=ms: p.lost_task(sid, sh, eid, lost_why(eid, ms)) + DRIVER_STACK
            end = p.sql_task(hdag, v.rid, htask, f"gold.{hdom}_daily", t, (at - t).total_seconds() - 1.2, hh, n, mt, path, fail=reason)
            job = p.jobs[-1]
            root.append(f"spark:job:{p.app_id}/{job['jobId']}")
            ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
            note(task_key(hdag, v.rid, htask), tasks, ents)
            if n > mt:
                failed_dags.add(hdag)
                return end, False
            t = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))

    def gate(dag, task, table, op, mt):
        def run(path, t, host):
            n = 1
            while True:
                hh = host if n == 1 else p.pick_worker(t)
                dur = rng.uniform(20, 70) if op == CHECK else rng.uniform(60, 420)
                js, je = t + timedelta(seconds=4.2), t + timedelta(seconds=dur)
                hit = next((x for x in losses if js < x[0] < je - timedelta(seconds=2) and rng.random() < 0.8), None)
                if hit is None:
                    return p.sql_task(dag, v.rid, task, table, t, dur, hh, n, mt, path, operator=op), True
                at, sh, eid, ms = hit
                reason = lambda sid, sh=sh, eid=eid, ms=ms: p.lost_task(sid, sh, eid, lost_why(eid, ms)) + DRIVER_STACK
                end = p.sql_task(dag, v.rid, task, table, t, (at - t).total_seconds() - 1.2, hh, n, mt, path, fail=reason, operator=op)
                job = p.jobs[-1]
                ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
                lost = p.stages[-1]["failureReason"].split("most recent failure: ")[1].split("\n")[0]
                p.driver_log(end - timedelta(milliseconds=80), f"{sparkts(end)} WARN TaskSetManager: {lost}", "warn")
                retry = failed_try(v, dag, task, n, mt, end, tasks, ents, failed_dags)
                if retry is None:
                    return end, False
                n, t = n + 1, retry
        return run
    gate_every_task(v, gate)
    v.overrides[hdag][htask] = hog_run
    daily_dags(p, v.domains, v.logical, v.overrides)
    orig = p.sql_task

    def ops_hit(dag_id, rid, task_id, table, t0, dur_s, host, try_number=1, max_tries=2, path="", fail=None, **kw):
        # an ops refresh running on a lost executor fails like any other job, and its retry passes
        js, je = t0 + timedelta(seconds=4.2), t0 + timedelta(seconds=dur_s)
        hit = next((x for x in losses if js < x[0] < je - timedelta(seconds=2)), None) if fail is None and try_number == 1 else None
        if hit is None or dag_id != "ops_maintenance":
            return orig(dag_id, rid, task_id, table, t0, dur_s, host, try_number, max_tries, path, fail, **kw)
        at, sh, eid, ms = hit
        reason = lambda sid: p.lost_task(sid, sh, eid, lost_why(eid, ms)) + DRIVER_STACK
        e = orig(dag_id, rid, task_id, table, t0, (at - t0).total_seconds() - 1.2, host, 1, max_tries, path, reason, **kw)
        job = p.jobs[-1]
        ents.extend([task_key(dag_id, rid, task_id), f"spark:job:{p.app_id}/{job['jobId']}",
                     f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
        return orig(dag_id, rid, task_id, table, e + timedelta(minutes=1), rng.uniform(50, 90), p.pick_worker(e), 2, max_tries, path,
                    **kw)
    p.sql_task = ops_hit
    v.distractors([x[0] for x in losses])
    p.sql_task = orig
    failed_run_entities(v, ents, sorted(failed_dags))
    for e in [x for x in p.executors if x["addTime"] <= ts(p.start)]:
        sh = e["hostPort"].split(":")[0]
        eid = e["id"]
        spiral = gc.get(eid)

        def gc_secs(t, spiral=spiral):
            if spiral and t >= spiral[1]:
                return None
            if spiral and t >= spiral[0] - timedelta(seconds=59):
                return round(rng.uniform(47, 58.5), 2)
            return round(rng.uniform(0.05, 0.9), 3)
        key = v.series({"service.name": "spark-executor", "host.name": sh}, "jvm.gc.duration", "sum", "s",
                       {"spark.executor.id": eid}, gc_secs)
        if spiral:
            ents.append(key)
            ents.append(stream_key(warn(sh)))
    if tasks:
        v.incidents.append({"id": "gc-1", "start": z(min(g[0] for g in gc.values())), "severity": "high", "root_cause_any_of": root,
                            "entities": root + ents})
    v.summary.append(f"{hdag}.{htask}'s skewed join drives {len(gc)} executors into a GC spiral; they are removed for missing "
                     f"heartbeats and {len(tasks)} tasks lose their jobs.")
    return v.build()


# =====================================================================================
# Contention: the broker redelivers long tasks, and the duplicate kills the original
# =====================================================================================
def m_celery_visibility_redelivery(k):
    """The Celery workers are restarted with a broker transport option that lowers the Redis
    visibility_timeout to 30 minutes (to recover faster from lost workers). Airflow acknowledges a
    task message only when the task ends (task_acks_late), so the message of every task running
    longer than that is restored by the broker and delivered again to another worker. On Airflow 3
    the duplicate fails at once (its workload token has expired), the executor reports the task
    instance failed while it is running, the scheduler fails it, and the original's next heartbeat
    is refused: the long tasks of several DAGs die about 30 minutes after they were queued, and
    their retries die the same way. Source: celery/celery#5935 ("Long running jobs redelivering
    after broker visibility timeout with celery and redis"), learningequality/studio#3395
    ("Tasks are duplicated when they remain unstarted for an hour": task-received events for the
    same task id an hour apart), arvkevi/openhumansimputer#38 (long tasks "trip the default
    visibility_timeout and are automatically resubmitted"), mozilla/telemetry-airflow#251 (the
    trade-off: a higher visibility timeout slows recovery from a failed worker),
    apache/airflow#62869 (tasks running longer than the visibility timeout "are terminated by the
    broker redelivering the message to another worker, which fails with
    ServerResponseError('Invalid auth token: Signature has expired')"), apache/airflow#10790
    ("Executor reports task instance ... finished (failed) although the task says it's queued"),
    apache/airflow#48719 (a heartbeat refused with 409, "TI is no longer in the running state and
    task should terminate", "Server indicated the task shouldn't be running anymore"), Celery's
    worker banner and "Task ... received" lines."""
    v = Night("celery-visibility-redelivery", k)
    p, rng = v.p, v.rng
    vt = 1800
    broker = f"airflow-broker-{rng.choice(['001', '002'])}.{hexid(rng, 6)}.0001.euw1.cache.amazonaws.com"
    ev = {"service_name": "kubernetes-events", "namespace": "airflow", "level": "info"}
    order = list(p.airflow_workers)
    rng.shuffle(order)
    t = p.start + timedelta(minutes=rng.uniform(1, 4))
    for w in order:
        p.log(ev, t, f"StatefulSet airflow/airflow-worker: Killing: Stopping container worker (pod {w})")
        p.aw_log(w, t + timedelta(seconds=0.3), f"{wlog(t)} [warning  ] worker: Warm shutdown (MainProcess) [celery.apps.worker]")
        up = t + timedelta(seconds=rng.uniform(25, 50))
        p.log(ev, up - timedelta(seconds=1), f"Pod airflow/{w}: Started: Started container worker")
        p.aw_log(w, up, f" \n -------------- celery@{w} v5.5.3 (immunity)\n--- ***** ----- \n-- ******* ---- "
                        f"Linux-6.1.102-111.182.amzn2023.x86_64-x86_64-with-glibc2.36 {up.strftime('%Y-%m-%d %H:%M:%S')}\n"
                        "- *** --- * --- \n- ** ---------- [config]\n"
                        f"- ** ---------- .> app:         airflow.providers.celery.executors.celery_executor:0x7f{hexid(rng, 10)}\n"
                        f"- ** ---------- .> transport:   redis://:**@{broker}:6379/0\n"
                        "- ** ---------- .> results:     postgresql://airflow:**@airflow-metadb:5432/airflow\n"
                        "- *** --- * --- .> concurrency: 16 (prefork)\n"
                        "-- ******* ---- .> task events: OFF (enable -E to monitor tasks in this worker)\n"
                        "--- ***** ----- \n -------------- [queues]\n                .> default          exchange=default(direct) key=default")
        p.aw_log(w, up + timedelta(seconds=2), f"{wlog(up)} [info     ] celery@{w} ready. [celery.apps.worker]")
        t = up + timedelta(seconds=rng.uniform(20, 60))
    ents, tasks, dags, redeliveries = [f"host:{broker}", stream_key(ev)], [], [], []

    def wid_of(host, dag, task, rid, n):
        for e in reversed(p.streams[tuple(sorted({"service_name": "airflow-worker", "host": host, "level": "info"}.items()))]):
            if f"ti=TaskInstance(task_id='{task}', dag_id='{dag}', run_id='{rid}', try_number={n}," in e[1]:
                return e[1].split("] [")[1].split("]")[0]
        raise ValueError("no Celery receipt")
    for dom, _ in rng.sample(v.domains, rng.randint(3, 5)):
        dag, task = f"{dom}_scd2_rebuild", f"rebuild_{dom}_scd2"
        path = f"snapshots/{dag}.py"
        lg = v.at("02:%02d" % rng.choice([0, 5, 10]))
        p.dag(dag, f"{lg.minute} 2 * * *", ["snapshot", dom], "data-eng", path)
        rid = run_id(lg)
        q = lg + timedelta(seconds=rng.uniform(0.5, 2))
        stmt = (f"MERGE INTO lakehouse.gold.{dom}_scd2 t USING (SELECT * FROM lakehouse.silver.{dom} WHERE updated_at >= "
                f"'{(v.logical - timedelta(days=1)).strftime('%Y-%m-%d')}') s ON t.id = s.id AND t.is_current WHEN MATCHED AND "
                "t.row_hash <> s.row_hash THEN UPDATE SET is_current = false, valid_to = s.updated_at WHEN NOT MATCHED THEN INSERT *")
        t, n, mt, ok, end = q, 0, 1, False, None
        while n <= mt:
            n += 1
            h = p.pick_worker(t)
            st = t + timedelta(seconds=rng.uniform(0.8, 2.5))
            dur = rng.uniform(2400, 4200)
            again = t + timedelta(seconds=vt + rng.uniform(5, 60))  # the broker restores the unacknowledged message
            if st + timedelta(seconds=dur) < again:
                end = p.sql_task(dag, rid, task, f"gold.{dom}_scd2", t, dur, h, n, mt, path)
                ok = True
                break
            lines = p.spark_task_logs(dag, task, rid, st, [(stmt, None)], path)
            if again + timedelta(seconds=10) > p.end:  # still running when the night's data ends
                p.spark_job(dag, task, rid, st + timedelta(seconds=2.6), p.end + timedelta(hours=1), nstages=2)
                p.jobs[-1]["completionTime"] = p.stages[-1]["completionTime"] = ts(p.end + timedelta(hours=1))
                p.ti(dag, rid, task, n, mt, t, st, None, "running", h, SQL, log=lines)
                break
            other = rng.choice([x for x in p.airflow_workers if x != h])
            end = again + timedelta(seconds=rng.uniform(6, 11))  # the original's next heartbeat is refused
            state = "up_for_retry" if n <= mt else "failed"
            lines.append(f"[{afts(end)}] {{supervisor.py:1185}} ERROR - Server indicated the task shouldn't be running anymore "
                         f"detail={{'detail': {{'reason': 'not_running', 'message': 'TI is no longer in the running state and task should "
                         f"terminate', 'current_state': '{state}'}}}} status_code=409")
            job, _ = p.spark_job(dag, task, rid, st + timedelta(seconds=2.6), end + timedelta(seconds=0.5), "FAILED", lambda sid: "",
                                 nstages=2)
            cancel(p, job)
            p.ti(dag, rid, task, n, mt, t, st, end, state, h, SQL, log=lines)
            wid = wid_of(h, dag, task, rid, n)
            p.aw_log(other, again, f"{wlog(again)} [info     ] Task execute_workload[{wid}] received [celery.worker.strategy]")
            p.aw_log(other, again + timedelta(seconds=0.6),
                     f"{wlog(again + timedelta(seconds=0.6))} [info     ] [{wid}] Executing workload in Celery: ti=TaskInstance(task_id='{task}', "
                     f"dag_id='{dag}', run_id='{rid}', try_number={n}, map_index=-1, pool_slots=1, queue='default') "
                     f"log_path='dag_id={dag}/run_id={rid}/task_id={task}/attempt={n}.log' type='ExecuteTask' "
                     "[airflow.providers.celery.executors.celery_executor_utils]")
            bad = again + timedelta(seconds=rng.uniform(1.2, 2.5))
            p.aw_log(other, bad, f"{wlog(bad)} [error    ] Task execute_workload[{wid}] raised unexpected: ServerResponseError('Invalid "
                                 "auth token: Signature has expired') [celery.app.trace]", "error")
            sched_error(p, bad + timedelta(seconds=rng.uniform(1, 3)), "scheduler_job_runner.py:864",
                        f"Executor CeleryExecutor(parallelism=32) reported that the task instance {ti_repr(dag, rid, task, 'running')} "
                        "finished with state failed, but the task instance's state attribute is running. Learn more: "
                        "https://airflow.apache.org/docs/apache-airflow/stable/troubleshooting.html#task-state-changed-externally")
            redeliveries.append(again)
            ents.extend([task_key(dag, rid, task), f"spark:job:{p.app_id}/{job['jobId']}",
                         stream_key({"service_name": "airflow-worker", "host": other, "level": "error"})])
            if task_key(dag, rid, task) not in tasks:
                tasks.append(task_key(dag, rid, task))
            t = end + timedelta(minutes=5, seconds=rng.uniform(0, 3))
        if ok:
            e2 = p.py_task(dag, rid, f"publish_{dom}_scd2", end + timedelta(seconds=2), rng.uniform(5, 20), p.pick_worker(end), 1, 1, None,
                           path, ok_lines=[("publish.py:40", f"Published gold.{dom}_scd2 snapshot")])
            p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, e2 + timedelta(seconds=1), "success")
        elif end is not None and n > mt and p.tis[-1]["state"] == "failed":
            p.skipped(dag, rid, f"publish_{dom}_scd2", end + timedelta(seconds=1), 1, "PythonOperator")
            p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, end + timedelta(seconds=2), "failed")
            ents.extend([task_key(dag, rid, f"publish_{dom}_scd2"), f"airflow:dagrun:{dag}/{rid}"])
        else:
            p.run(dag, rid, lg, q - timedelta(seconds=0.3), q, None, "running")
        if task_key(dag, rid, task) in tasks:
            ents.append(f"airflow:dag:{dag}")
            dags.append(dag)
    v.distractors([min(redeliveries, default=p.end)] + redeliveries)
    daily_dags(p, v.domains, v.logical, v.overrides)
    if tasks:
        v.incidents.append({"id": "redelivery-1", "start": z(min(redeliveries)), "severity": "high",
                            "root_cause_any_of": [f"host:{broker}", stream_key(ev)], "entities": ents})
    v.summary.append(f"Workers restarted with a 30-minute broker visibility timeout; the long tasks of {len(dags)} DAGs are "
                     "redelivered and killed by their duplicates.")
    return v.build()


# =====================================================================================
# Contention for an external quota: a backfill eats a SaaS org's daily API requests
# =====================================================================================
def m_saas_api_quota_exhausted(k):
    """An engineer starts a backfill that re-extracts months of CRM history from the company's
    Salesforce org, page by page, an hour before the nightly batch. The org's API request
    allocation is a rolling 24-hour total shared by every integration: the backfill spends what is
    left, and from then on the org refuses every API call of every client with HTTP 403
    "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded." until the window rolls over. The
    backfill fails, and so do the nightly extracts of every DAG loading from that org, on every
    retry; the org's own limits endpoint shows the remaining requests falling to zero. The cause
    is the backfill's consumption of a shared quota. Source: SalesforceLabs/OrgCheck#181
    ("REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded." when the org reached its API request
    limit), django-salesforce/django-salesforce#317 (one bug "ended up with a REQUEST_LIMIT_EXCEEDED
    for today"; the Sforce-Limit-Info "api-usage" header), airbytehq/airbyte#30950 (a rolling
    24-hour window shared with every other client of the org), jetstreamapp/jetstream#868
    ("TotalRequests Limit exceeded."), singer-io/tap-salesforce#221 (REQUEST_LIMIT_EXCEEDED is
    an HTTP 403), simple-salesforce's SalesforceRefusedRequest ("(403) Request refused for ...
    Response content: ...")."""
    v = Night("saas-api-quota-exhausted", k)
    p, rng = v.p, v.rng
    src = "crm"
    doms = [d for d, s_ in v.domains if s_ == src]
    if len(doms) < 3:  # the night's CRM-sourced domains: those the CRM feeds, and a few more moved to it
        doms += [d for d, _ in rng.sample([x for x in v.domains if x[1] != src], 3 - len(doms))]
    v.domains = [(d, src if d in doms else s_) for d, s_ in v.domains]
    org = f"{p.company}.my.salesforce.com"
    objects = {d: rng.choice(["Account", "Lead", "Case", "Opportunity", "Contact", "Order__c"]) for d in doms}
    bdag, btask = f"{src}_history_backfill", f"extract_{src}_history"
    bpath = f"backfills/{bdag}.py"
    p.dag(bdag, None, ["backfill", src], "data-eng", bpath)
    began = p.start - timedelta(minutes=rng.randint(50, 80), seconds=rng.randint(0, 59))
    brid = f"manual__{began.strftime('%Y-%m-%dT%H:%M:%S')}.{rng.randint(100000, 999999)}+00:00"
    limit = rng.choice([1_000_000, 1_500_000, 2_000_000])
    w0 = v.at("02:%02d:%02d" % (rng.randint(1, 4), rng.randint(0, 59)))
    left0 = int(limit * rng.uniform(0.08, 0.14))
    res = {"service.name": "salesforce-limits-exporter", "salesforce.org": org}

    def remaining(t):
        if t >= w0:
            return 0
        return max(0, int(left0 * (w0 - t) / (w0 - p.start) + rng.uniform(-800, 800)))
    left = v.series(res, "salesforce.org.limit.remaining", "gauge", "{request}", {"limit": "DailyApiRequests"}, remaining)
    obj = rng.choice(["Opportunity", "Task", "EmailMessage", "OpportunityHistory"])

    def refused(path_):
        return (AIRFLOW_TB
                + f'  File "/opt/airflow/plugins/lakehouse/operators/{path_}", line 71, in execute\n'
                  "    records = sf.query_all(self.soql)\n"
                  '  File "/home/airflow/.local/lib/python3.12/site-packages/simple_salesforce/api.py", line 611, in query_all\n'
                  "    return self._query_all(query, include_deleted=include_deleted, **kwargs)\n"
                  '  File "/home/airflow/.local/lib/python3.12/site-packages/simple_salesforce/util.py", line 76, in exception_handler\n'
                  "    raise exc_cls(result.url, result.status_code, name, response_content)\n"
                  "simple_salesforce.exceptions.SalesforceRefusedRequest: (403) Request refused for /services/data/v61.0/queryAll/. "
                  "Response content: [{'message': 'TotalRequests Limit exceeded.', 'errorCode': 'REQUEST_LIMIT_EXCEEDED'}]")
    # the backfill: a page every few seconds, logged every two minutes, until the org refuses it
    bq = began + timedelta(seconds=rng.uniform(0.5, 2))
    bst = bq + timedelta(seconds=rng.uniform(0.8, 2))
    blog = [f"[{afts(bst + timedelta(milliseconds=300))}] {{dagbag.py:588}} INFO - Filling up the DagBag from /opt/airflow/dags/{bpath}",
            f"[{afts(bst + timedelta(seconds=1))}] {{base.py:84}} INFO - Retrieving connection 'salesforce_{src}'",
            f"[{afts(bst + timedelta(seconds=2))}] {{history.py:44}} INFO - Backfilling {obj} from {(v.logical - timedelta(days=180)).strftime('%Y-%m-%d')} "
            f"to {(v.logical - timedelta(days=1)).strftime('%Y-%m-%d')} from https://{org}"]
    t, day = bst + timedelta(seconds=30), v.logical - timedelta(days=180)
    while t < w0:
        used = limit - (left0 * (w0 - t) / (w0 - p.start) if t >= p.start else left0 + (p.start - t).total_seconds() * 40)
        blog.append(f"[{afts(t)}] {{history.py:61}} INFO - Fetched {rng.randint(38, 60) * 2000} {obj} records modified on "
                    f"{day.strftime('%Y-%m-%d')} (Sforce-Limit-Info: api-usage={int(used)}/{limit})")
        t += timedelta(seconds=120 + rng.uniform(-3, 3))
        day += timedelta(days=1)
    bend = w0 + timedelta(seconds=rng.uniform(0.3, 1.5))
    blog.append(f"[{afts(bend)}] {{task_runner.py:1084}} ERROR - " + refused("salesforce_history.py"))
    p.ti(bdag, brid, btask, 1, 0, bq, bst, bend, "failed", p.pick_worker(bq), "PythonOperator", pool="default_pool", log=blog)
    p.skipped(bdag, brid, f"merge_{src}_history", bend + timedelta(seconds=1), 0, "SparkConnectSqlOperator")
    p.run(bdag, brid, began, bq - timedelta(seconds=0.3), bq, bend + timedelta(seconds=2), "failed", run_type="manual")
    bkey = task_key(bdag, brid, btask)
    ents = [bkey, f"airflow:dag:{bdag}", left, f"airflow:dagrun:{bdag}/{brid}", task_key(bdag, brid, f"merge_{src}_history")]
    tasks, failed_dags = [], set()
    for dom in doms:
        dag, task = f"{dom}_daily", f"bronze_{dom}_{src}"

        def extract(path, t, host, dag=dag, task=task, dom=dom):
            mt = 2
            for n in range(1, mt + 2):
                h = host if n == 1 else p.pick_worker(t)
                st = t + timedelta(seconds=rng.uniform(0.8, 2.5))
                dur = rng.uniform(240, 720)  # a bulk query of the day's changes
                ok_lines = [("base.py:84", f"Retrieving connection 'salesforce_{src}'"),
                            ("salesforce_to_s3.py:58", f"Querying https://{org}/services/data/v61.0/queryAll/ for {objects[dom]} "
                                                       f"modified since {(v.logical - timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}")]
                if st + timedelta(seconds=dur) < w0:
                    e = p.py_task(dag, v.rid, task, t, dur, h, n, mt, None, path, ok_lines=ok_lines + [
                        ("salesforce_to_s3.py:80", f"Wrote {rng.randint(3_000, 90_000)} {objects[dom]} records to s3://{p.landing}/{src}/{dom}/")])
                    p.tis[-1]["operator"] = "SalesforceToS3Operator"
                    return e, True
                fail = max(st + timedelta(seconds=rng.uniform(2, 4)), w0 + timedelta(seconds=rng.uniform(0.5, 20)))
                e = p.py_task(dag, v.rid, task, t, (fail - st).total_seconds(), h, n, mt, refused("salesforce_to_s3.py"), path,
                              ok_lines=ok_lines)
                p.tis[-1]["operator"] = "SalesforceToS3Operator"
                note(task_key(dag, v.rid, task), tasks, ents)
                if n > mt:
                    failed_dags.add(dag)
                    return e, False
                t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
        v.overrides[dag] = {task: extract}
    v.distractors([w0, w0 + timedelta(minutes=15)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    failed_run_entities(v, ents, sorted(failed_dags))
    v.incidents.append({"id": "quota-1", "start": z(w0), "severity": "high", "root_cause_any_of": [bkey, f"airflow:dag:{bdag}", left],
                        "entities": ents})
    v.summary.append(f"A backfill of {src} history spends the Salesforce org {org}'s API allocation at {z(w0)}; the org refuses "
                     f"every call and {len(tasks)} nightly extracts fail.")
    return v.build()


# =====================================================================================
# Absence: the telemetry gateway refuses data, and the hosts' series go silent
# =====================================================================================
def m_otel_collector_refusing(k):
    """Every host and service exports its metrics to one OpenTelemetry Collector gateway. During the
    nightly batch the gateway's memory passes the memory_limiter's soft limit and it starts
    refusing data ("Memory usage is above soft limit. Refusing data."); the senders' retries are
    refused too, their queues overflow and the points are lost, so the series of the Spark workers,
    the Airflow workers, the scheduler and the Spark Connect driver go silent (no values, no
    errors) for most of half an hour, until the gateway's memory is back within limits. Nothing
    fails; the platform is unobserved. The gateway's own log and its self-telemetry (scraped
    separately) are the cause's evidence. Source: open-telemetry/opentelemetry-collector#9043
    ("[processor/memorylimiter] Memory usage is above soft limit. Refusing data": "When the memory
    usage exceeds the soft limit the processor will ... start refusing the data"),
    open-telemetry/opentelemetry-helm-charts#595 (the collector's "Memory usage is above hard limit.
    Forcing a GC." / "Memory usage back within limits. Resuming normal operation." lines),
    open-telemetry/opentelemetry-collector#9636 (the OTLP receiver answering senders with errors
    while the soft limit is reached), open-telemetry/opentelemetry-collector#2250 (soft and hard
    limits), odigos-io/odigos#1827 (data dropped at the soft limit)."""
    v = Night("otel-collector-refusing", k)
    p, rng = v.p, v.rng
    gw = "otel-gateway-0"
    w0 = v.at("02:%02d:%02d" % (rng.randint(4, 12), rng.randint(0, 59)))
    w1 = w0 + timedelta(minutes=rng.randint(18, 30), seconds=rng.randint(0, 59))
    limit_mib = rng.choice([1600, 2048, 3072])
    soft = int(limit_mib * 0.8)
    warn = {"service_name": "otel-collector", "host": gw, "level": "warn"}
    info = {"service_name": "otel-collector", "host": gw, "level": "info"}

    def clog(labels, t, level, where, text, mem):
        p.log(labels, t, f"{t.strftime('%Y-%m-%dT%H:%M:%S.')}{t.microsecond // 1000:03d}Z\t{level}\tmemorylimiter/memorylimiter.go:{where}\t"
                         f'{text}\t{{"kind": "processor", "name": "memory_limiter", "pipeline": "metrics", "cur_mem_mib": {mem}}}')
    t = w0
    clog(warn, t, "warn", 205, "Memory usage is above soft limit. Refusing data.", soft + rng.randint(5, 60))
    while t < w1:
        t += timedelta(seconds=rng.uniform(4, 12))
        if t >= w1:
            break
        if rng.random() < 0.35:
            clog(warn, t, "warn", 180, "Memory usage is above hard limit. Forcing a GC.", limit_mib + rng.randint(1, 90))
            clog(info, t + timedelta(milliseconds=rng.randint(80, 400)), "info", 170, "Memory usage after GC.",
                 soft + rng.randint(10, 120))
        else:
            clog(warn, t, "warn", 205, "Memory usage is above soft limit. Refusing data.", soft + rng.randint(5, limit_mib - soft))
    clog(info, w1, "info", 215, "Memory usage back within limits. Resuming normal operation.", soft - rng.randint(40, 300))
    res = {"service.name": "otel-collector", "host.name": gw}
    refused = v.series(res, "otelcol_processor_refused_metric_points", "sum", "{datapoint}", {"processor": "memory_limiter"},
                       lambda t: rng.randint(40_000, 160_000) if w0 - timedelta(seconds=59) <= t < w1 else 0)
    rss = v.series(res, "otelcol_process_memory_rss", "gauge", "By", {},
                   lambda t: int((soft + rng.uniform(20, limit_mib - soft) if w0 - timedelta(seconds=59) <= t < w1 else
                                  soft * (0.55 + 0.4 * max(0.0, min(1.0, 1 - (w0 - t).total_seconds() / 900))) + rng.uniform(-20, 20))
                                 * 1048576))
    ents = [stream_key(warn), stream_key(info), refused, rss, f"host:{gw}"]
    silent = ("spark-worker", "airflow-worker", "airflow-scheduler", "spark-connect")

    def refuse(sc):
        quiet = set(sc["truth"]["quiet"])
        gone = []
        for m in sc["metrics"]:
            if m["resource"].get("service.name") not in silent:
                continue
            for i in range(len(m["values"])):
                at = p.start + timedelta(minutes=i)
                if w0 - timedelta(seconds=30) <= at < w1 and rng.random() < 0.92:
                    m["values"][i] = None
            key = metric_key(m["name"], {**m["resource"], **m["attributes"]})
            if key not in quiet:
                gone.append(key)
        sc["truth"]["incidents"][0]["entities"].extend(gone)
    v.post.append(refuse)
    v.distractors([w0, w1])
    daily_dags(p, v.domains, v.logical, v.overrides)
    if not v.quiet:
        quiet_retry(v, v.at("02:%02d" % rng.choice([50, 55])))
    v.incidents.append({"id": "telemetry-1", "start": z(w0), "severity": "high",
                        "root_cause_any_of": [stream_key(warn), refused, rss, f"host:{gw}"], "entities": ents})
    v.summary.append(f"The OpenTelemetry gateway {gw} refuses metrics from {z(w0)} to {z(w1)}: the hosts' series go silent, "
                     "nothing fails.")
    return v.build()


# =====================================================================================
# A job's own behaviour over months: a catalog's per-table version limit
# =====================================================================================
def m_glue_table_version_limit(k):
    """A streaming DAG appends to an Iceberg table every five minutes through the Glue catalog,
    with an Iceberg runtime that archives the previous Glue table version on every commit
    (glue.skip-archive false). After about a year of commits the table reaches Glue's hard limit of
    100,000 versions per table: from that commit on, every UpdateTable of that table fails
    ("ResourceNumberLimitExceededException: Number of TABLE_VERSION resources exceeds the limit
    100000 per TABLE"). Every run of the streaming DAG now fails on its commit (its Spark job
    succeeds, the commit on the driver does not), and so do the other writers of that table that
    night: a late-arrivals merge and the maintenance rewrite. Readers are unaffected. The cause is
    that writer's commit history against the catalog's per-table limit. Source:
    apache/iceberg#5965 ("Iceberg with Glue Catalog updates glue table version on every commit, but
    there's a maximum of 100,000 versions"), apache/iceberg#6916 ("every glue commit will archive
    older versions of table, which quickly hits the Glue limit (a max of 100k versions gets
    maintained) for streaming use cases"), aws/aws-sdk-pandas#342 ("ResourceNumberLimitExceededException)
    when calling the UpdateTable operation: Number of TABLE_VERSION resources exceeds the limit
    100000 per TABLE"), dbt-labs/dbt-athena#267 (the same limit reached through Iceberg commits),
    trinodb/trino#23817 (glue skip-archive "to avoid reaching the limit of table versions"),
    Spark's "Data source write support ... is aborting." / "... aborted."."""
    v = Night("glue-table-version-limit", k)
    p, rng = v.p, v.rng
    edom = rng.choice(["web_events", "iot_readings", "payment_events", "delivery_scans", "ad_impressions"])
    wdag, wtask, table = f"{edom}_microbatch", f"append_{edom}", f"silver.{edom}"
    wpath = f"streaming/{wdag}.py"
    p.dag(wdag, "*/5 * * * *", ["silver", "streaming"], "platform", wpath)
    before = rng.randint(2, 4)  # commits that still fit
    version = 100_000 - before
    lg = p.start.replace(minute=(p.start.minute // 5) * 5, second=0, microsecond=0) + timedelta(minutes=5)
    free, seq = p.start, rng.randint(90_000, 99_000)
    ents, tasks, root, first = [f"airflow:dag:{wdag}"], [], [f"airflow:dag:{wdag}"], None

    def glue_error():
        return (PYSPARK_TB + "pyspark.errors.exceptions.connect.SparkConnectGrpcException: "
                "(software.amazon.awssdk.services.glue.model.ResourceNumberLimitExceededException) Number of TABLE_VERSION resources "
                f"exceeds the limit 100000 per TABLE (Service: Glue, Status Code: 400, Request ID: {uuid.UUID(int=rng.getrandbits(128))})")

    def failed_commit(dag, rid, task, tbl, t, dur, n, mt, path, op=SQL):
        """One try whose Spark job succeeds and whose commit to `tbl` is refused by Glue."""
        end = p.sql_task(dag, rid, task, tbl, t, dur, p.pick_worker(t), n, mt, path, state="up_for_retry" if n <= mt else "failed",
                         operator=op)
        row = p.tis[-1]
        row["log"] = [x for x in row["log"] if "finished in" not in x]
        row["log"].append(f"[{afts(end - timedelta(milliseconds=40))}] {{task_runner.py:1084}} ERROR - {glue_error()}")
        p.driver_log(end - timedelta(seconds=0.3), f"{sparkts(end)} ERROR AppendDataExec: Data source write support "
                                                   f"IcebergBatchWrite(table=glue_catalog.{table}, format=PARQUET) is aborting.", "error")
        p.driver_log(end - timedelta(seconds=0.2), f"{sparkts(end)} ERROR AppendDataExec: Data source write support "
                                                   f"IcebergBatchWrite(table=glue_catalog.{table}, format=PARQUET) aborted.", "error")
        return end
    while lg <= p.end:
        rid = run_id(lg)
        q = max(lg + timedelta(seconds=rng.uniform(0.5, 2)), free)
        if q + timedelta(seconds=200) > p.end:
            break
        if version < 100_000:
            dur = rng.uniform(40, 80)
            e = p.sql_task(wdag, rid, wtask, table, q, dur, p.pick_worker(q), 1, 1, wpath)
            version += 1
            seq += 1
            at = e - timedelta(seconds=0.6)
            p.driver_log(at, f"{sparkts(at)} INFO LoggingMetricsReporter: Received metrics report: CommitReport{{tableName=glue_catalog.{table}, "
                             f"snapshotId={rng.getrandbits(62)}, sequenceNumber={seq}, operation=append, commitMetrics=CommitMetricsResult{{"
                             f"totalDuration=TimerResult{{timeUnit=NANOSECONDS, totalDuration=PT{rng.uniform(0.8, 2.2):.3f}S, count=1}}, "
                             f"attempts=CounterResult{{unit=COUNT, value=1}}, addedDataFiles=CounterResult{{unit=COUNT, value={rng.randint(4, 24)}}}}}, "
                             "metadata={engine-version=3.5.4, iceberg-version=Apache Iceberg 1.1.0}}")
            p.run(wdag, rid, lg, q, q, e + timedelta(seconds=1), "success")
            free = e + timedelta(seconds=1)
        else:
            t = q
            for n in (1, 2):
                e = failed_commit(wdag, rid, wtask, table, t, rng.uniform(40, 80), n, 1, wpath)
                key = task_key(wdag, rid, wtask)
                if first is None:
                    first = e - timedelta(seconds=0.3)
                    root.append(key)
                note(key, tasks, ents)
                t = e + timedelta(minutes=1, seconds=rng.uniform(0, 2))
            p.run(wdag, rid, lg, q, q, e + timedelta(seconds=1), "failed")
            ents.append(f"airflow:dagrun:{wdag}/{rid}")
            free = e + timedelta(seconds=1)
        lg += timedelta(minutes=5)
    # the other writers of the table tonight: a late-arrivals merge and the maintenance rewrite
    ldag, ltask = f"{edom}_late_arrivals", f"merge_late_{edom}"
    lpath = f"streaming/{ldag}.py"
    p.dag(ldag, "20 2 * * *", ["silver", "late-data"], "platform", lpath)
    llg = v.at("02:20")
    lrid = run_id(llg)
    lq = llg + timedelta(seconds=rng.uniform(0.5, 2))
    t = lq
    for n in (1, 2, 3):
        e = failed_commit(ldag, lrid, ltask, f"{table}_late", t, rng.uniform(90, 200), n, 2, lpath)
        note(task_key(ldag, lrid, ltask), tasks, ents)
        t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
    p.run(ldag, lrid, llg, lq - timedelta(seconds=0.3), lq, e + timedelta(seconds=2), "failed")
    ents.extend([f"airflow:dagrun:{ldag}/{lrid}", f"airflow:dag:{ldag}"])
    mdag, mpath = "lakehouse_maintenance", "ops/lakehouse_maintenance.py"
    p.dag(mdag, "30 2 * * *", ["ops", "maintenance"], "platform", mpath)
    mlg = v.at("02:30")
    mrid = run_id(mlg)
    mq = mlg + timedelta(seconds=rng.uniform(0.5, 2))
    other = rng.choice([d for d, _ in v.domains])
    e1 = p.sql_task(mdag, mrid, f"rewrite_{other}_files", f"silver.{other}", mq, rng.uniform(120, 300), p.pick_worker(mq), 1, 1, mpath)
    t = e1 + timedelta(seconds=1)
    for n in (1, 2):
        e = failed_commit(mdag, mrid, f"rewrite_{edom}_files", table, t, rng.uniform(200, 400), n, 1, mpath)
        note(task_key(mdag, mrid, f"rewrite_{edom}_files"), tasks, ents)
        t = e + timedelta(minutes=5, seconds=rng.uniform(0, 3))
    if e + timedelta(seconds=2) <= p.end:
        p.run(mdag, mrid, mlg, mq - timedelta(seconds=0.3), mq, e + timedelta(seconds=2), "failed")
        ents.extend([f"airflow:dagrun:{mdag}/{mrid}", f"airflow:dag:{mdag}"])
    v.distractors([first + timedelta(minutes=10 * i) for i in range(12)])
    daily_dags(p, v.domains, v.logical, v.overrides)
    quiet_retry(v, v.at("02:%02d" % rng.choice([25, 40, 45])))
    v.incidents.append({"id": "versions-1", "start": z(first - timedelta(seconds=5)), "severity": "high", "root_cause_any_of": root,
                        "entities": ents})
    v.summary.append(f"{wdag}'s commits to {table} reach Glue's 100,000 table versions at {z(first)}; every writer of the table "
                     f"fails its commit ({len(tasks)} tasks).")
    return v.build()


MODES = {
    "airflow-triggerer-down": m_airflow_triggerer_down,
    "secrets-backend-throttled": m_secrets_backend_throttled,
    "spark-fifo-starvation": m_spark_fifo_starvation,
    "executor-gc-heartbeat-loss": m_executor_gc_heartbeat_loss,
    "celery-visibility-redelivery": m_celery_visibility_redelivery,
    "saas-api-quota-exhausted": m_saas_api_quota_exhausted,
    "otel-collector-refusing": m_otel_collector_refusing,
    "glue-table-version-limit": m_glue_table_version_limit,
}


if __name__ == "__main__":
    held_out_main(__doc__, MODES)
