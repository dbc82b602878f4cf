import type { Severity } from '../core/index.ts';

/**
 * Known failure classes of the platform (Spark on EC2/Kubernetes, Iceberg on S3, Spark Connect,
 * Airflow), recognised in one log entry. Each class says what it means for an on-call engineer
 * and carries examples that its test runs, so a pattern change that stops matching them fails.
 */
export interface ErrorClass {
  /**
   * Stable id, also `Signal.errorClass`. Where the correlator already knows the class (its
   * `FAILURE_CLASSES`, `src/logs/failure-text.ts`), the id is the same: `spot_interruption`,
   * `host_lost`, `executor_oom`, `connect_unavailable`…
   */
  readonly id: string;
  /** One line for a human. */
  readonly title: string;
  /** What it usually means and where to look first. */
  readonly meaning: string;
  /** Any of them matching an entry (all its lines) puts it in this class. */
  readonly patterns: readonly RegExp[];
  readonly severity: Severity;
  /** Entries this class must recognise (tests). */
  readonly examples: readonly string[];
}

/**
 * A pattern for `parts` in this order on one line. The gap after a part stops at any earlier
 * part, so the expression stays linear in the line's length: a plain `A[^\n]*B` is rescanned
 * from every occurrence of `A`, quadratic on a long line that repeats it (measured: a 16 KB line
 * of `Spark Connect` took 50 ms to classify). Which lines match is unchanged.
 */
function onOneLine(...parts: string[]): string {
  let out = `(?:${parts[0]})`;
  for (let i = 1; i < parts.length; i++) {
    const stops = parts
      .slice(0, i)
      .map((p) => `(?:${p})`)
      .join('|');
    out += String.raw`(?:(?!${stops})[^\n])*?(?:${parts[i]})`;
  }
  return out;
}

/** Context words that place a memory error in an executor. */
const EXECUTOR_CONTEXT = String.raw`(?:\bTID \d+|\bexecutor \d+|Executor task launch worker|CoarseGrainedExecutorBackend|Executor: Exception in task|ExecutorLostFailure|executor\.Executor)`;
/** Context words that place a memory error in the driver. */
const DRIVER_CONTEXT = String.raw`(?:\bdriver\b|SparkContext|DAGScheduler|dag-scheduler-event-loop|spark-listener-group|Exception in thread "main"|SparkConnectService|\.collect\(|maxResultSize)`;
const OOM = '(?:OutOfMemoryError|GC overhead limit exceeded)';
/** An executor's exit with Spark's out-of-memory code, as the cluster manager reports it. */
const EXIT_52 = String.raw`\bexit(?:ed)?(?: with)? (?:exit )?(?:code|status)[:= ]*52\b`;

/**
 * In priority order: the first class with a matching pattern wins, so specific classes come
 * before the generic ones they overlap with (an executor OOM before any OOM, a spot interruption
 * before the decommission and the SIGTERM it causes, an executor loss and a timeout last).
 */
