#!/usr/bin/env python3
"""Generates Guardian's own test scenarios (guardian-scenario/1, ../../../shared/scenarios/FORMAT.md).

  python3 test/scenarios/generate.py          # writes test/scenarios/*.json

Failure modes other than the open scenarios': an executor OOM, S3 throttling beside an Iceberg
commit conflict, a lost Celery worker beside an ingestion that silently delivers nothing, and a
spot interruption mixed with an unrelated SQL error in a manual run. Deterministic (seeded).
"""
import json
import os
import random
import uuid
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = timezone.utc
CONNECT = "sc://spark-connect.internal:15002"


def ts(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def afts(t):  # Airflow task-log stamp
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def sparkts(t):  # log4j stamp of Spark daemons
    return t.strftime("%y/%m/%d %H:%M:%S")


def run_id(t):
    return "scheduled__" + t.strftime("%Y-%m-%dT%H:%M:%S") + "+00:00"


def task_key(dag, run, task):
    return f"airflow:task:{dag}/{run}/{task}"


def metric_key(name, attrs):
    return "metric:" + name + "{" + ",".join(f'{k}="{attrs[k]}"' for k in sorted(attrs)) + "}"


PYSPARK_TB = (
    "Task failed with exception\nTraceback (most recent call last):\n"
    '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/task_runner.py", line 920, in run\n'
    "    result = _execute_task(context=context, ti=ti, log=log)\n"
    '  File "/home/airflow/.local/lib/python3.12/site-packages/airflow/sdk/execution_time/task_runner.py", line 1227, in _execute_task\n'
    "    result = ctx.run(execute, context=context)\n"
    '  File "/opt/airflow/plugins/lakehouse/operators/spark_sql.py", line 84, in execute\n'
    "    self._run(spark, statement)\n"
    '  File "/opt/airflow/plugins/lakehouse/operators/spark_sql.py", line 117, in _run\n'
    "    spark.sql(statement).collect()\n"
    '  File "/home/airflow/.local/lib/python3.12/site-packages/pyspark/sql/connect/dataframe.py", line 1790, in collect\n'
    "    table, schema = self._to_table()\n"
    '  File "/home/airflow/.local/lib/python3.12/site-packages/pyspark/sql/connect/client/core.py", line 1326, in to_table\n'
    "    table, schema, metrics, observed_metrics, _ = self._execute_and_fetch(req, observations)\n"
    '  File "/home/airflow/.local/lib/python3.12/site-packages/pyspark/sql/connect/client/core.py", line 1965, in _handle_error\n'
    "    self._handle_rpc_error(error)\n"
    '  File "/home/airflow/.local/lib/python3.12/site-packages/pyspark/sql/connect/client/core.py", line 2047, in _handle_rpc_error\n'
    "    raise convert_exception(\n"
)
DRIVER_STACK = (
    "\nDriver stacktrace:\n"
    "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2935)\n"
    "\tat org.apache.spark.scheduler.DAGScheduler.$anonfun$abortStage$2(DAGScheduler.scala:2871)\n"
    "\tat org.apache.spark.scheduler.DAGScheduler.abortStage(DAGScheduler.scala:2870)"
)


class Platform:
    """A small Airflow 3 + Spark Connect + Iceberg platform, simulated over [start, end]."""

    def __init__(self, name, summary, start, end, seed, company, spark_hosts, airflow_workers, lambdas):
        self.rng = random.Random(seed)
        self.name, self.summary = name, summary
        self.start, self.end = start, end
        self.company = company
        self.lake = f"{company}-lakehouse-prod"
        self.landing = f"{company}-landing-prod"
        boot = start - timedelta(days=2, hours=7, minutes=13, seconds=21)
        self.app_id = "app-" + boot.strftime("%Y%m%d%H%M%S") + "-0001"
        self.app_start = boot
        self.driver_host = "10.0.1.12"
        self.master = {"url": "spark://10.0.1.10:7077", "rest": "http://10.0.1.10:8080", "workers": []}
        self.workers = {}
        self.executors = []
        self.exec_by_host = {}
        next_exec = 1
        for i, h in enumerate(spark_hosts):
            wt = boot - timedelta(hours=3 + i * 5, minutes=i * 7)
            wid = f"worker-{wt.strftime('%Y%m%d%H%M%S')}-{h}-7078"
            w = {"id": wid, "host": h, "port": 7078, "cores": 16, "memory": 65536,
                 "states": [[ts(wt).replace(".000Z", "Z"), "ALIVE"]]}
            self.master["workers"].append(w)
            self.workers[h] = w
            self.exec_by_host[h] = []
            for _ in range(4):
                e = {"id": str(next_exec), "hostPort": f"{h}:{self.rng.randint(32000, 46000)}",
                     "addTime": ts(boot + timedelta(seconds=8 + next_exec * 0.3)), "totalCores": 4,
                     "maxMemory": 7194093158, "failedTasks": 0, "totalTasks": self.rng.randint(4000, 9000)}
                self.executors.append(e)
                self.exec_by_host[h].append(e)
                next_exec += 1
        self.next_exec = next_exec
        self.airflow_workers = airflow_workers
        self.dags, self.runs, self.tis = [], [], []
        self.jobs, self.stages = [], []
        self.job_id = 7310 + self.rng.randint(0, 900)
        self.stage_id = 15820 + self.rng.randint(0, 900)
        self.tid = 1_204_000 + self.rng.randint(0, 90_000)
        self.streams = {}
        self.metrics = []
        self.lambdas = lambdas
        self.health = []
        self.worker_dead_at = {}  # airflow worker -> time it disappeared
        self.s3_5xx = {}  # minute index -> extra 5xx on the lake bucket
        self.lambda_zero = {}  # function -> time rows drop to zero
        self.host_mem_spike = {}  # spark host -> (time, seconds)
        self.cpu_blip = {}  # host -> time

    # ---------- logs ----------
    def log(self, labels, t, line):
        key = tuple(sorted(labels.items()))
        self.streams.setdefault(key, []).append([ts(t), line])

    def aw_log(self, host, t, line, level="info"):
        dead = self.worker_dead_at.get(host)
        if dead and t >= dead:
            return
        self.log({"service_name": "airflow-worker", "host": host, "level": level}, t, line)

    def driver_log(self, t, line, level="info"):
        self.log({"service_name": "spark-driver", "host": self.driver_host, "level": level}, t, line)

    def sched_log(self, t, line, level="info"):
        self.log({"service_name": "airflow-scheduler", "host": "airflow-scheduler-1", "level": level}, t, line)

    # ---------- Airflow ----------
    def dag(self, dag_id, schedule, tags, owner, path):
        self.dags.append({"dag_id": dag_id, "schedule": schedule, "tags": tags, "owners": [owner],
                          "is_paused": False, "fileloc": f"/opt/airflow/dags/{path}", "max_active_runs": 16})

    def run(self, dag_id, rid, logical, queued, start, end, state, run_type="scheduled"):
        r = {"dag_id": dag_id, "dag_run_id": rid, "logical_date": ts(logical).replace(".000Z", "Z"),
             "run_after": ts(logical).replace(".000Z", "Z"), "run_type": run_type, "queued_at": ts(queued),
             "start_date": ts(start), "end_date": ts(end) if end else None, "state": state,
             "data_interval_start": ts(logical).replace(".000Z", "Z"),
             "data_interval_end": ts(logical).replace(".000Z", "Z"),
             "triggered_by": "timetable" if run_type == "scheduled" else ("backfill" if run_type == "backfill" else "rest_api")}
        self.runs.append(r)
        self.sched_log(queued, f"[{afts(queued)}] {{scheduler_job_runner.py:1562}} INFO - DAG {dag_id} is at (or below) max_active_runs; creating run {rid}")
        if end and state in ("success", "failed"):
            self.sched_log(end, f"[{afts(end)}] {{dagrun.py:943}} {'INFO' if state == 'success' else 'ERROR'} - Marking run <DagRun {dag_id} @ {logical.strftime('%Y-%m-%d %H:%M:%S+00:00')}: {rid}, state:running, queued_at: {queued.strftime('%Y-%m-%d %H:%M:%S')}+00:00. run_type: {run_type}> {'successful' if state == 'success' else 'failed'}")
        return r

    def ti(self, dag_id, rid, task_id, try_number, max_tries, queued, start, end, state, host, operator,
           pool="spark_connect", log=None):
        row = {"dag_id": dag_id, "dag_run_id": rid, "task_id": task_id, "map_index": -1,
               "try_number": try_number, "max_tries": max_tries,
               "queued_when": ts(queued) if queued else None, "start_date": ts(start),
               "end_date": ts(end) if end else None, "state": state, "hostname": host or "",
               "operator": operator, "pool": pool, "queue": "default", "executor": "CeleryExecutor",
               "pid": self.rng.randint(1000, 65000) if host else None, "log": log or []}
        self.tis.append(row)
        if host and start:
            wid = str(uuid.UUID(int=self.rng.getrandbits(128)))
            self.aw_log(host, queued or start, f"{(queued or start).strftime('%Y-%m-%d %H:%M:%S.%f')} [info     ] Task execute_workload[{wid}] received [celery.worker.strategy]")
            self.aw_log(host, start, f"{start.strftime('%Y-%m-%d %H:%M:%S.%f')} [info     ] [{wid}] Executing workload in Celery: ti=TaskInstance(task_id='{task_id}', dag_id='{dag_id}', run_id='{rid}', try_number={try_number}, map_index=-1, pool_slots=1, queue='default') log_path='dag_id={dag_id}/run_id={rid}/task_id={task_id}/attempt={try_number}.log' type='ExecuteTask' [airflow.providers.celery.executors.celery_executor_utils]")
            if end and state in ("success", "failed", "up_for_retry"):
                code = 0 if state == "success" else 1
                dur = (end - start).total_seconds()
                self.aw_log(host, end, f"{end.strftime('%Y-%m-%d %H:%M:%S.%f')} [info     ] Task finished exit_code={code} duration={dur:.3f} final_state={state} [supervisor]")
                self.aw_log(host, end + timedelta(milliseconds=100), f"{(end + timedelta(milliseconds=100)).strftime('%Y-%m-%d %H:%M:%S.%f')} [info     ] Task execute_workload[{wid}] succeeded in {dur + 0.9:.3f}s: None [celery.app.trace]")
        return row

    def skipped(self, dag_id, rid, task_id, at, max_tries=2, operator="SparkConnectSqlOperator"):
        return self.ti(dag_id, rid, task_id, 0, max_tries, None, at, at, "upstream_failed", None, operator)

    # ---------- Spark ----------
    def tags(self, session, dag_id, task_id, rid, op):
        p = f"SparkConnect_SessionTag_User_airflow_Session_{session}_Tag_airflow."
        return [p + f"dag_id={dag_id}", p + f"task_id={task_id}", p + f"run_id={rid}",
                f"SparkConnect_OperationTag_User_airflow_Session_{session}_Operation_{op}"]

    def spark_job(self, dag_id, task_id, rid, t0, t1, status="SUCCEEDED", failure=None, session=None, nstages=2):
        session = session or str(uuid.UUID(int=self.rng.getrandbits(128)))
        op = str(uuid.UUID(int=self.rng.getrandbits(128)))
        jid = self.job_id
        self.job_id += self.rng.randint(1, 3)
        name = (f'Spark Connect - session_id: "{session}"\nuser_context {{\n  user_id: "airflow"\n}}\n'
                "plan {\n  command {\n    sql_command {...")
        sids = []
        span = (t1 - t0) / nstages
        for k in range(nstages):
            sid = self.stage_id
            self.stage_id += self.rng.randint(1, 2)
            s0 = t0 + span * k
            s1 = t0 + span * (k + 1)
            last = k == nstages - 1
            st = {"stageId": sid, "attemptId": 0, "name": name, "status": "COMPLETE",
                  "submissionTime": ts(s0), "completionTime": ts(s1),
                  "numTasks": self.rng.choice([64, 128, 200, 256]), "numFailedTasks": 0,
                  "inputBytes": self.rng.randint(10**8, 10**10), "shuffleWriteBytes": self.rng.randint(10**7, 10**9)}
            st["numCompleteTasks"] = st["numTasks"]
            if last and status == "FAILED":
                st["status"] = "FAILED"
                st["numFailedTasks"] = 1
                st["numCompleteTasks"] = st["numTasks"] // 2
                st["failureReason"] = failure(sid)
            self.stages.append(st)
            sids.append(sid)
        job = {"jobId": jid, "name": name, "description": name, "submissionTime": ts(t0), "completionTime": ts(t1),
               "stageIds": sids, "jobGroup": None, "jobTags": self.tags(session, dag_id, task_id, rid, op),
               "status": status, "numTasks": sum(s["numTasks"] for s in self.stages[-nstages:]),
               "numFailedTasks": 1 if status == "FAILED" else 0,
               "numFailedStages": 1 if status == "FAILED" else 0}
        self.jobs.append(job)
        if status == "SUCCEEDED":
            self.driver_log(t1, f"{sparkts(t1)} INFO DAGScheduler: Job {jid} finished: collect at SparkConnectPlanExecution.scala:187, took {(t1 - t0).total_seconds():.6f} s")
        return job, sids

    def lose_executor(self, host, eid_index, at, reason, failed_tasks=1, replace_after=None):
        e = self.exec_by_host[host][eid_index]
        e["removeTime"] = ts(at)
        e["removeReason"] = reason
        e["failedTasks"] = failed_tasks
        if replace_after is not None:
            n = {"id": str(self.next_exec), "hostPort": f"{host}:{self.rng.randint(32000, 46000)}",
                 "addTime": ts(at + timedelta(seconds=replace_after)), "totalCores": 4, "maxMemory": 7194093158,
                 "failedTasks": 0, "totalTasks": self.rng.randint(10, 300)}
            self.next_exec += 1
            self.executors.append(n)
            self.exec_by_host[host][eid_index] = n
        return e

    def lost_task(self, sid, host, eid, why):
        task = self.rng.randint(0, 199)
        self.tid += self.rng.randint(50, 900)
        return (f"Job aborted due to stage failure: Task {task} in stage {sid}.0 failed 1 times, most recent failure: "
                f"Lost task {task}.0 in stage {sid}.0 (TID {self.tid}) ({host} executor {eid}): {why}")

    # ---------- generic tasks ----------
    def spark_task_logs(self, dag_id, task_id, rid, start, statements, path):
        lines = [f"[{afts(start + timedelta(milliseconds=300))}] {{dagbag.py:588}} INFO - Filling up the DagBag from /opt/airflow/dags/{path}",
                 f"[{afts(start + timedelta(seconds=1.6))}] {{spark_sql.py:58}} INFO - Connecting to Spark Connect at {CONNECT} (user_id=airflow, session tags: airflow.dag_id={dag_id}, airflow.task_id={task_id}, airflow.run_id={rid})"]
        t = start + timedelta(seconds=2.4)
        for i, (stmt, dur) in enumerate(statements):
            lines.append(f"[{afts(t)}] {{spark_sql.py:104}} INFO - Running statement {i + 1}/{len(statements)}: {stmt}")
            if dur is not None:
                t = t + timedelta(seconds=dur)
                lines.append(f"[{afts(t)}] {{spark_sql.py:112}} INFO - Statement {i + 1}/{len(statements)} finished in {dur:.1f}s")
        return lines

    def sql_task(self, dag_id, rid, task_id, table, t0, dur_s, host, try_number=1, max_tries=2, path="", fail=None,
                 state=None, operator="SparkConnectSqlOperator", job=True, final_log=None):
        """One try of a Spark SQL task; `fail(sid)` makes its (last) Spark job fail with that reason."""
        queued = t0
        start = t0 + timedelta(seconds=self.rng.uniform(0.8, 2.5))
        end = start + timedelta(seconds=dur_s)
        stmt = (f"MERGE INTO lakehouse.{table} t USING lakehouse.{table}_updates s ON t.id = s.id "
                "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *") if "silver" in table or "gold" in table else (
                f"INSERT INTO lakehouse.{table} SELECT *, current_timestamp() AS ingested_at FROM json.`s3://{self.landing}/{table.split('.')[-1]}/dt={t0.strftime('%Y-%m-%d')}/`")
        if operator == "SparkConnectSqlCheckOperator":
            stmt = f"SELECT count(*) AS bad_rows FROM lakehouse.{table} WHERE id IS NULL OR updated_at IS NULL"
        log = self.spark_task_logs(dag_id, task_id, rid, start, [(stmt, None if fail else dur_s - 3)], path)
        if job:
            js, je = start + timedelta(seconds=2.6), end - timedelta(seconds=0.05 if fail else 0.5)
            self.spark_job(dag_id, task_id, rid, js, je, "FAILED" if fail else "SUCCEEDED", fail)
        if fail:
            reason = self.stages[-1]["failureReason"] if job else None
            text = final_log if final_log else (PYSPARK_TB + "pyspark.errors.exceptions.connect.SparkException: " + reason)
            log.append(f"[{afts(end - timedelta(milliseconds=40))}] {{task_runner.py:1084}} ERROR - {text}")
        st = state or ("success" if not fail else ("up_for_retry" if try_number <= max_tries else "failed"))
        self.ti(dag_id, rid, task_id, try_number, max_tries, queued, start, end, st, host, operator, log=log)
        return end

    def py_task(self, dag_id, rid, task_id, t0, dur_s, host, try_number=1, max_tries=2, error=None, path="",
                ok_lines=(), state=None, pool="default_pool"):
        start = t0 + timedelta(seconds=self.rng.uniform(0.8, 2.5))
        end = start + timedelta(seconds=dur_s)
        log = [f"[{afts(start + timedelta(milliseconds=300))}] {{dagbag.py:588}} INFO - Filling up the DagBag from /opt/airflow/dags/{path}"]
        for i, l in enumerate(ok_lines):
            log.append(f"[{afts(start + timedelta(seconds=1 + i))}] {{{l[0]}}} INFO - {l[1]}")
        if error:
            log.append(f"[{afts(end - timedelta(milliseconds=30))}] {{task_runner.py:1084}} ERROR - {error}")
        st = state or ("success" if not error else ("up_for_retry" if try_number <= max_tries else "failed"))
        self.ti(dag_id, rid, task_id, try_number, max_tries, t0, start, end, st, host, "PythonOperator", pool=pool, log=log)
        return end

    def pick_worker(self, t):
        alive = [w for w in self.airflow_workers if not (self.worker_dead_at.get(w) and t >= self.worker_dead_at[w] - timedelta(minutes=1))]
        return self.rng.choice(alive)

    def daily_pipeline(self, dag_id, domain, src, logical, overrides=None):
        """bronze → silver → dq → gold, all succeeding unless `overrides[task_id](p, t, host)` runs that task
        (returning (end, ok)); after a failed task the rest are upstream_failed and the run fails."""
        overrides = overrides or {}
        path = f"pipelines/{dag_id}.py"
        rid = run_id(logical)
        tasks = [(f"bronze_{domain}_{src}", f"bronze.{domain}_{src}", "SparkConnectSqlOperator", 1),
                 (f"silver_{domain}", f"silver.{domain}", "SparkConnectSqlOperator", 2),
                 (f"dq_{domain}", f"silver.{domain}", "SparkConnectSqlCheckOperator", 1),
                 (f"gold_{domain}_daily", f"gold.{domain}_daily", "SparkConnectSqlOperator", 2)]
        queued = logical + timedelta(seconds=self.rng.uniform(0.5, 3))
        start = queued + timedelta(seconds=self.rng.uniform(0.5, 2))
        t = start + timedelta(seconds=self.rng.uniform(0.5, 4))
        failed_at = None
        for task_id, table, op, mt in tasks:
            if failed_at:
                self.skipped(dag_id, rid, task_id, failed_at + timedelta(milliseconds=self.rng.randint(300, 1500)), mt, op)
                continue
            host = self.pick_worker(t)
            if task_id in overrides:
                t, ok = overrides[task_id](path, t, host)
                if not ok:
                    failed_at = t
                    continue
            else:
                dur = self.rng.uniform(60, 420) if op != "SparkConnectSqlCheckOperator" else self.rng.uniform(20, 70)
                t = self.sql_task(dag_id, rid, task_id, table, t, dur, host, max_tries=mt, path=path, operator=op)
            t = t + timedelta(seconds=self.rng.uniform(1, 6))
        end = (failed_at + timedelta(seconds=2)) if failed_at else t
        if end > self.end:
            end = None
        state = "failed" if failed_at else ("success" if end else "running")
        self.run(dag_id, rid, logical, queued, start, end, state)
        return rid

    def ops_worker(self, dag_id="ops_maintenance", every=15, special=None):
        """A 15-minute DAG: refresh an ops table in Spark, then emit a heartbeat."""
        special = special or {}
        self.dag(dag_id, f"*/{every} * * * *", ["ops"], "platform", "ops/ops_maintenance.py")
        t = self.start.replace(minute=(self.start.minute // every) * every, second=0, microsecond=0)
        while t <= self.end:
            rid = run_id(t)
            q = t + timedelta(seconds=self.rng.uniform(0.5, 2))
            host = self.pick_worker(q)
            if rid in special:
                e = special[rid](rid, q, host)
            else:
                e = self.sql_task(dag_id, rid, "refresh_ops_metrics", "ops.platform_metrics", q, self.rng.uniform(40, 110),
                                  host, max_tries=2, path="ops/ops_maintenance.py")
            host = self.pick_worker(e)
            e2 = self.py_task(dag_id, rid, "emit_heartbeat", e + timedelta(seconds=1), self.rng.uniform(1, 4), host,
                              path="ops/ops_maintenance.py", ok_lines=[("heartbeat.py:22", "Pushed ops heartbeat")])
            if e2 > self.end:
                # not done by the end: keep it out
                self.tis = [x for x in self.tis if not (x["dag_id"] == dag_id and x["dag_run_id"] == rid)]
                break
            self.run(dag_id, rid, t, q - timedelta(seconds=0.3), q, e2 + timedelta(seconds=1), "success")
            t += timedelta(minutes=every)

    # ---------- metrics ----------
    def add_metrics(self):
        n = int((self.end - self.start).total_seconds() // 60) + 1
        start = ts(self.start).replace(".000Z", "Z")
        rng = self.rng

        def gauge(resource, name, unit, values, attrs=None):
            self.metrics.append({"resource": resource, "name": name, "type": "gauge", "unit": unit,
                                 "attributes": attrs or {}, "start": start, "interval_s": 60, "values": values})

        def delta(resource, name, unit, values, attrs=None):
            self.metrics.append({"resource": resource, "name": name, "type": "sum", "monotonic": True,
                                 "temporality": "delta", "unit": unit, "attributes": attrs or {}, "start": start,
                                 "interval_s": 60, "values": values})

        def at(i):
            return self.start + timedelta(minutes=i)

        for h, w in self.workers.items():
            dead = None
            for when, state in w["states"]:
                if state == "DEAD":
                    dead = datetime.fromisoformat(when.replace("Z", "+00:00"))
            res = {"service.name": "spark-worker", "host.name": h}
            busy = lambda i: 0.25 + (0.45 if at(i).hour == 2 else 0.1)
            cpu, mem = [], []
            for i in range(n):
                if dead and at(i) >= dead:
                    cpu.append(None)
                    mem.append(None)
                    continue
                cpu.append(round(min(0.97, busy(i) + rng.uniform(-0.08, 0.08)), 4))
                m = 0.42 + (0.2 if at(i).hour == 2 else 0.05) + rng.uniform(-0.04, 0.04)
                sp = self.host_mem_spike.get(h)
                if sp:
                    for st, secs in sp:
                        if st - timedelta(minutes=3) <= at(i) <= st + timedelta(seconds=secs):
                            m = 0.93 + rng.uniform(0, 0.05)
                mem.append(round(min(0.99, m), 4))
            gauge(res, "system.cpu.utilization", "1", cpu)
            gauge(res, "system.memory.utilization", "1", mem, {"state": "used"})
        for h in self.airflow_workers + ["airflow-scheduler-1"]:
            svc = "airflow-scheduler" if "scheduler" in h else "airflow-worker"
            res = {"service.name": svc, "host.name": h}
            dead = self.worker_dead_at.get(h)
            cpu, mem = [], []
            for i in range(n):
                if dead and at(i) >= dead:
                    cpu.append(None)
                    mem.append(None)
                    continue
                c = 0.18 + rng.uniform(-0.05, 0.07)
                b = self.cpu_blip.get(h)
                if b and b <= at(i) < b + timedelta(minutes=2):
                    c = 0.91 + rng.uniform(0, 0.05)
                cpu.append(round(c, 4))
                mem.append(round(0.51 + rng.uniform(-0.03, 0.03), 4))
            gauge(res, "system.cpu.utilization", "1", cpu)
            gauge(res, "system.memory.utilization", "1", mem, {"state": "used"})
        sched = {"service.name": "airflow-scheduler", "host.name": "airflow-scheduler-1"}
        delta(sched, "airflow.scheduler_heartbeat", "{heartbeat}", [12] * n)
        gauge(sched, "airflow.executor.running_tasks", "{task}",
              [rng.randint(6, 14) if at(i).hour == 2 else rng.randint(0, 3) for i in range(n)])
        gauge(sched, "airflow.executor.queued_tasks", "{task}", [rng.randint(0, 2) for _ in range(n)])
        conn = {"service.name": "spark-connect", "host.name": self.driver_host}
        act = []
        for i in range(n):
            c = 0
            for e in self.executors:
                a = datetime.fromisoformat(e["addTime"].replace("Z", "+00:00"))
                r = e.get("removeTime")
                r = datetime.fromisoformat(r.replace("Z", "+00:00")) if r else None
                if a <= at(i) and (r is None or r > at(i)):
                    c += 1
            act.append(c)
        gauge(conn, "spark.executors.active", "{executor}", act)
        gauge(conn, "jvm.memory.used", "By", [rng.randint(5_500_000_000, 9_800_000_000) for _ in range(n)],
              {"jvm.memory.type": "heap"})
        for bucket in (self.lake, self.landing):
            res = {"service.name": "aws-s3", "cloud.region": "eu-west-1"}
            vals = []
            for i in range(n):
                v = 1 if rng.random() < 0.03 else 0
                if bucket == self.lake:
                    v += self.s3_5xx.get(i, 0)
                vals.append(v)
            delta(res, "aws.s3.5xx_errors", "{error}", vals, {"bucket": bucket, "filter_id": "EntireBucket"})
        for fn, src, every in self.lambdas:
            res = {"service.name": "lambda-ingestion", "faas.name": fn, "cloud.region": "eu-west-1"}
            inv, err, dur, rows = [], [], [], []
            zero = self.lambda_zero.get(fn)
            labels = {"service_name": "lambda-ingestion", "function": fn, "level": "info"}
            for i in range(n):
                t = at(i)
                if i % every:
                    inv.append(0), err.append(0), dur.append(None), rows.append(0)
                    continue
                rid = str(uuid.UUID(int=rng.getrandbits(128)))
                s = t + timedelta(milliseconds=rng.randint(5, 900))
                if zero and t >= zero:
                    r, d = 0, rng.uniform(70, 140)
                    self.log(labels, s, f"START RequestId: {rid} Version: $LATEST")
                    self.log(labels, s + timedelta(milliseconds=int(d) - 5), f"[INFO]\t{ts(s)}\t{rid}\tFetched 0 records since cursor 2026-05-19T{t.strftime('%H:%M')}:00Z; nothing to write")
                else:
                    r, d = rng.randint(600, 3200), rng.uniform(600, 1700)
                    self.log(labels, s, f"START RequestId: {rid} Version: $LATEST")
                    self.log(labels, s + timedelta(milliseconds=int(d) - 5), f"[INFO]\t{ts(s)}\t{rid}\tFetched {r} records; wrote s3://{self.landing}/{src}/dt={t.strftime('%Y-%m-%d')}/part-{rid[:8]}.json.gz")
                e = s + timedelta(milliseconds=int(d))
                self.log(labels, e, f"END RequestId: {rid}")
                self.log(labels, e + timedelta(milliseconds=1), f"REPORT RequestId: {rid}\tDuration: {d:.2f} ms\tBilled Duration: {int(d) + 1} ms\tMemory Size: 512 MB\tMax Memory Used: {rng.randint(110, 160)} MB")
                inv.append(1), err.append(0), dur.append(round(d, 1)), rows.append(r)
            delta(res, "aws.lambda.invocations", "{invocation}", inv)
            delta(res, "aws.lambda.errors", "{error}", err)
            gauge(res, "aws.lambda.duration", "ms", dur)
            delta(res, "ingest.rows", "{row}", rows, {"source": src})

    def background_logs(self):
        t = self.start
        while t <= self.end:
            for h in self.workers:
                dead = [s for s in self.workers[h]["states"] if s[1] in ("DEAD", "DECOMMISSIONED")]
                if dead and ts(t) >= dead[0][0]:
                    continue
                if self.rng.random() < 0.5:
                    self.log({"service_name": "spark-worker", "host": h, "level": "info"}, t + timedelta(seconds=self.rng.uniform(0, 59)),
                             f"{sparkts(t)} INFO ExternalShuffleBlockResolver: Clean up shuffle files of app {self.app_id}: {self.rng.randint(1, 40)} removed")
            self.sched_log(t + timedelta(seconds=3), f"[{afts(t + timedelta(seconds=3))}] {{scheduler_job_runner.py:2149}} INFO - Heartbeat recorded; {self.rng.randint(20, 60)} DAGs, {self.rng.randint(0, 12)} running task instances")
            t += timedelta(minutes=1)

    def build(self, truth):
        self.add_metrics()
        self.background_logs()
        t = self.start
        while t <= self.end:
            self.health.append({"at": ts(t).replace(".000Z", "Z"), "metadatabase": "healthy", "scheduler": "healthy",
                                "latest_scheduler_heartbeat": ts(t - timedelta(milliseconds=137)), "triggerer": "healthy",
                                "dag_processor": "healthy"})
            t += timedelta(minutes=1)
        streams = []
        for key, entries in sorted(self.streams.items()):
            entries.sort(key=lambda e: e[0])
            streams.append({"labels": dict(key), "entries": entries})
        self.jobs.sort(key=lambda j: j["jobId"])
        return {
            "format": "guardian-scenario/1", "name": self.name, "summary": self.summary,
            "start": ts(self.start).replace(".000Z", "Z"), "end": ts(self.end).replace(".000Z", "Z"),
            "airflow": {"dags": self.dags, "dag_runs": self.runs, "task_instances": self.tis, "import_errors": [],
                        "health": self.health},
            "spark": {"master": self.master, "connect": {"endpoint": CONNECT, "up": [[ts(self.app_start), True]]},
                      "applications": [{"id": self.app_id, "name": "Spark Connect server", "start": ts(self.app_start),
                                        "end": None, "jobs": self.jobs, "stages": self.stages,
                                        "executors": [{"id": "driver", "hostPort": f"{self.driver_host}:42169",
                                                       "addTime": ts(self.app_start), "totalCores": 0,
                                                       "maxMemory": 14495514624, "failedTasks": 0}] + self.executors}]},
            "loki": {"streams": streams},
            "metrics": self.metrics,
            "truth": truth,
        }


def d(s):
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


DOMAINS = [("orders", "api"), ("payments", "psp"), ("customers", "crm"), ("shipments", "feed"),
           ("inventory", "erp"), ("invoices", "api"), ("refunds", "psp"), ("carriers", "feed"),
           ("campaigns", "api"), ("sessions", "events"), ("products", "erp"), ("reviews", "api"),
           ("tickets", "crm"), ("ledger", "erp")]


def daily_dags(p, domains, logical, overrides_by_dag):
    rids = {}
    for dom, src in domains:
        dag_id = f"{dom}_daily"
        p.dag(dag_id, "0 2 * * *", ["bronze", "silver", "gold", dom], p.rng.choice(["data-eng", "analytics-eng", "platform"]),
              f"pipelines/{dag_id}.py")
        rids[dag_id] = p.daily_pipeline(dag_id, dom, src, logical, overrides_by_dag.get(dag_id))
    return rids


def scraper(p, dag_id, task_id, every_min, special=None):
    special = special or {}
    p.dag(dag_id, f"*/{every_min} * * * *", ["scraper"], "data-eng", f"scrapers/{dag_id}.py")
    t = p.start.replace(minute=(p.start.minute // every_min) * every_min, second=0, microsecond=0)
    if t < p.start:
        t += timedelta(minutes=every_min)
    while t + timedelta(minutes=5) <= p.end:
        rid = run_id(t)
        q = t + timedelta(seconds=p.rng.uniform(0.5, 2))
        host = p.pick_worker(q)
        if rid in special:
            e = special[rid](rid, q, host)
        else:
            e = p.py_task(dag_id, rid, task_id, q, p.rng.uniform(20, 90), host, path=f"scrapers/{dag_id}.py",
                          ok_lines=[("http.py:41", f"GET page 1..{p.rng.randint(3, 12)} of the listing: 200 OK")])
        p.run(dag_id, rid, t, q - timedelta(seconds=0.3), q, e + timedelta(seconds=1), "success")
        t += timedelta(minutes=every_min)


# =====================================================================================
# 1. Executor OOM
# =====================================================================================
def scenario_oom():
    start, end = d("2026-04-07T01:50:00"), d("2026-04-07T03:30:00")
    p = Platform("own-01-executor-oom", "", start, end, 101, "globex",
                 ["10.0.4.57", "10.0.4.91", "10.0.5.23", "10.0.5.140"],
                 ["airflow-worker-1", "airflow-worker-2", "airflow-worker-3"],
                 [("ingest-orders-api", "orders_api", 1), ("ingest-ads-api", "ads_api", 5)])
    logical = d("2026-04-07T02:00:00")
    rid = run_id(logical)
    dag, task = "orders_daily", "silver_orders"
    truth_ents = [f"airflow:dag:{dag}", task_key(dag, rid, task), f"airflow:dagrun:{dag}/{rid}"]
    root = [task_key(dag, rid, task), f"airflow:dag:{dag}"]
    oom_tries = [  # (host, executor index on host, loss text in the stage reason, removeReason, exit)
        ("10.0.4.57", 1,
         "java.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n"
         "\tat org.apache.spark.unsafe.map.BytesToBytesMap.growAndRehash(BytesToBytesMap.java:918)\n"
         "\tat org.apache.spark.sql.execution.joins.UnsafeHashedRelation$.apply(HashedRelation.scala:443)",
         "Command exited with code 52"),
        ("10.0.5.23", 2,
         "ExecutorLostFailure (executor {eid} exited caused by one of the running tasks) Reason: Command exited with code 137",
         "Command exited with code 137"),
        ("10.0.4.91", 0,
         "java.lang.OutOfMemoryError: GC overhead limit exceeded\n\tat org.apache.spark.sql.catalyst.expressions.UnsafeRow.copy(UnsafeRow.java:487)\n"
         "\tat org.apache.spark.sql.execution.joins.SortMergeJoinScanner.bufferMatchingRows(SortMergeJoinExec.scala:1021)",
         "Command exited with code 52"),
    ]

    def silver_orders(path, t, host):
        for n, (h, idx, why, removal) in enumerate(oom_tries):
            try_no = n + 1
            e = p.exec_by_host[h][idx]
            eid = e["id"]
            dur = p.rng.uniform(280, 420)
            # the job runs until the executor holding the skewed partition dies
            fail_at = t + timedelta(seconds=dur)
            p.host_mem_spike.setdefault(h, []).append((fail_at - timedelta(minutes=2), 150))
            reason = lambda sid, h=h, eid=eid, why=why: p.lost_task(sid, h, eid, why.format(eid=eid)) + DRIVER_STACK
            host_n = host if n == 0 else p.pick_worker(t)
            end = p.sql_task(dag, rid, task, "silver.orders", t, dur, host_n, try_number=try_no, max_tries=2, path=path,
                             fail=reason)
            job = p.jobs[-1]
            truth_ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}",
                               f"spark:executor:{p.app_id}/{eid}"])
            root.append(f"spark:job:{p.app_id}/{job['jobId']}")
            reason_text = p.stages[-1]["failureReason"]
            lost = reason_text.split("most recent failure: ")[1].split("\nDriver stacktrace")[0]
            p.lose_executor(h, idx, end - timedelta(milliseconds=30), removal, replace_after=4)
            p.driver_log(end - timedelta(milliseconds=60), f"{sparkts(end)} WARN TaskSetManager: {lost.splitlines()[0]}", "warn")
            p.driver_log(end - timedelta(milliseconds=40), f"{sparkts(end)} ERROR TaskSchedulerImpl: Lost executor {eid} on {h}: {removal}", "error")
            p.driver_log(end - timedelta(milliseconds=35), f"{sparkts(end)} ERROR TaskSetManager: Task {lost.split('Lost task ')[1].split('.')[0]} in stage {job['stageIds'][-1]}.0 failed 1 times; aborting job", "error")
            p.log({"service_name": "spark-worker", "host": h, "level": "info"}, end - timedelta(milliseconds=20),
                  f"{sparkts(end)} INFO Worker: Executor {p.app_id}/{eid} finished with state EXITED message {removal} exitStatus {removal.split()[-1]}")
            p.log({"service_name": "spark-worker", "host": h, "level": "info"}, end + timedelta(seconds=4),
                  f"{sparkts(end)} INFO Worker: Asked to launch executor {p.app_id}/{p.exec_by_host[h][idx]['id']} for Spark Connect server")
            t = end + timedelta(minutes=5, seconds=p.rng.uniform(1, 4))
        return end, False

    # quiet: the ads API resets a connection once; the retry succeeds
    qrid = None

    def ads_bronze(path, t, host):
        err = ("Task failed with exception\nTraceback (most recent call last):\n"
               '  File "/opt/airflow/dags/pipelines/campaigns_daily.py", line 61, in pull_campaigns\n'
               "    resp = session.get(url, params=params, timeout=60)\n"
               '  File "/home/airflow/.local/lib/python3.12/site-packages/requests/adapters.py", line 682, in send\n'
               "    raise ConnectionError(err, request=request)\n"
               "requests.exceptions.ConnectionError: ('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
        e = p.py_task("campaigns_daily", qrid_holder[0], "bronze_campaigns_api", t, 48.2, host, 1, 2, err, path,
                      ok_lines=[("campaigns_daily.py:44", "Pulling campaigns updated since 2026-04-06T02:00:00Z")])
        e2 = p.py_task("campaigns_daily", qrid_holder[0], "bronze_campaigns_api", e + timedelta(minutes=5), 95.0,
                       p.pick_worker(e), 2, 2, None, path,
                       ok_lines=[("campaigns_daily.py:44", "Pulling campaigns updated since 2026-04-06T02:00:00Z"),
                                 ("campaigns_daily.py:73", "Wrote 18211 campaigns to s3://globex-landing-prod/campaigns_api/")])
        return e2, True

    qrid_holder = [run_id(logical)]
    domains = DOMAINS[:11]
    daily_dags(p, domains, logical, {dag: {task: silver_orders}, "campaigns_daily": {"bronze_campaigns_api": ads_bronze}})
    p.ops_worker()
    scraper(p, "scrape_fx_rates", "fetch_rates", 20)
    # downstream of the failed task
    for r in p.tis:
        if r["dag_id"] == dag and r["state"] == "upstream_failed":
            truth_ents.append(task_key(dag, rid, r["task_id"]))
    p.cpu_blip["airflow-worker-2"] = d("2026-04-07T02:47:00")
    truth = {
        "incidents": [{
            "id": "oom-1", "start": ts(min(datetime.fromisoformat(j["submissionTime"].replace("Z", "+00:00")) for j in p.jobs if f"spark:job:{p.app_id}/{j['jobId']}" in truth_ents)),
            "severity": "high",
            "root_cause_any_of": root,
            "entities": truth_ents,
        }],
        "quiet": [task_key("campaigns_daily", qrid_holder[0], "bronze_campaigns_api"),
                  metric_key("system.cpu.utilization", {"service.name": "airflow-worker", "host.name": "airflow-worker-2"})],
    }
    # the cause first shows as the executor's memory climbing, a few minutes before the first loss
    first_loss = min(datetime.fromisoformat(e["removeTime"].replace("Z", "+00:00")) for e in p.executors if e.get("removeTime"))
    truth["incidents"][0]["start"] = ts(first_loss - timedelta(minutes=3)).replace(".000Z", "Z")
    p.summary = (f"Synthetic night on the globex platform (11 daily DAGs, 4 Spark workers, 3 Celery workers). Spark Connect runs "
                 f"with spark.task.maxFailures=1 (Airflow owns retries). Incident oom-1 (executor_oom): orders_daily.silver_orders "
                 f"joins a skewed key; in each of its 3 tries the executor holding the hot partition dies of memory "
                 f"(java.lang.OutOfMemoryError: Java heap space → exit 52; killed by the kernel → exit 137; GC overhead limit "
                 f"exceeded → exit 52), each on a different host, so the task fails for good and its downstream tasks are "
                 f"upstream_failed. The cause is the job (its memory needs/skew), not a host. Quiet: campaigns_daily.bronze_campaigns_api "
                 f"fails once on a connection reset and succeeds on retry; a CPU blip on airflow-worker-2.")
    return p.build(truth)


# =====================================================================================
# 2. S3 throttling + an unrelated Iceberg commit conflict
# =====================================================================================
def scenario_s3():
    start, end = d("2026-04-21T01:55:00"), d("2026-04-21T03:35:00")
    p = Platform("own-02-s3-throttling-and-commit-conflict", "", start, end, 202, "initrode",
                 ["10.0.3.18", "10.0.3.77", "10.0.4.120", "10.0.5.9", "10.0.5.66"],
                 ["airflow-worker-1", "airflow-worker-2", "airflow-worker-3", "airflow-worker-4"],
                 [("ingest-orders-api", "orders_api", 1), ("ingest-tickets-crm", "tickets_crm", 5)])
    logical = d("2026-04-21T02:00:00")
    rid = run_id(logical)
    thr0, thr1 = d("2026-04-21T02:17:40"), d("2026-04-21T02:35:10")
    for i in range(int((thr0 - start).total_seconds() // 60), int((thr1 - start).total_seconds() // 60) + 1):
        p.s3_5xx[i] = p.rng.randint(400, 2600)
    s3_ents, s3_tasks = [], []
    bucket_metric = metric_key("aws.s3.5xx_errors", {"service.name": "aws-s3", "cloud.region": "eu-west-1",
                                                     "bucket": p.lake, "filter_id": "EntireBucket"})

    def slowdown(h, eid, key):
        rq = "".join(p.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(16))
        return (f"org.apache.iceberg.exceptions.RuntimeIOException: Failed to write s3://{p.lake}/warehouse/{key}\n"
                f"Caused by: software.amazon.awssdk.services.s3.model.S3Exception: Please reduce your request rate. "
                f"(Service: S3, Status Code: 503, Request ID: {rq}, Extended Request ID: {rq.lower()}/{rq}=)")

    def throttled(dag_id, table, fail_tries, max_tries, first_at):
        """A task whose first `fail_tries` tries die of S3 SlowDown; then (if tries remain) it succeeds."""
        def run(path, t, host):
            t = max(t, first_at - timedelta(minutes=p.rng.uniform(3, 6)))
            task_id = "silver_" + dag_id.split("_")[0] if table.startswith("silver") else f"gold_{dag_id.split('_')[0]}_daily"
            key = f"{table.replace('.', '.db/')}/data/ds=2026-04-21/0000{p.rng.randint(1, 9)}-{p.rng.randint(100, 999)}-{uuid.UUID(int=p.rng.getrandbits(128))}-00001.parquet"
            n = 0
            while True:
                n += 1
                host_n = host if n == 1 else p.pick_worker(t)
                if n <= fail_tries:
                    h = p.rng.choice(list(p.workers))
                    eid = p.rng.choice(p.exec_by_host[h])["id"]
                    dur = max(60.0, (first_at - t).total_seconds()) if n == 1 else p.rng.uniform(90, 200)
                    reason = lambda sid, h=h, eid=eid: p.lost_task(sid, h, eid, slowdown(h, eid, key)) + DRIVER_STACK
                    end = p.sql_task(dag_id, rid, task_id, table, t, dur, host_n, n, max_tries, path, fail=reason)
                    job = p.jobs[-1]
                    s3_ents.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
                    lost = p.stages[-1]["failureReason"].split("most recent failure: ")[1].split("\n")[0]
                    p.driver_log(end - timedelta(milliseconds=80), f"{sparkts(end)} WARN TaskSetManager: {lost}", "warn")
                    p.driver_log(end - timedelta(milliseconds=60), f"{sparkts(end)} ERROR TaskSetManager: Task {lost.split('Lost task ')[1].split('.')[0]} in stage {job['stageIds'][-1]}.0 failed 1 times; aborting job", "error")
                    if task_key(dag_id, rid, task_id) not in s3_tasks:
                        s3_tasks.append(task_key(dag_id, rid, task_id))
                    if n > max_tries:
                        return end, False
                    t = end + timedelta(minutes=5, seconds=p.rng.uniform(0, 3))
                else:
                    end = p.sql_task(dag_id, rid, task_id, table, t, p.rng.uniform(150, 300), host_n, n, max_tries, path)
                    return end, True
        return run

    # S3 warnings from the driver while throttled (executors retry with backoff first)
    t = thr0
    while t < thr1:
        p.driver_log(t, f"{sparkts(t)} WARN S3FileIO: Retrying PUT s3://{p.lake}/warehouse/silver.db/ after 503 SlowDown (attempt {p.rng.randint(2, 6)} of 10)", "warn")
        t += timedelta(seconds=p.rng.uniform(20, 70))

    # the commit conflict: a backfill of inventory_daily rewrites gold.inventory_snapshot while the scheduled run merges into it
    inv_dag = "inventory_daily"
    inv_task = "gold_inventory_daily"
    commit_ents = [f"airflow:dag:{inv_dag}", task_key(inv_dag, rid, inv_task), f"airflow:dagrun:{inv_dag}/{rid}"]
    bf_runs = []

    def conflict(path, t, host):
        t = max(t, d("2026-04-21T02:19:30"))
        n = 0
        while True:
            n += 1
            dur = p.rng.uniform(200, 260)
            m_new = 4411 + n * 3
            err = (PYSPARK_TB.replace("pyspark.errors.exceptions.connect.SparkException", "")
                   + "pyspark.errors.exceptions.connect.SparkConnectGrpcException: (org.apache.iceberg.exceptions.CommitFailedException) "
                   f"Cannot commit glue_catalog.gold.inventory_daily because base metadata location "
                   f"'s3://{p.lake}/warehouse/gold.db/inventory_daily/metadata/0{m_new - 2}-{uuid.UUID(int=p.rng.getrandbits(128))}.metadata.json' "
                   f"is not same as the current Glue location 's3://{p.lake}/warehouse/gold.db/inventory_daily/metadata/0{m_new}-{uuid.UUID(int=p.rng.getrandbits(128))}.metadata.json'")
            host_n = host if n == 1 else p.pick_worker(t)
            # the write job itself succeeds; the commit on the driver loses the race
            end = p.sql_task(inv_dag, rid, inv_task, "gold.inventory_daily", t, dur, host_n, n, 1, path,
                             fail=None, state="up_for_retry" if n == 1 else "failed")
            row = p.tis[-1]
            row["log"] = [l for l in row["log"] if "finished in" not in l]
            row["log"].append(f"[{afts(end - timedelta(milliseconds=40))}] {{task_runner.py:1084}} ERROR - {err}")
            for k in range(4):
                w = end - timedelta(seconds=14 - k * 3.5)
                p.driver_log(w, f"{sparkts(w)} WARN Tasks: Retrying task after failure: Cannot commit glue_catalog.gold.inventory_daily because base metadata location '...0{m_new - 2}-….metadata.json' is not same as the current Glue location '...0{m_new}-….metadata.json'", "warn")
            p.driver_log(end - timedelta(seconds=0.2), f"{sparkts(end)} ERROR OverwriteByExpressionExec: Data source write support IcebergBatchWrite(table=glue_catalog.gold.inventory_daily, format=PARQUET) is aborting.", "error")
            if n == 2:
                return end, False
            t = end + timedelta(minutes=5, seconds=p.rng.uniform(0, 2))

    overrides = {
        "orders_daily": {"silver_orders": throttled("orders_daily", "silver.orders", 1, 2, d("2026-04-21T02:19:02"))},
        "payments_daily": {"silver_payments": throttled("payments_daily", "silver.payments", 2, 1, d("2026-04-21T02:20:31"))},
        "shipments_daily": {"silver_shipments": throttled("shipments_daily", "silver.shipments", 1, 2, d("2026-04-21T02:22:15"))},
        "customers_daily": {"gold_customers_daily": throttled("customers_daily", "gold.customers_daily", 1, 0, d("2026-04-21T02:24:48"))},
        inv_dag: {inv_task: conflict},
    }
    domains = DOMAINS[:12]
    rids = daily_dags(p, domains, logical, overrides)
    # the backfill (3 past days, one at a time) that writes the same Iceberg table
    bt = d("2026-04-21T02:08:12")
    for day in (18, 19, 20):
        lg = d(f"2026-04-{day:02d}T02:00:00")
        brid = f"backfill__{lg.strftime('%Y-%m-%dT%H:%M:%S')}+00:00"
        bf_runs.append(brid)
        q = bt
        e = p.sql_task(inv_dag, brid, inv_task, "gold.inventory_daily", q, p.rng.uniform(700, 900),
                       p.pick_worker(q), 1, 1, "pipelines/inventory_daily.py")
        p.run(inv_dag, brid, lg, q - timedelta(seconds=2), q, e + timedelta(seconds=1), "success", run_type="backfill")
        bt = e + timedelta(seconds=4)
    for r in p.tis:
        if r["state"] == "upstream_failed" and r["dag_run_id"] == rid:
            k = task_key(r["dag_id"], rid, r["task_id"])
            (commit_ents if r["dag_id"] == inv_dag else s3_ents).append(k)
    failed_dags = {r["dag_id"] for r in p.runs if r["state"] == "failed"}
    for dg in sorted(failed_dags - {inv_dag}):
        (commit_ents if dg == inv_dag else s3_ents).append(f"airflow:dagrun:{dg}/{rid}")
    p.ops_worker()
    scraper(p, "scrape_supplier_catalogue", "fetch_pages", 30)
    truth = {
        "incidents": [
            {"id": "s3-1", "start": ts(thr0).replace(".000Z", "Z"), "severity": "high",
             "root_cause_any_of": [bucket_metric],
             "entities": [bucket_metric] + s3_tasks + s3_ents},
            {"id": "commit-1", "start": ts(d("2026-04-21T02:23:20")).replace(".000Z", "Z"), "severity": "high",
             # the concurrent writer is the backfill of the same DAG: the DAG names both writers
             "root_cause_any_of": [task_key(inv_dag, rid, inv_task), f"airflow:dag:{inv_dag}"],
             "entities": commit_ents},
        ],
        "quiet": [],
    }
    p.summary = (f"Synthetic night on the initrode platform (12 daily DAGs, 5 Spark workers, 4 Celery workers). Spark Connect runs "
                 f"with spark.task.maxFailures=1. Incident s3-1 (s3_throttling): from {ts(thr0)} to {ts(thr1)} S3 answers 503 SlowDown "
                 f"on s3://{p.lake} (aws.s3.5xx_errors jumps from ~0 to thousands a minute); the Iceberg writes of 4 DAGs "
                 f"(orders, payments, shipments, customers) fail with S3Exception 'Please reduce your request rate'; orders and "
                 f"shipments recover on retry, payments and customers fail for good. Incident commit-1 (iceberg_commit_conflict, "
                 f"unrelated): a backfill of inventory_daily rewrites glue_catalog.gold.inventory_daily while the scheduled run "
                 f"merges into it; the scheduled gold_inventory_daily loses the commit twice (CommitFailedException; its Spark jobs "
                 f"succeed, the commit fails on the driver) and fails for good.")
    return p.build(truth)


# =====================================================================================
# 3. A Celery worker lost + an ingestion that silently delivers nothing
# =====================================================================================
def scenario_worker_lost():
    start, end = d("2026-05-19T01:50:00"), d("2026-05-19T03:20:00")
    p = Platform("own-03-celery-worker-lost", "", start, end, 303, "umbrella",
                 ["10.0.3.33", "10.0.4.48", "10.0.4.202", "10.0.5.71"],
                 ["airflow-worker-1", "airflow-worker-2", "airflow-worker-3", "airflow-worker-4"],
                 [("ingest-orders-api", "orders_api", 1), ("ingest-carrier-events", "carrier_events", 1),
                  ("ingest-reviews-api", "reviews_api", 5)])
    dead_host = "airflow-worker-3"
    dead_at = d("2026-05-19T02:21:43")
    p.worker_dead_at[dead_host] = dead_at
    logical = d("2026-05-19T02:00:00")
    rid = run_id(logical)
    zero_at = d("2026-05-19T02:38:00")
    p.lambda_zero["ingest-carrier-events"] = zero_at
    killed = []  # task keys
    detect = [d("2026-05-19T02:26:51"), d("2026-05-19T02:26:51.400"), d("2026-05-19T02:27:01"), d("2026-05-19T02:27:01.300"), d("2026-05-19T02:27:11")]

    def on_dead_worker(dag_id, task_id, table, max_tries, started, op="SparkConnectSqlOperator"):
        def run(path, t, host):
            t = max(t, started)
            n = len(killed)
            det = detect[n]
            key = task_key(dag_id, rid, task_id)
            killed.append(key)
            st = t + timedelta(seconds=1.3)
            if op == "PythonOperator":
                log = [f"[{afts(st + timedelta(milliseconds=300))}] {{dagbag.py:588}} INFO - Filling up the DagBag from /opt/airflow/dags/{path}",
                       f"[{afts(st + timedelta(seconds=2))}] {{export.py:37}} INFO - Exporting partner extract for 2026-05-18"]
            else:
                stmt = f"MERGE INTO lakehouse.{table} t USING lakehouse.{table}_updates s ON t.id = s.id WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
                log = p.spark_task_logs(dag_id, task_id, rid, st, [(stmt, None)], path)
                # the Connect session outlives its client: the Spark job finishes on its own
                p.spark_job(dag_id, task_id, rid, st + timedelta(seconds=2.6), dead_at + timedelta(seconds=p.rng.uniform(30, 200)))
            log.append(f"[{afts(det)}] {{scheduler_job_runner.py:2234}} ERROR - Detected a task instance without a heartbeat: "
                       f"{{'DAG Id': '{dag_id}', 'Task Id': '{task_id}', 'Run Id': '{rid}', 'Hostname': '{dead_host}', "
                       f"'External Executor Id': '{uuid.UUID(int=p.rng.getrandbits(128))}'}} "
                       "(See https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/tasks.html#task-instance-heartbeat-timeout)")
            log.append(f"[{afts(det + timedelta(milliseconds=220))}] {{taskinstance.py:1469}} ERROR - Task instance heartbeat timed out: "
                       f"the task stopped heartbeating at {afts(dead_at)} (task_instance_heartbeat_timeout=300s); marking it "
                       f"{'up_for_retry' if max_tries > 0 else 'failed'}")
            p.sched_log(det, f"[{afts(det)}] {{scheduler_job_runner.py:2234}} ERROR - Detected a task instance without a heartbeat: {{'DAG Id': '{dag_id}', 'Task Id': '{task_id}', 'Run Id': '{rid}', 'Hostname': '{dead_host}'}} (See https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/tasks.html#task-instance-heartbeat-timeout)", "error")
            p.ti(dag_id, rid, task_id, 1, max_tries, t, st, det, "up_for_retry" if max_tries > 0 else "failed", dead_host, op,
                 pool="default_pool" if op == "PythonOperator" else "spark_connect", log=log)
            if max_tries == 0:
                return det + timedelta(seconds=0.5), False
            t2 = det + timedelta(minutes=5, seconds=p.rng.uniform(1, 3))
            h2 = p.pick_worker(t2)
            if op == "PythonOperator":
                return p.py_task(dag_id, rid, task_id, t2, 64.0, h2, 2, max_tries, path=path), True
            return p.sql_task(dag_id, rid, task_id, table, t2, p.rng.uniform(120, 260), h2, 2, max_tries, path), True
        return run

    # tasks placed on the worker that dies
    orig_pick = p.pick_worker
    overrides = {
        "orders_daily": {"silver_orders": on_dead_worker("orders_daily", "silver_orders", "silver.orders", 2, d("2026-05-19T02:14:05"))},
        "payments_daily": {"gold_payments_daily": on_dead_worker("payments_daily", "gold_payments_daily", "gold.payments_daily", 0, d("2026-05-19T02:18:40"))},
        "inventory_daily": {"silver_inventory": on_dead_worker("inventory_daily", "silver_inventory", "silver.inventory", 2, d("2026-05-19T02:16:22"))},
        "refunds_daily": {"gold_refunds_daily": on_dead_worker("refunds_daily", "gold_refunds_daily", "gold.refunds_daily", 2, d("2026-05-19T02:19:57"))},
    }

    def pick(t):
        # nothing else is scheduled on the doomed worker in the minutes before it dies
        w = orig_pick(t)
        if w == dead_host and dead_at - timedelta(minutes=12) <= t < dead_at:
            return "airflow-worker-1"
        return w
    p.pick_worker = pick
    domains = DOMAINS[:12]
    daily_dags(p, domains, logical, overrides)

    # a partner export DAG (Python) also ran on that worker
    p.dag("partner_exports", "15 2 * * *", ["export"], "data-eng", "exports/partner_exports.py")
    prid = run_id(d("2026-05-19T02:15:00"))
    runner = on_dead_worker("partner_exports", "export_partner_extract", None, 1, d("2026-05-19T02:15:02"), op="PythonOperator")
    rid_saved = rid
    # (on_dead_worker uses `rid` of the daily runs; the export runs at 02:15)
    rid = prid
    e, ok = runner("exports/partner_exports.py", d("2026-05-19T02:15:01"), dead_host)
    rid = rid_saved
    p.run("partner_exports", prid, d("2026-05-19T02:15:00"), d("2026-05-19T02:15:00.6"), d("2026-05-19T02:15:01"), e + timedelta(seconds=1), "success")
    p.ops_worker()

    # quiet: a scraper's try hits a 429 once and succeeds on retry
    def sc_429(r, q, host):
        e = p.py_task("scrape_tender_notices", r, "fetch_pages", q, 12.4, host, 1, 2,
                      "Task failed with exception\nTraceback (most recent call last):\n"
                      '  File "/opt/airflow/dags/scrapers/tender_notices.py", line 52, in fetch_pages\n'
                      "    resp.raise_for_status()\n"
                      '  File "/home/airflow/.local/lib/python3.12/site-packages/requests/models.py", line 1024, in raise_for_status\n'
                      "    raise HTTPError(http_error_msg, response=self)\n"
                      "requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://tenders.example.eu/api/v2/notices?page=4",
                      "scrapers/tender_notices.py")
        return p.py_task("scrape_tender_notices", r, "fetch_pages", e + timedelta(minutes=2), 41.0, p.pick_worker(e), 2, 2,
                         None, "scrapers/tender_notices.py")
    quiet_rid = run_id(d("2026-05-19T02:40:00"))
    scraper(p, "scrape_tender_notices", "fetch_pages", 20, {quiet_rid: sc_429})
    rid = rid_saved
    # downstream and failed runs of the lost worker
    worker_ents = ["host:" + dead_host] + killed
    for r in p.tis:
        if r["state"] == "upstream_failed" and r["dag_run_id"] == rid:
            worker_ents.append(task_key(r["dag_id"], rid, r["task_id"]))
    for r in p.runs:
        if r["state"] == "failed":
            worker_ents.append(f"airflow:dagrun:{r['dag_id']}/{r['dag_run_id']}")
    for name in ("system.cpu.utilization", "system.memory.utilization"):
        attrs = {"service.name": "airflow-worker", "host.name": dead_host}
        if name == "system.memory.utilization":
            attrs["state"] = "used"
        worker_ents.append(metric_key(name, attrs))
    lam = {"service.name": "lambda-ingestion", "faas.name": "ingest-carrier-events", "cloud.region": "eu-west-1"}
    rows_key = metric_key("ingest.rows", {**lam, "source": "carrier_events"})
    lam_ents = [rows_key, metric_key("aws.lambda.duration", lam),
                'log:{function="ingest-carrier-events",level="info",service_name="lambda-ingestion"}']
    truth = {
        "incidents": [
            {"id": "worker-1", "start": ts(dead_at), "severity": "high",
             "root_cause_any_of": ["host:" + dead_host], "entities": worker_ents},
            {"id": "ingest-1", "start": ts(zero_at).replace(".000Z", "Z"), "severity": "high",
             "root_cause_any_of": lam_ents, "entities": lam_ents},
        ],
        "quiet": [task_key("scrape_tender_notices", quiet_rid, "fetch_pages")],
    }
    p.summary = (f"Synthetic night on the umbrella platform (12 daily DAGs, 4 Spark workers, 4 Celery workers). Incident worker-1 "
                 f"(celery_worker_lost): Celery worker host {dead_host} disappears at {ts(dead_at)} (its logs and host metrics stop); "
                 f"the 5 tries running on it (4 daily DAGs and partner_exports) stop heartbeating and the scheduler fails them ~5 min "
                 f"later (task instance heartbeat timeout); 4 recover on retry elsewhere, payments_daily.gold_payments_daily "
                 f"(no retries) fails for good. Their Spark jobs finish on their own. Incident ingest-1 (unrelated): from "
                 f"{ts(zero_at)} the Lambda ingest-carrier-events keeps running every minute but fetches 0 records (ingest.rows "
                 f"drops from ~600-3200 to 0 a minute, duration from ~1 s to ~0.1 s): the carrier feed silently stopped delivering. "
                 f"Quiet: scrape_tender_notices.fetch_pages gets a 429 once and succeeds on retry.")
    return p.build(truth)


# =====================================================================================
# 4. Spot interruption + an unrelated SQL error in a manual run
# =====================================================================================
def scenario_mix():
    start, end = d("2026-06-02T01:55:00"), d("2026-06-02T03:25:00")
    spot = "10.0.5.144"
    p = Platform("own-04-spot-and-manual-sql-error", "", start, end, 404, "soylent",
                 ["10.0.3.61", "10.0.4.17", spot, "10.0.5.212", "10.0.3.150"],
                 ["airflow-worker-1", "airflow-worker-2", "airflow-worker-3"],
                 [("ingest-orders-api", "orders_api", 1), ("ingest-leads-crm", "leads_crm", 5)])
    notice = d("2026-06-02T02:12:31.418")
    gone = notice + timedelta(minutes=2, seconds=1)
    w = p.workers[spot]
    w["states"].append([ts(gone + timedelta(seconds=61)), "DEAD"])
    p.log({"service_name": "spark-worker", "host": spot, "level": "warn"}, notice,
          f"{sparkts(notice)} WARN ec2-metadata-watcher: Spot instance interruption warning: instance i-0c51f7a9e2d41b388 will be "
          f"terminated at {ts(notice + timedelta(minutes=2))} (instance-action: terminate)")
    for k in range(5):
        tt = gone + timedelta(milliseconds=40 + 90 * k)
        p.log({"service_name": "spark-worker", "host": spot, "level": "error"}, tt,
              f"{sparkts(tt)} ERROR {'Worker' if k == 0 else 'CoarseGrainedExecutorBackend'}: RECEIVED SIGNAL TERM")
    logical = d("2026-06-02T02:00:00")
    rid = run_id(logical)
    spot_ents = ["host:" + spot, "spark:worker:" + w["id"]]
    lost_reason = "Remote RPC client disassociated. Likely due to containers exceeding thresholds, or network issues. Check driver logs for WARN messages."
    execs = list(p.exec_by_host[spot])
    for i, e in enumerate(execs):
        p.lose_executor(spot, i, gone + timedelta(seconds=3, milliseconds=15 * i), lost_reason, failed_tasks=1)
        spot_ents.append(f"spark:executor:{p.app_id}/{e['id']}")
    victims = []

    def on_spot(task_id, table, max_tries, ei, started):
        def run(path, t, host):
            t = max(t, started)
            e = execs[ei]
            dag_id = path.split("/")[-1][:-3]
            end_at = gone + timedelta(seconds=3, milliseconds=200 + 40 * ei)
            reason = lambda sid: p.lost_task(sid, spot, e["id"], "ExecutorLostFailure (executor " + e["id"] +
                                             " exited caused by one of the running tasks) Reason: " + lost_reason) + DRIVER_STACK
            end = p.sql_task(dag_id, rid, task_id, table, t, (end_at - t).total_seconds(), host, 1, max_tries, path, fail=reason)
            job = p.jobs[-1]
            lost = p.stages[-1]["failureReason"].split("most recent failure: ")[1].split("\n")[0]
            p.driver_log(end - timedelta(milliseconds=50), f"{sparkts(end)} WARN TaskSetManager: {lost}", "warn")
            p.driver_log(end - timedelta(milliseconds=45), f"{sparkts(end)} ERROR TaskSchedulerImpl: Lost executor {e['id']} on {spot}: {lost_reason}", "error")
            spot_ents.extend([task_key(dag_id, rid, task_id), f"spark:job:{p.app_id}/{job['jobId']}",
                              f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
            victims.append(dag_id)
            if max_tries == 0:
                return end, False
            t2 = end + timedelta(minutes=5, seconds=p.rng.uniform(0, 3))
            return p.sql_task(dag_id, rid, task_id, table, t2, p.rng.uniform(150, 300), p.pick_worker(t2), 2, max_tries, path), True
        return run

    overrides = {
        "customers_daily": {"silver_customers": on_spot("silver_customers", "silver.customers", 2, 0, d("2026-06-02T02:08:10"))},
        "shipments_daily": {"silver_shipments": on_spot("silver_shipments", "silver.shipments", 0, 1, d("2026-06-02T02:09:02"))},
        "invoices_daily": {"silver_invoices": on_spot("silver_invoices", "silver.invoices", 2, 2, d("2026-06-02T02:10:44"))},
        "sessions_daily": {"silver_sessions": on_spot("silver_sessions", "silver.sessions", 0, 3, d("2026-06-02T02:07:30"))},
    }

    # quiet: ops refresh hits a read timeout once at 02:45 and succeeds on retry
    qrid = run_id(d("2026-06-02T02:45:00"))

    def ops_flaky(r, q, host):
        h = "10.0.4.17"
        eid = p.exec_by_host[h][2]["id"]
        reason = lambda sid: p.lost_task(sid, h, eid, "software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP request: Read timed out") + DRIVER_STACK
        e = p.sql_task("ops_maintenance", r, "refresh_ops_metrics", "ops.platform_metrics", q, 71.0, host, 1, 2,
                       "ops/ops_maintenance.py", fail=reason)
        job = p.jobs[-1]
        quiet.extend([f"spark:job:{p.app_id}/{job['jobId']}", f"spark:stage:{p.app_id}/{job['stageIds'][-1]}"])
        return p.sql_task("ops_maintenance", r, "refresh_ops_metrics", "ops.platform_metrics", e + timedelta(minutes=1), 66.0,
                          p.pick_worker(e), 2, 2, "ops/ops_maintenance.py")
    quiet = [task_key("ops_maintenance", qrid, "refresh_ops_metrics")]

    domains = DOMAINS[:12]
    daily_dags(p, domains, logical, overrides)
    p.ops_worker(special={qrid: ops_flaky})

    # the SQL error: an analyst re-runs finance_reporting for May by hand; the model reads a table that was renamed
    fdag = "finance_reporting"
    p.dag(fdag, "0 6 1 * *", ["gold", "finance"], "analytics-eng", "reporting/finance_reporting.py")
    mq = d("2026-06-02T02:22:09.512")
    mrid = "manual__2026-06-02T02:22:09.512034+00:00"
    path = "reporting/finance_reporting.py"
    ftask = "gold_revenue_by_region"
    sql_ents = [f"airflow:dag:{fdag}", f"airflow:dagrun:{fdag}/{mrid}", task_key(fdag, mrid, ftask)]
    h = p.pick_worker(mq)
    t1 = p.sql_task(fdag, mrid, "refresh_fx_inputs", "silver.fx_inputs", mq, 95.0, h, 1, 1, path)
    err = (PYSPARK_TB.replace("pyspark.errors.exceptions.connect.SparkException", "")
           + "pyspark.errors.exceptions.connect.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view "
           "`lakehouse`.`silver`.`fx_rates_daily` cannot be found. Verify the spelling and correctness of the schema and catalog.\n"
           "If you did not qualify the name with a schema, verify the current_schema() output, or qualify the name with the correct schema and catalog.\n"
           "To tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS. SQLSTATE: 42P01; line 9 pos 7;\n"
           "'InsertIntoStatement 'UnresolvedRelation [lakehouse, gold, revenue_by_region], [], false, [month], false, false")
    tt = t1 + timedelta(seconds=2)
    first_sql = None
    for n in (1, 2):
        hh = p.pick_worker(tt)
        end = p.sql_task(fdag, mrid, ftask, "gold.revenue_by_region", tt, 4.1, hh, n, 1, path, fail=err, job=False, final_log=err)
        first_sql = first_sql or end
        tt = end + timedelta(minutes=5, seconds=p.rng.uniform(0, 2))
    p.skipped(fdag, mrid, "publish_finance_pack", end + timedelta(seconds=1), 1, "PythonOperator")
    sql_ents.append(task_key(fdag, mrid, "publish_finance_pack"))
    p.run(fdag, mrid, mq, mq, mq + timedelta(seconds=0.8), end + timedelta(seconds=2), "failed", run_type="manual")
    p.runs[-1]["triggered_by"] = "ui"

    for r in p.tis:
        if r["state"] == "upstream_failed" and r["dag_run_id"] == rid:
            spot_ents.append(task_key(r["dag_id"], rid, r["task_id"]))
    for r in p.runs:
        if r["state"] == "failed" and r["dag_run_id"] == rid:
            spot_ents.append(f"airflow:dagrun:{r['dag_id']}/{rid}")
    truth = {
        "incidents": [
            {"id": "spot-1", "start": ts(notice), "severity": "high",
             "root_cause_any_of": ["host:" + spot, "spark:worker:" + w["id"]], "entities": spot_ents},
            {"id": "sqlerr-1", "start": ts(first_sql - timedelta(seconds=4.1)), "severity": "high",
             "root_cause_any_of": [task_key(fdag, mrid, ftask), f"airflow:dag:{fdag}"], "entities": sql_ents},
        ],
        "quiet": quiet,
    }
    p.summary = (f"Synthetic night on the soylent platform (12 daily DAGs + finance_reporting, 5 Spark workers, 3 Celery "
                 f"workers). Spark Connect runs with spark.task.maxFailures=1. Incident spot-1 (spot_interruption): spot worker "
                 f"{spot} ({w['id']}) gets its interruption warning at {ts(notice)} and is terminated 2 min later; its 4 "
                 f"executors are lost, 4 running Spark jobs fail (customers, shipments, invoices, sessions); customers and "
                 f"invoices recover on retry, shipments and sessions (no retries) fail for good. Incident sqlerr-1 (unrelated, "
                 f"~10 min later): an analyst's manual run {mrid} of finance_reporting fails in gold_revenue_by_region with "
                 f"AnalysisException TABLE_OR_VIEW_NOT_FOUND (silver.fx_rates_daily was renamed) on both tries. Quiet: "
                 f"ops_maintenance.refresh_ops_metrics at 02:45 hits an S3 read timeout once and succeeds on retry.")
    return p.build(truth)


def main():
    for fn, out in ((scenario_oom, "own-01-executor-oom.json"), (scenario_s3, "own-02-s3-throttling-and-commit-conflict.json"),
                    (scenario_worker_lost, "own-03-celery-worker-lost.json"), (scenario_mix, "own-04-spot-and-manual-sql-error.json")):
        sc = fn()
        with open(os.path.join(HERE, out), "w") as f:
            json.dump(sc, f, indent=None, separators=(",", ":"))
        print(out, len(sc["airflow"]["task_instances"]), "tries,", len(sc["spark"]["applications"][0]["jobs"]), "jobs,",
              sum(len(s["entries"]) for s in sc["loki"]["streams"]), "log entries")


if __name__ == "__main__":
    main()
