import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { Clock } from '../core/index.ts';

/** The `spark` section of a scenario (`../shared/scenarios/FORMAT.md`). */
export interface SparkScenario {
  master?: {
    url: string;
    workers: {
      id: string;
      host: string;
      port?: number;
      cores?: number;
      memory?: number;
      states: [string, string][];
    }[];
  };
  connect?: { endpoint: string; up: [string, boolean][] };
  applications?: {
    id: string;
    name: string;
    start: string;
    end: string | null;
    jobs?: (Record<string, unknown> & {
      jobId: number;
      status: string;
      submissionTime: string;
      completionTime?: string | null;
    })[];
    stages?: (Record<string, unknown> & {
      stageId: number;
      attemptId?: number;
      status: string;
      submissionTime?: string;
      completionTime?: string | null;
    })[];
    executors?: (Record<string, unknown> & {
      id: string;
      hostPort: string;
      addTime: string;
      removeTime?: string | null;
      removeReason?: string | null;
    })[];
  }[];
}

const t = (s: string | null | undefined) => (s ? Date.parse(s) : Number.NaN);
/** Spark's REST time format: `2026-03-02T02:11:05.120GMT`. */
const sparkTime = (ms: number) => new Date(ms).toISOString().replace('Z', 'GMT');

/**
 * Stand-ins for a Spark standalone master (`/json/`) and the Spark Connect application's
 * monitoring API (`/api/v1`), serving a scenario as of the clock's now by FORMAT.md's rules (jobs
 * RUNNING from submission, final at completion; stages ACTIVE then final; executors removed at
 * their removeTime; counters only once complete; workers through their state timeline). While the
 * scenario says Spark Connect is down, the driver UI and the Connect port refuse connections,
 * while the master keeps answering.
 */