export const ERROR_CLASSES: readonly ErrorClass[] = [
  {
    id: 'executor_oom',
    title: 'Spark executor out of memory',
    meaning:
      'A task ran an executor JVM out of heap (skewed partition, large broadcast or collect into a task, too little spark.executor.memory). The task is retried elsewhere; repeated, the stage and job fail.',
    patterns: [
      new RegExp(String.raw`^(?=[\s\S]*${OOM})(?=[\s\S]*${EXECUTOR_CONTEXT})`),
      // 52 is Spark's exit code for an executor JVM that died of OutOfMemoryError (SparkExitCode.OOM).
      new RegExp(String.raw`^(?=[\s\S]*${EXIT_52})(?=[\s\S]*${EXECUTOR_CONTEXT})`),
    ],
    severity: 'high',
    examples: [
      '26/04/07 02:11:03 WARN TaskSetManager: Lost task 7.0 in stage 3.0 (TID 12) (10.0.4.57 executor 2): ExecutorLostFailure (executor 2 exited caused by one of the running tasks) Reason: Command exited with code 52',
      '26/04/07 02:11:03 ERROR TaskSchedulerImpl: Lost executor 2 on 10.0.4.57: Command exited with code 52',
      '26/03/04 02:01:11 ERROR Executor: Exception in task 3.0 in stage 12.0 (TID 481)\njava.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)',
      '26/03/04 02:01:12 WARN TaskSetManager: Lost task 3.0 in stage 12.0 (TID 481) (10.0.3.17 executor 7): java.lang.OutOfMemoryError: GC overhead limit exceeded',
      'ERROR SparkUncaughtExceptionHandler: Uncaught exception in thread Thread[Executor task launch worker for task 12.0 in stage 4.0 (TID 99),5,main] java.lang.OutOfMemoryError: Java heap space',
    ],
  },
  {
    id: 'driver_oom',
    title: 'Spark driver out of memory',
    meaning:
      'The driver JVM ran out of heap (collect/toPandas of a large result, huge query plans or task binaries, too many partitions tracked). The SparkContext usually shuts down: every job of the application fails, and a Spark Connect server goes away with it.',
    patterns: [
      new RegExp(String.raw`^(?=[\s\S]*${OOM})(?=[\s\S]*${DRIVER_CONTEXT})`),
      /Total size of serialized results of \d+ tasks \([^)]*\) is bigger than (?:spark\.driver\.)?maxResultSize/,
    ],
    severity: 'critical',
    examples: [
      '26/06/16 02:17:53 ERROR DAGSchedulerEventProcessLoop: DAGSchedulerEventProcessLoop failed; shutting down SparkContext\njava.lang.OutOfMemoryError: Java heap space\n\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)',
      'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
      'org.apache.spark.SparkException: Job aborted due to stage failure: Total size of serialized results of 412 tasks (1024.3 MiB) is bigger than spark.driver.maxResultSize (1024.0 MiB)',
    ],
  },
  {
    id: 'jvm_oom',
    title: 'JVM out of memory',
    meaning:
      'A JVM ran out of memory and the entry does not say which process: look at the stream (driver, executor, worker) and its memory settings.',
    patterns: [/OutOfMemoryError|GC overhead limit exceeded|unable to create (?:new )?native thread/],
    severity: 'high',
    examples: [
      'java.lang.OutOfMemoryError: Java heap space',
      'Caused by: java.lang.OutOfMemoryError: Direct buffer memory',
      'java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached',
    ],
  },
  {
    id: 'spot_interruption',
    title: 'Spot interruption',
    meaning:
      'EC2 is reclaiming a spot instance (a two-minute instance-action notice). Everything on that host goes: executors and their shuffle files, a Spark worker, Airflow tasks running there. Not a code problem; expect executor losses and fetch failures on that host next.',
    patterns: [
      /\bspot[- ](?:instance[- ])?interruption\b/i,
      /\binstance-action notice\b/i,
      /\binstance \S+ will be reclaimed\b|\bbeing reclaimed\b/i,
    ],
    severity: 'high',
    examples: [
      '26/03/04 02:00:41 WARN spot-interruption-handler: EC2 instance-action notice received: {"action": "terminate", "time": "2026-03-04T02:02:41Z"}; instance i-0ad3b4 will be reclaimed',
      'INFO TaskSchedulerImpl: Executor 37 on 10.0.3.17 is decommissioned after spot instance interruption',
      'WARN node-termination-handler: spot interruption notice for ip-10-0-3-17.ec2.internal, draining node',
    ],
  },
  {
    id: 'executor_decommission',
    title: 'Executor decommissioned',
    meaning:
      'An executor or worker is being decommissioned (graceful shutdown: a node drain, scale-down or preemption). Its tasks rerun elsewhere and shuffle files may be lost. Not a code problem.',
    patterns: [
      /\bdecommission(?:ed|ing)\b|Executor ?decommission\b/i,
      /\bnode (?:is )?(?:being )?(?:drained|preempted)\b/i,
    ],
    severity: 'high',
    examples: [
      'ERROR TaskSchedulerImpl: Lost executor 12 on 10.0.2.9: Executor decommission: worker decommissioned.',
      'INFO CoarseGrainedExecutorBackend: Decommissioning self w/ sync=false',
      'WARN KubernetesClusterSchedulerBackend: node is being drained, executor 5 will be removed',
    ],
  },
  {
    id: 'executor_heartbeat_timeout',
    title: 'Spark executor heartbeat timed out',
    meaning:
      'The driver stopped hearing from an executor (long GC pause, a host that froze or lost network, an overloaded node). The executor is removed and its tasks rerun.',
    patterns: [
      /Executor heartbeat timed out/i,
      /Removing executor \S+ with no recent heartbeats/i,
      /\bheartbeat(?:s)? (?:to the driver )?timed out after \d+ ?ms\b/i,
    ],
    severity: 'high',
    examples: [
      'ERROR TaskSchedulerImpl: Lost executor 4 on 10.0.1.7: Executor heartbeat timed out after 125631 ms',
      'WARN HeartbeatReceiver: Removing executor 4 with no recent heartbeats: 125631 ms exceeds timeout 120000 ms',
    ],
  },
  {
    id: 'fetch_failed',
    title: 'Shuffle fetch failed (shuffle data lost)',
    meaning:
      'Reducers could not read map output: the executor or node holding the shuffle files is gone (spot loss, OOM kill) or unreachable. Spark resubmits the parent stage; repeated, the job fails.',
    patterns: [
      /FetchFailed(?:Exception)?\b/,
      /MetadataFetchFailedException/,
      /Missing an output location for shuffle/i,
      /Failed to (?:fetch|get) (?:shuffle )?block(?:\(s\))?/i,
    ],
    severity: 'high',
    examples: [
      'WARN TaskSetManager: Lost task 7.0 in stage 31.1 (TID 912) (10.0.2.4 executor 3): FetchFailed(BlockManagerId(12, 10.0.3.17, 7337, None), shuffleId=4, mapIndex=17, mapId=288, reduceId=7, message=',
      'org.apache.spark.shuffle.MetadataFetchFailedException: Missing an output location for shuffle 4 partition 7',
      'ERROR RetryingBlockTransferor: Exception while beginning fetch of 3 outstanding blocks; org.apache.spark.shuffle.FetchFailedException: Failed to connect to /10.0.3.17:7337',
    ],
  },
  {
    id: 's3_throttling',
    title: 'S3 throttling (503 SlowDown)',
    meaning:
      'S3 is rejecting requests to one prefix because of the request rate (many small files, too many concurrent writers or listings). Requests are retried with backoff: jobs slow down, and fail once retries are exhausted.',
    patterns: [
      /\bSlow ?Down\b/,
      /Please reduce your request rate/i,
      new RegExp(onOneLine('Status Code: 503', 'S3|Amazon'), 'i'),
      new RegExp(onOneLine('S3|Amazon', 'Status Code: 503'), 'i'),
    ],
    severity: 'high',
    examples: [
      'software.amazon.awssdk.services.s3.model.S3Exception: Please reduce your request rate. (Service: S3, Status Code: 503, Request ID: 7Q1F2ZJ9)',
      'com.amazonaws.services.s3.model.AmazonS3Exception: Slow Down (Service: Amazon S3; Status Code: 503; Error Code: SlowDown; Request ID: 2B4D)',
      'WARN S3FileIO: Retrying PUT s3://lake/warehouse/orders/data/part-0.parquet after 503 SlowDown',
    ],
  },
  {
    id: 'iceberg_commit_conflict',
    title: 'Iceberg commit conflict',
    meaning:
      'Two writers committed to the same Iceberg table at once and this commit lost (concurrent jobs or retried tasks on one table). Usually retried automatically; if it fails the run, serialise the writers or raise commit.retry.num-retries.',
    patterns: [
      /CommitFailedException/,
      new RegExp(onOneLine('Cannot commit', 'changed|out of date|not the same|conflict'), 'i'),
      /Found conflicting (?:files|deletes|delete files)/i,
    ],
    severity: 'high',
    examples: [
      "org.apache.iceberg.exceptions.CommitFailedException: Cannot commit glue.silver.orders because base metadata location 's3://lake/silver/orders/metadata/00041.metadata.json' is not same as the current Glue location",
      'org.apache.iceberg.exceptions.ValidationException: Found conflicting files that can contain records matching true: [s3://lake/silver/orders/data/00001.parquet]',
      'ERROR SparkWrite: Cannot commit: branch main has changed since the write started',
    ],
  },
  {
    id: 'catalog_unavailable',
    title: 'Table catalog unavailable or throttling (Glue, Hive metastore, Iceberg REST)',
    meaning:
      'The metadata catalog that resolves and commits tables refuses, throttles or times out: every job that loads or commits a table through it fails at once, whatever its SQL. Look at the catalog service (its connections, its request rate, its quota), not at the jobs.',
    patterns: [
      /Could not connect to meta ?store/i,
      /SessionHiveMetaStoreClient|MetaException\(message:/,
      /ServiceUnavailableException/,
      /(?:Service: Glue|GlueException|glue\.model)[^\n]*(?:Rate exceeded|Throttl)|Throttl[^\n]*(?:Service: Glue|GlueException)/,
    ],
    severity: 'high',
    examples: [
      'MetaException(message:Could not connect to meta store using any of the URIs provided. Most recent failure: org.apache.thrift.transport.TTransportException: java.net.ConnectException: Connection refused (Connection refused))',
      'org.apache.iceberg.exceptions.ServiceUnavailableException: Service unavailable: 503 Service Unavailable',
      'software.amazon.awssdk.services.glue.model.GlueException: Rate exceeded (Service: Glue, Status Code: 400, Request ID: 5f1c) ThrottlingException',
    ],
  },
  {
    id: 'connect_unavailable',
    title: 'Spark Connect unavailable',
    meaning:
      'Clients cannot reach the Spark Connect server (gRPC UNAVAILABLE, connection refused): the server or its driver is down or restarting. Every Airflow task that submits through Connect fails until it is back.',
    patterns: [
      /StatusCode\.UNAVAILABLE/,
      /StatusRuntimeException: UNAVAILABLE/,
      /failed to connect to all addresses/i,
      new RegExp(onOneLine('Spark ?Connect|sc://', 'Connection refused|failed to connect|unavailable'), 'i'),
    ],
    severity: 'critical',
    examples: [
      'pyspark.errors.exceptions.connect.SparkConnectGrpcException: <_MultiThreadedRendezvous of RPC that terminated with:\n\tstatus = StatusCode.UNAVAILABLE\n\tdetails = "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.16:15002: Failed to connect to remote host: Connection refused"',
      'io.grpc.StatusRuntimeException: UNAVAILABLE: io exception',
      '[2026-03-02T02:11:05.118+0000] {spark_submit.py:88} ERROR - Spark Connect server sc://spark-connect:15002 is unavailable: Connection refused',
    ],
  },
  {
    id: 'connect_jobs_cancelled',
    title: 'Spark jobs cancelled (SparkContext shut down)',
    meaning:
      'Running jobs were cancelled because their SparkContext stopped: the driver (or the Spark Connect server) died or was restarted. Every job in flight fails at once; look for the driver failure.',
    patterns: [
      /cancelled as part of cancellation of all jobs/i,
      /SparkContext (?:was shut down|has been shut ?down|is stopped)/i,
    ],
    severity: 'high',
    examples: [
      'org.apache.spark.SparkException: Job 57812 cancelled as part of cancellation of all jobs',
      'java.lang.IllegalStateException: SparkContext has been shutdown',
    ],
  },
  {
    id: 'name_resolution',
    title: 'Name resolution failed (DNS)',
    meaning:
      'A client could not resolve the name of the service it calls: the DNS record was removed or changed, the resolver is failing, or the name is wrong. Every caller of that name fails until it resolves again; look at the DNS record and resolver of the name in the error, not at the jobs.',
    patterns: [
      /UnknownHostException/,
      /Name or service not known/i,
      /Temporary failure in name resolution/i,
      /nodename nor servname provided/i,
      /\bNameResolutionError\b|Failed to resolve '/,
      /Could not resolve host/i,
      /\bgetaddrinfo (?:ENOTFOUND|EAI_AGAIN)\b/,
    ],
    severity: 'high',
    examples: [
      'Caused by: java.net.UnknownHostException: iceberg-rest.acme.internal: Name or service not known',
      'software.amazon.awssdk.core.exception.SdkClientException: Received an UnknownHostException when attempting to interact with a service.',
      "urllib3.exceptions.NameResolutionError: <urllib3.connection.HTTPSConnection object at 0x7f>: Failed to resolve 'api.partner.example' ([Errno -3] Temporary failure in name resolution)",
      'curl: (6) Could not resolve host: api.partner.example',
    ],
  },
  {
    id: 'database_unavailable',
    title: 'Database refusing connections (slots or pool exhausted)',
    meaning:
      'A database has no connection left to give (max_connections reached, a client pool exhausted) or refuses connections: everything that needs it fails at once, on every host. Look at the database (its connection count, who holds the connections), not at the callers.',
    patterns: [
      /too many clients already/i,
      /remaining connection slots are reserved/i,
      /\bToo many connections\b/,
      /QueuePool limit of size \d+ overflow \d+ reached/,
      /connection to server at "[^"]+"[^\n]*failed/i,
      /could not connect to server: Connection refused/i,
    ],
    severity: 'critical',
    examples: [
      '2026-07-14 02:05:31.120 UTC [4711] FATAL:  sorry, too many clients already',
      'psycopg2.OperationalError: connection to server at "airflow-db" (10.0.0.21), port 5432 failed: FATAL:  remaining connection slots are reserved for non-replication superuser connections',
      'sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00 (Background on this error at: https://sqlalche.me/e/20/3o7r)',
      "pymysql.err.OperationalError: (1040, 'Too many connections')",
    ],
  },
  {
    id: 'encryption_key_unavailable',
    title: 'Encryption key disabled or unusable (KMS)',
    meaning:
      'The KMS key that encrypts the data is disabled, pending deletion or not usable by the caller: every read and write of what it protects fails, whoever the caller. Look at the key (its state, its policy, a recent change in CloudTrail), not at the jobs.',
    patterns: [
      /\bKMS\.(?:DisabledException|KMSInvalidStateException|NotFoundException)\b/,
      /\b(?:kms\.model\.)?(?:DisabledException|KMSInvalidStateException)\b/,
      /arn:aws:kms:[^\s]+ is (?:disabled|pending deletion)/,
      /ciphertext refers to a customer master key that does not exist/i,
    ],
    severity: 'critical',
    examples: [
      'S3Exception: arn:aws:kms:eu-west-1:123456789012:key/1f0e is disabled. (Service: S3, Status Code: 400, Request ID: 7Q1F) [Error Code: KMS.DisabledException]',
      'An error occurred (KMS.KMSInvalidStateException) when calling the GetObject operation: arn:aws:kms:eu-west-1:123456789012:key/1f0e is pending deletion.',
      'An error occurred (AccessDenied) when calling the GetObject operation: The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.',
    ],
  },
  {
    id: 'disk_full',
    title: 'Disk full (No space left on device)',
    meaning:
      'A write failed because the filesystem it writes to is full: shuffle or spill files on a Spark worker, task logs or temporary files on an Airflow worker. Everything that writes there fails until space is freed; look at the host, not at the jobs.',
    patterns: [/No space left on device/i, /\bENOSPC\b/, /\[Errno 28\]|OSError\(28,/],
    severity: 'high',
    examples: [
      'java.io.IOException: No space left on device\n\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)',
      "OSError: [Errno 28] No space left on device: '/opt/airflow/logs/dag_id=orders_daily/attempt=1.log'",
      "Unrecoverable error: OSError(28, 'No space left on device')",
    ],
  },
  {
    id: 'disk_io_error',
    title: 'Disk I/O errors (failing disk)',
    meaning:
      'The kernel or a process reports I/O errors reading or writing a block device: the disk (or its volume) is failing. Everything that reads or writes it on that host fails, including the shuffle files and logs other hosts fetch from it; look at the host and its disk, not at the jobs.',
    patterns: [
      /\bblk_update_request: (?:critical )?(?:I\/O|medium) error\b/,
      /\bBuffer I\/O error on dev(?:ice)?\b/,
      /\bEXT4-fs error\b|\bXFS \([\w-]+\): metadata I\/O error\b/,
      /\bI\/O error, dev \w+, sector \d+/,
    ],
    severity: 'high',
    examples: [
      'blk_update_request: I/O error, dev nvme1n1, sector 73402 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 0',
      'Buffer I/O error on dev nvme1n1p1, logical block 9175, async page read',
      'EXT4-fs error (device xvdb1): ext4_find_entry:1455: inode #2: comm java: reading directory lblock 0',
    ],
  },
  {
    id: 'function_timeout',
    title: 'Function timed out (Lambda)',
    meaning:
      'A serverless function ran into its configured timeout and was stopped: what it calls (an upstream API, a database) is slow or hanging. Nothing it should have written was written.',
    patterns: [/\bTask timed out after \d+(?:\.\d+)? seconds\b/],
    severity: 'high',
    examples: [
      '2026-03-02T02:11:05.118Z 5f3c1a9e Task timed out after 60.00 seconds',
      '2024-01-15T10:30:00.000Z abc123 Task timed out after 900.00 seconds',
    ],
  },
  {
    id: 'upstream_unreachable',
    title: 'Upstream unreachable (connection refused)',
    meaning:
      'A client could not open a connection to the service it calls (connection refused, no route, DNS): the service is down or its address changed. Its callers fail until it is back.',
    patterns: [/Failed to establish a new connection/i, /\bMax retries exceeded with url\b/],
    severity: 'high',
    examples: [
      "ConnectionError: HTTPSConnectionPool(host='api.partner.example', port=443): Max retries exceeded with url: /v2/orders (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object>: Failed to establish a new connection: [Errno 111] Connection refused'))",
      'urllib3.exceptions.NewConnectionError: <urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused',
    ],
  },
  {
    id: 'sql_analysis_error',
    title: 'Spark SQL analysis error (missing column or table)',
    meaning:
      'The query does not match the schema: a column or table it names does not exist (a model change, an upstream schema change, a renamed table). Retrying will not help; the SQL or the upstream must change.',
    patterns: [
      /AnalysisException/,
      /\[(?:UNRESOLVED_COLUMN|TABLE_OR_VIEW_NOT_FOUND|UNRESOLVED_ROUTINE|UNRESOLVED_ATTRIBUTE|FIELD_NOT_FOUND)\b/,
      /cannot resolve '[^']*' given input columns/i,
      /Table or view not found/i,
    ],
    severity: 'high',
    examples: [
      'pyspark.errors.exceptions.connect.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `order_total` cannot be resolved. Did you mean one of the following? [`order_amount`, `order_id`].',
      '[TABLE_OR_VIEW_NOT_FOUND] The table or view `silver`.`customers_v2` cannot be found. Verify the spelling and correctness of the schema and catalog.',
      "org.apache.spark.sql.AnalysisException: cannot resolve 'discount' given input columns: [id, amount, ts]",
    ],
  },
  {
    id: 'airflow_task_killed',
    title: 'Airflow task killed (SIGKILL, heartbeat timeout, zombie)',
    meaning:
      'The task process was killed from outside or stopped heartbeating: the worker ran out of memory (SIGKILL, -9), the pod or worker was evicted, or the scheduler declared it a zombie. Look at the worker host first, not the task code.',
    patterns: [
      /Negsignal\.SIGKILL/,
      /Task exited with return code (?:-9|137)\b/i,
      /\bzombie\b/i,
      new RegExp(onOneLine('task instance', 'heartbeat', 'timed out|timeout|exceeded|missing|without'), 'i'),
      new RegExp(onOneLine('heartbeat (?:timeout|timed out)', 'task instance'), 'i'),
      /\bkilled externally\b/i,
      /Received SIGTERM\. Terminating subprocesses/,
    ],
    severity: 'high',
    examples: [
      '[2026-03-02T02:14:07.201+0000] {local_task_job_runner.py:211} INFO - Task exited with return code Negsignal.SIGKILL',
      '[2026-03-02T02:20:00.001+0000] {scheduler_job_runner.py:1741} ERROR - Detected zombie job: {"DAG Id": "silver_orders", "Task Id": "transform_orders"}',
      'ERROR - Executor reports task instance <TaskInstance: silver_orders.transform_orders scheduled__2026-03-02T02:00:00+00:00 [queued]> finished (failed) although the task says it is queued. Was the task killed externally?',
      'WARNING - Task instance silver_orders.transform_orders heartbeat timed out after 300 s; marking failed',
    ],
  },
  {
    id: 'task_timeout',
    title: 'Airflow task timed out',
    meaning:
      'The task ran longer than its execution_timeout and Airflow stopped it: the work got slower (data volume, a slow upstream, a stuck query) or the timeout is too tight.',
    patterns: [/AirflowTaskTimeout/, /\bTimeout, PID: \d+/],
    severity: 'high',
    examples: [
      'airflow.exceptions.AirflowTaskTimeout: Timeout, PID: 4242',
      '[2026-03-02T03:00:00.000+0000] {taskinstance.py:2905} ERROR - Task failed with exception AirflowTaskTimeout',
    ],
  },
  {
    id: 'container_killed',
    title: 'Process killed (SIGKILL/SIGTERM, exit 137/143)',
    meaning:
      'A container or JVM was killed: exit 137 is SIGKILL (usually the OOM killer or a memory limit), exit 143 is SIGTERM (a shutdown: scale-down, eviction, spot reclaim). Check the memory limit and the node events.',
    patterns: [
      /\bOOMKilled\b/,
      /exit(?:ed)?(?: with)?(?: a non-zero)? (?:exit )?(?:code|status)(?: is)?[:= ]*(?:137|143)\b/i,
      /killed by (?:YARN|the OOM killer|oom[-_ ]?killer)/i,
      /exceeding (?:physical )?memory limits/i,
      /RECEIVED SIGNAL (?:TERM|KILL)\b/,
    ],
    severity: 'high',
    examples: [
      'Container killed on request. Exit code is 137',
      'ERROR YarnScheduler: Lost executor 3 on ip-10-0-1-7: Container marked as failed: container_1700000000000_0001_01_000004 on host: ip-10-0-1-7. Exit status: 143. Diagnostics: Container killed on request.',
      'Reason: OOMKilled (exit code 137)',
      '26/03/04 02:02:41 ERROR CoarseGrainedExecutorBackend: RECEIVED SIGNAL TERM',
    ],
  },
  {
    id: 'dag_import_error',
    title: 'Python import error (broken DAG or missing module)',
    meaning:
      'A DAG file or a task cannot import its code: a missing package in the image, a renamed module, a syntax error. The DAG disappears from the scheduler or every run of the task fails at start-up.',
    patterns: [
      /ModuleNotFoundError: No module named/,
      /\bImportError: /,
      /\bBroken DAG\b/,
      /\bFailed to import: /,
      /\bDAG import errors?\b/i,
    ],
    severity: 'high',
    examples: [
      "ModuleNotFoundError: No module named 'great_expectations'",
      "ImportError: cannot import name 'SparkConnectOperator' from 'airflow.providers.apache.spark.operators.spark_connect'",
      'Broken DAG: [/opt/airflow/dags/silver_orders.py] Traceback (most recent call last):',
      '[2026-03-02T02:00:01.000+0000] {dagbag.py:353} ERROR - Failed to import: /opt/airflow/dags/gold_revenue.py',
    ],
  },
  {
    id: 'upstream_api_auth',
    title: 'Upstream API rejected credentials (401/403)',
    meaning:
      'An upstream API or S3 refused the request as unauthenticated or forbidden: an expired or rotated token, a revoked key, a changed IAM policy. Retrying will not help until the credentials are fixed.',
    patterns: [
      /\b(?:401|403) (?:Client Error|Unauthorized|Forbidden)\b/i,
      /\b(?:HTTP(?:\/\d(?:\.\d)?)?|status(?: code)?|response(?: code)?|returned)[: =]*(?:401|403)\b/i,
      /\b(?:Unauthorized|Forbidden) for url\b/i,
      /\bAccessDenied\b|\bAccess Denied\b/,
    ],
    severity: 'high',
    examples: [
      'requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.partner.example/v2/invoices?page=3',
      'ERROR - Fetch failed: HTTP 403 from https://crm.example.com/api/export',
      'software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, Status Code: 403, Request ID: X1)',
    ],
  },
  {
    id: 'upstream_api_rate_limited',
    title: 'Upstream API rate limit (429)',
    meaning:
      'An upstream API is throttling us (429 Too Many Requests, a quota). Calls back off and retry: ingestion slows down, and fails if the quota stays exhausted.',
    patterns: [
      new RegExp(onOneLine(String.raw`\b429\b`, 'Too Many Requests|rate'), 'i'),
      /\bToo Many Requests\b/i,
      /\b(?:HTTP(?:\/\d(?:\.\d)?)?|status(?: code)?|response(?: code)?)[: =]*429\b/i,
      /\brate limit(?:ed| exceeded)\b/i,
      /\bThrottlingException\b|\bRate exceeded\b/,
    ],
    severity: 'low',
    examples: [
      'requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://api.partner.example/v2/orders',
      'WARN - upstream returned status 429, retrying in 30 s',
      'botocore.exceptions.ClientError: An error occurred (ThrottlingException) when calling the GetTable operation: Rate exceeded',
    ],
  },
  {
    id: 'host_lost',
    title: 'Spark executor lost',
    meaning:
      'An executor went away without a more specific cause in this entry (container killed, host lost, network). Its tasks rerun; look for a decommission, OOM or kill of the same executor or host.',
    patterns: [/ExecutorLostFailure/, /\bLost executor \S+ on\b/, /Remote RPC client disassociated/],
    severity: 'low',
    examples: [
      '26/01/12 02:04:26 WARN TaskSetManager: Lost task 47.0 in stage 43646.0 (TID 3239864) (10.0.3.196 executor 59): ExecutorLostFailure (executor 59 exited caused by one of the running tasks) Reason: Remote RPC client disassociated.',
      '26/01/12 02:04:26 ERROR TaskSchedulerImpl: Lost executor 59 on 10.0.3.196: Remote RPC client disassociated. Likely due to containers exceeding thresholds, or network issues.',
    ],
  },
  {
    id: 'network_timeout',
    title: 'Network timeout',
    meaning:
      'A connection or read timed out (S3, an upstream API, another node). Usually retried; many at once point at the network or an overloaded endpoint.',
    patterns: [/\bRead timed out\b|\bconnect timed out\b|SocketTimeoutException|\bConnection reset\b/i],
    severity: 'low',
    examples: [
      '26/01/16 02:04:08 WARN TaskSetManager: Lost task 182.0 in stage 45890.0 (TID 4000697) (10.0.4.94 executor 28): software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP request: Read timed out',
      'java.net.SocketTimeoutException: connect timed out',
    ],
  },
];

/**
 * One pass over the entry for all classes at once: most entries match nothing, and then they
 * cost one regular-expression scan. (Case-insensitive, so it accepts a superset; the classes'
 * own patterns decide.)
 */
const PREFILTER = new RegExp(
  ERROR_CLASSES.flatMap((c) => c.patterns.map((p) => `(?:${p.source})`)).join('|'),
  'i',
);

/** Entries longer than this are classified on their first part only. */
const MAX_CLASSIFIED_LENGTH = 16_384;

/** The known failure class of a log entry (all its lines), or null. */
export function classify(entry: string): ErrorClass | null {
  const text = entry.length > MAX_CLASSIFIED_LENGTH ? entry.slice(0, MAX_CLASSIFIED_LENGTH) : entry;
  if (!PREFILTER.test(text)) return null;
  for (const c of ERROR_CLASSES) {
    for (const p of c.patterns) if (p.test(text)) return c;
  }
  return null;
}

/** A class by id. */
export function errorClass(id: string): ErrorClass | undefined {
  return ERROR_CLASSES.find((c) => c.id === id);
}

/**
 * A memory error whose entry does not say which JVM it was (`jvm_oom`), placed by what emits the
 * stream: a driver's log makes it `driver_oom`, an executor's or a worker's `executor_oom`.
 * `source` is what names the emitter, e.g. the stream's `service_name`, `container` or `pod`.
 */
export function placeByProcess(cls: ErrorClass, source: string): ErrorClass {
  if (cls.id !== 'jvm_oom') return cls;
  const id = /driver/i.test(source) ? 'driver_oom' : /executor|worker/i.test(source) ? 'executor_oom' : null;
  return (id && errorClass(id)) || cls;
}