export async function startSparkStandIn(options: { scenario: SparkScenario; clock: Clock }): Promise<{
  masterUrl: string;
  driverUrl: string;
  connectEndpoint: string;
  close(): Promise<void>;
}> {
  const sc = options.scenario;
  const connectUp = (now: number) => {
    let up = true;
    for (const [at, v] of sc.connect?.up ?? []) if (t(at) <= now) up = v;
    return up;
  };

  const master = createServer((req, res) => {
    const now = options.clock.now();
    void syncConnectPort(now);
    if ((req.url ?? '').split('?')[0] !== '/json/' && req.url !== '/json') return html404(res, req.url ?? '');
    const workers = (sc.master?.workers ?? [])
      .map((w) => {
        let state: string | undefined;
        for (const [at, s] of w.states) if (t(at) <= now) state = s;
        return state === undefined ? undefined : { w, state };
      })
      .filter((x) => x !== undefined);
    const alive = workers.filter((x) => x.state === 'ALIVE');
    const apps = (sc.applications ?? []).filter((a) => t(a.start) <= now);
    const running = (a: (typeof apps)[number]) => !(a.end && t(a.end) <= now);
    // The cores the master granted an application: those of its executors running now.
    const granted = (a: (typeof apps)[number], host?: string) =>
      running(a)
        ? (a.executors ?? [])
            .filter(
              (e) =>
                e.id !== 'driver' &&
                t(e.addTime) <= now &&
                !(t(e.removeTime) <= now) &&
                (host === undefined || e.hostPort.replace(/:\d+$/, '') === host),
            )
            .reduce((n, e) => n + (typeof e.totalCores === 'number' ? e.totalCores : 1), 0)
        : 0;
    const used = (host?: string) => apps.reduce((n, a) => n + granted(a, host), 0);
    const appJson = (a: (typeof apps)[number]) => ({
      id: a.id,
      starttime: t(a.start),
      name: a.name,
      cores: granted(a),
      user: 'spark',
      memoryperexecutor: 1024,
      memoryperslave: 1024,
      resourcesperslave: [],
      resourcesperexecutor: [],
      submitdate: new Date(t(a.start)).toString(),
      state: a.end && t(a.end) <= now ? 'FINISHED' : 'RUNNING',
      duration: (a.end && t(a.end) <= now ? t(a.end) : now) - t(a.start),
    });
    json(res, {
      url: sc.master?.url ?? 'spark://127.0.0.1:7077',
      workers: workers.map(({ w, state }) => ({
        id: w.id,
        host: w.host,
        port: w.port ?? 7078,
        webuiaddress: `http://${w.host}:8081`,
        cores: w.cores ?? 0,
        coresused: state === 'ALIVE' ? used(w.host) : 0,
        coresfree: state === 'ALIVE' ? Math.max(0, (w.cores ?? 0) - used(w.host)) : 0,
        memory: w.memory ?? 0,
        memoryused: 0,
        memoryfree: w.memory ?? 0,
        resources: {},
        resourcesused: {},
        resourcesfree: {},
        state,
        lastheartbeat: now,
      })),
      aliveworkers: alive.length,
      cores: alive.reduce((n, x) => n + (x.w.cores ?? 0), 0),
      coresused: alive.reduce((n, x) => n + used(x.w.host), 0),
      memory: alive.reduce((n, x) => n + (x.w.memory ?? 0), 0),
      memoryused: 0,
      resources: [],
      resourcesused: [],
      activeapps: apps.filter(running).map(appJson),
      completedapps: apps.filter((a) => !running(a)).map(appJson),
      activedrivers: [],
      completeddrivers: [],
      status: 'ALIVE',
    });
  });

  const driver = createServer((req, res) => {
    const now = options.clock.now();
    if (!connectUp(now)) {
      // The driver is down with the Connect server: nothing answers on its port.
      req.socket.destroy();
      return;
    }
    const u = new URL(req.url ?? '/', 'http://driver');
    const m = /^\/api\/v1\/applications(?:\/([^/]+)(?:\/(jobs|stages|allexecutors|executors))?)?\/?$/.exec(
      u.pathname,
    );
    if (!m) return html404(res, u.pathname);
    const apps = (sc.applications ?? []).filter((a) => t(a.start) <= now && !(a.end && t(a.end) <= now));
    if (!m[1]) {
      return json(
        res,
        apps.map((a) => ({
          id: a.id,
          name: a.name,
          attempts: [
            {
              startTime: sparkTime(t(a.start)),
              endTime: '1969-12-31T23:59:59.999GMT',
              lastUpdated: sparkTime(now),
              duration: (a.end && t(a.end) <= now ? t(a.end) : now) - t(a.start),
              sparkUser: 'spark',
              completed: false,
              appSparkVersion: '4.0.1',
              startTimeEpoch: t(a.start),
              endTimeEpoch: -1,
              lastUpdatedEpoch: now,
            },
          ],
        })),
      );
    }
    const app = apps.find((a) => a.id === decodeURIComponent(m[1]!));
    if (!app) return html404(res, u.pathname);
    if (m[2] === 'jobs') {
      const status = u.searchParams.getAll('status').map((s) => s.toUpperCase());
      const jobs = (app.jobs ?? [])
        .filter((j) => t(j.submissionTime) <= now)
        .map((j) => {
          const done = t(j.completionTime) <= now;
          return {
            ...zeroCounters(j, done),
            jobId: j.jobId,
            name: j.name ?? '',
            description: j.description ?? j.name ?? '',
            submissionTime: sparkTime(t(j.submissionTime)),
            ...(done ? { completionTime: sparkTime(t(j.completionTime)) } : {}),
            stageIds: j.stageIds ?? [],
            ...(j.jobGroup ? { jobGroup: j.jobGroup } : {}),
            killedTasksSummary: {},
            jobTags: j.jobTags ?? [],
            status: done ? j.status : 'RUNNING',
          };
        })
        .filter((j) => status.length === 0 || status.includes(j.status))
        .sort((a, b) => b.jobId - a.jobId);
      return json(res, jobs);
    }
    if (m[2] === 'stages') {
      const status = u.searchParams.getAll('status').map((s) => s.toUpperCase());
      const stages = (app.stages ?? [])
        .filter((s) => !s.submissionTime || t(s.submissionTime) <= now)
        .map((s) => {
          const done = t(s.completionTime) <= now;
          const { failureReason, ...rest } = s;
          return {
            ...STAGE_DEFAULTS,
            name: String(s.name ?? ''),
            description: String(s.description ?? s.name ?? ''),
            details: '',
            ...(s.submissionTime ? { firstTaskLaunchedTime: sparkTime(t(s.submissionTime)) } : {}),
            ...zeroCounters(rest, done),
            status: done ? s.status : 'ACTIVE',
            stageId: s.stageId,
            attemptId: s.attemptId ?? 0,
            ...(s.submissionTime ? { submissionTime: sparkTime(t(s.submissionTime)) } : {}),
            ...(done && s.completionTime ? { completionTime: sparkTime(t(s.completionTime)) } : {}),
            ...(done && failureReason ? { failureReason } : {}),
          };
        })
        .filter((s) => status.length === 0 || status.includes(s.status));
      return json(res, stages);
    }
    if (m[2] === 'allexecutors' || m[2] === 'executors') {
      // The scenario's own entry for the driver says where it runs; the entry below stands for it.
      const scenarioDriver = (app.executors ?? []).find((e) => e.id === 'driver');
      const execs = (app.executors ?? [])
        .filter((e) => e.id !== 'driver' && t(e.addTime) <= now)
        .map((e) => {
          const removed = t(e.removeTime) <= now;
          return {
            ...EXECUTOR_DEFAULTS,
            id: e.id,
            hostPort: e.hostPort,
            isActive: !removed,
            totalCores: e.totalCores ?? 1,
            maxTasks: e.totalCores ?? 1,
            activeTasks: 0,
            failedTasks: removed ? (e.failedTasks ?? 0) : 0,
            completedTasks: 0,
            totalTasks: 0,
            maxMemory: e.maxMemory ?? 0,
            addTime: sparkTime(t(e.addTime)),
            ...(removed
              ? { removeTime: sparkTime(t(e.removeTime)), removeReason: e.removeReason ?? '' }
              : {}),
            memoryMetrics: MEMORY_METRICS,
            executorLogs: {},
            attributes: {},
            resources: {},
            resourceProfileId: 0,
            isExcluded: false,
            excludedInStages: [],
          };
        })
        .filter((e) => m[2] === 'allexecutors' || e.isActive);
      return json(res, [
        {
          ...EXECUTOR_DEFAULTS,
          memoryMetrics: MEMORY_METRICS,
          id: 'driver',
          hostPort: scenarioDriver?.hostPort ?? 'driver:0',
          isActive: true,
          totalCores: 0,
          maxTasks: 0,
          activeTasks: 0,
          failedTasks: 0,
          completedTasks: 0,
          totalTasks: 0,
          maxMemory: 0,
          addTime: sparkTime(t(app.start)),
          executorLogs: {},
          attributes: {},
          resources: {},
          resourceProfileId: 0,
          isExcluded: false,
          excludedInStages: [],
        },
        ...execs,
      ]);
    }
    return json(res, app);
  });

  const listen = (s: Server) =>
    new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
  const [masterPort, driverPort] = await Promise.all([listen(master), listen(driver)]);

  // The Connect endpoint: a TCP port that is listening only while the scenario says it is up.
  const probe = createTcpServer((s) => s.destroy());
  const connectPort = await new Promise<number>((r) =>
    probe.listen(0, '127.0.0.1', () => r((probe.address() as AddressInfo).port)),
  );
  let connectServer: TcpServer | undefined = probe;
  async function syncConnectPort(now: number) {
    const up = connectUp(now);
    if (up && !connectServer) {
      const s = createTcpServer((sock) => sock.destroy());
      connectServer = s;
      await new Promise<void>((r) => s.listen(connectPort, '127.0.0.1', () => r()));
    } else if (!up && connectServer) {
      const s = connectServer;
      connectServer = undefined;
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
  await syncConnectPort(options.clock.now());

  return {
    masterUrl: `http://127.0.0.1:${masterPort}`,
    driverUrl: `http://127.0.0.1:${driverPort}`,
    connectEndpoint: `sc://127.0.0.1:${connectPort}`,
    async close() {
      await Promise.all(
        [master, driver].map(
          (s) =>
            new Promise<void>((r) => {
              s.close(() => r());
              s.closeAllConnections();
            }),
        ),
      );
      if (connectServer) await new Promise<void>((r) => connectServer!.close(() => r()));
    },
  };
}

const ZERO_STAGE_METRICS = [
  'diskBytesSpilled',
  'executorCpuTime',
  'executorDeserializeCpuTime',
  'executorDeserializeTime',
  'executorRunTime',
  'inputBytes',
  'inputRecords',
  'jvmGcTime',
  'memoryBytesSpilled',
  'numActiveTasks',
  'numCompleteTasks',
  'numCompletedIndices',
  'numFailedTasks',
  'numKilledTasks',
  'numTasks',
  'outputBytes',
  'outputRecords',
  'peakExecutionMemory',
  'resourceProfileId',
  'resultSerializationTime',
  'resultSize',
  'shuffleCorruptMergedBlockChunks',
  'shuffleFetchWaitTime',
  'shuffleLocalBlocksFetched',
  'shuffleLocalBytesRead',
  'shuffleMergedFetchFallbackCount',
  'shuffleMergedLocalBlocksFetched',
  'shuffleMergedLocalBytesRead',
  'shuffleMergedLocalChunksFetched',
  'shuffleMergedRemoteBlocksFetched',
  'shuffleMergedRemoteBytesRead',
  'shuffleMergedRemoteChunksFetched',
  'shuffleMergedRemoteReqsDuration',
  'shuffleMergersCount',
  'shuffleReadBytes',
  'shuffleReadRecords',
  'shuffleRemoteBlocksFetched',
  'shuffleRemoteBytesRead',
  'shuffleRemoteBytesReadToDisk',
  'shuffleRemoteReqsDuration',
  'shuffleWriteBytes',
  'shuffleWriteRecords',
  'shuffleWriteTime',
];
const PEAK_EXECUTOR_METRICS = [
  'ConcurrentGCCount',
  'ConcurrentGCTime',
  'DirectPoolMemory',
  'JVMHeapMemory',
  'JVMOffHeapMemory',
  'MajorGCCount',
  'MajorGCTime',
  'MappedPoolMemory',
  'MinorGCCount',
  'MinorGCTime',
  'OffHeapExecutionMemory',
  'OffHeapStorageMemory',
  'OffHeapUnifiedMemory',
  'OnHeapExecutionMemory',
  'OnHeapStorageMemory',
  'OnHeapUnifiedMemory',
  'ProcessTreeJVMRSSMemory',
  'ProcessTreeJVMVMemory',
  'ProcessTreeOtherRSSMemory',
  'ProcessTreeOtherVMemory',
  'ProcessTreePythonRSSMemory',
  'ProcessTreePythonVMemory',
  'TotalGCTime',
];
/** Fields of a stage the real API always has; the scenario gives the ones that matter. */
const STAGE_DEFAULTS: Record<string, unknown> = {
  ...Object.fromEntries(ZERO_STAGE_METRICS.map((k) => [k, 0])),
  accumulatorUpdates: [],
  isShufflePushEnabled: false,
  killedTasksSummary: {},
  peakExecutorMetrics: Object.fromEntries(PEAK_EXECUTOR_METRICS.map((k) => [k, 0])),
  rddIds: [],
  schedulingPool: 'default',
};
/** Fields every executor entry has, the driver's included. */
const EXECUTOR_DEFAULTS: Record<string, unknown> = {
  rddBlocks: 0,
  memoryUsed: 0,
  diskUsed: 0,
  totalDuration: 0,
  totalGCTime: 0,
  totalInputBytes: 0,
  totalShuffleRead: 0,
  totalShuffleWrite: 0,
  isBlacklisted: false,
  blacklistedInStages: [],
  peakMemoryMetrics: Object.fromEntries(PEAK_EXECUTOR_METRICS.map((k) => [k, 0])),
};
const MEMORY_METRICS = {
  usedOnHeapStorageMemory: 0,
  usedOffHeapStorageMemory: 0,
  totalOnHeapStorageMemory: 0,
  totalOffHeapStorageMemory: 0,
};

/** Counters are final values: served once the record is complete, 0 before. */
function zeroCounters(record: Record<string, unknown>, done: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record))
    if (k.startsWith('num') && typeof v === 'number') out[k] = done ? v : 0;
  for (const k of [
    'numTasks',
    'numActiveTasks',
    'numCompletedTasks',
    'numSkippedTasks',
    'numFailedTasks',
    'numKilledTasks',
    'numCompletedIndices',
    'numActiveStages',
    'numCompletedStages',
    'numSkippedStages',
    'numFailedStages',
  ]) {
    out[k] ??= 0;
  }
  return out;
}

function json(res: ServerResponse, body: unknown) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2));
}

function html404(res: ServerResponse, path: string) {
  res.writeHead(404, { 'content-type': 'text/html;charset=iso-8859-1' });
  res.end(
    `<html><head><title>Error 404 Not Found</title></head><body><h2>HTTP ERROR 404 Not Found</h2><table><tr><th>URI:</th><td>${path.replace(/[<>&]/g, '')}</td></tr></table></body></html>`,
  );
}
