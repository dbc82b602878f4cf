import { connect } from 'node:net';
import type { Incident } from '../core/index.ts';
import { getJson as httpGetJson } from '../sources/http.ts';
import { parseSparkTime } from '../sources/spark/source.ts';
import type { Collector, CollectorContext } from './collector.ts';
import { DiagnosticNotApplicableError, DiagnosticUnavailableError } from './diagnostic.ts';

interface Stage {
  stageId: number;
  attemptId?: number;
  name?: string;
  status: string;
  failureReason?: string;
  completionTime?: string;
}

interface Executor {
  id: string;
  hostPort: string;
  isActive: boolean;
  removeTime?: string;
  removeReason?: string;
  failedTasks?: number;
  totalCores?: number;
}

/** The failure reasons of the failed stages of the incident's Spark applications (its own stages first). */
export const sparkFailedStageReason: Collector<'spark_failed_stage_reason'> = {
  title: () => 'Spark failed stages',
  async collect(_d, context) {
    const driver = driverOf(context);
    const apps = await applications(context, driver);
    const wanted = new Set(
      context.incident.entities
        .filter((e) => e.startsWith('spark:stage:'))
        .map((e) => e.slice('spark:stage:'.length)),
    );
    const lines: string[] = [];
    for (const app of apps) {
      const stages = (await driverJson(
        `${driver}/api/v1/applications/${encodeURIComponent(app)}/stages?status=failed`,
        {
          signal: context.signal,
          what: `Spark driver UI (stages of ${app})`,
        },
      )) as Stage[];
      if (!Array.isArray(stages)) throw new Error(`Spark driver UI (stages of ${app}): answer is not a list`);
      const ordered = [...stages].sort(
        (a, b) =>
          Number(wanted.has(`${app}/${b.stageId}`)) - Number(wanted.has(`${app}/${a.stageId}`)) ||
          (parseSparkTime(b.completionTime) ?? 0) - (parseSparkTime(a.completionTime) ?? 0),
      );
      for (const s of ordered.slice(0, 3)) {
        const reason = (s.failureReason ?? 'no failure reason given').trim().split('\n');
        lines.push(
          `${app} stage ${s.stageId}.${s.attemptId ?? 0}${s.name ? ` (${s.name})` : ''}: ${reason[0]}`,
        );
        lines.push(...reason.slice(1, 4).map((l) => `  ${l.trim()}`));
      }
      if (stages.length > 3) lines.push(`… ${stages.length - 3} more failed stages in ${app}`);
    }
    return {
      label: `Spark failed stages (${apps.join(', ')})`,
      lines: lines.length > 0 ? lines : ['no failed stage'],
    };
  },
};

/** The executors of the incident's Spark applications: counts, and the removed ones with their reasons. */
export const sparkExecutorSummary: Collector<'spark_executor_summary'> = {
  title: () => 'Spark executors',
  async collect(_d, context) {
    const driver = driverOf(context);
    const apps = await applications(context, driver);
    const hosts = new Set(
      context.incident.entities.filter((e) => e.startsWith('host:')).map((e) => e.slice('host:'.length)),
    );
    const lines: string[] = [];
    for (const app of apps) {
      const all = (await driverJson(`${driver}/api/v1/applications/${encodeURIComponent(app)}/allexecutors`, {
        signal: context.signal,
        what: `Spark driver UI (executors of ${app})`,
      })) as Executor[];
      if (!Array.isArray(all)) throw new Error(`Spark driver UI (executors of ${app}): answer is not a list`);
      const executors = all.filter((e) => e.id !== 'driver');
      const removed = executors.filter((e) => !e.isActive);
      const hostOf = (e: Executor) => e.hostPort.replace(/:\d+$/, '');
      lines.push(`${app}: ${executors.length - removed.length} active, ${removed.length} removed`);
      const ordered = [...removed].sort(
        (a, b) =>
          Number(hosts.has(hostOf(b))) - Number(hosts.has(hostOf(a))) ||
          (parseSparkTime(b.removeTime) ?? 0) - (parseSparkTime(a.removeTime) ?? 0),
      );
      for (const e of ordered.slice(0, 8)) {
        lines.push(
          `  executor ${e.id} on ${hostOf(e)} removed${e.removeTime ? ` ${e.removeTime}` : ''}: ${e.removeReason || 'no reason given'}${e.failedTasks ? ` (${e.failedTasks} failed tasks)` : ''}`,
        );
      }
      if (ordered.length > 8) lines.push(`  … ${ordered.length - 8} more removed`);
    }
    return { label: `Spark executors (${apps.join(', ')})`, lines };
  },
};

/** Whether the Spark Connect endpoint accepts a TCP connection, and how fast. */
export const sparkConnectProbe: Collector<'spark_connect_probe'> = {
  title: () => 'Spark Connect endpoint',
  async collect(_d, { targets, signal }) {
    const endpoint = targets.spark?.connectEndpoint;
    if (!endpoint)
      throw new DiagnosticNotApplicableError(
        'no Spark Connect endpoint is configured (SPARK_CONNECT_ENDPOINT)',
      );
    const m = /^sc:\/\/([^:/]+)(?::(\d+))?/.exec(endpoint);
    if (!m) throw new DiagnosticNotApplicableError(`${endpoint} is not an sc://host:port endpoint`);
    const host = m[1]!;
    const port = Number(m[2] ?? 15002);
    const started = performance.now();
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host, port });
      const done = (text: string) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(text);
      };
      const onAbort = () => done('no answer within the time limit');
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () =>
        done(`accepts connections (${Math.round(performance.now() - started)} ms)`),
      );
      socket.once('error', (err: NodeJS.ErrnoException) =>
        done(`refuses connections (${err.code ?? err.message})`),
      );
    });
    return { label: `Spark Connect endpoint ${host}:${port}`, lines: [`${host}:${port} ${outcome}`] };
  },
};

function driverOf(context: CollectorContext): string {
  const driver = context.targets.spark?.driverUrl?.replace(/\/+$/, '');
  if (!driver)
    throw new DiagnosticNotApplicableError('the Spark driver UI is not configured (SPARK_DRIVER_UI_URL)');
  return driver;
}

/** The incident's Spark applications; without any, those the driver runs now (at most two). */
async function applications(context: CollectorContext, driver: string): Promise<string[]> {
  const named = sparkApps(context.incident);
  if (named.length > 0) return named.slice(0, 2);
  const apps = (await driverJson(`${driver}/api/v1/applications`, {
    signal: context.signal,
    what: 'Spark driver UI (applications)',
  })) as { id: string }[];
  if (!Array.isArray(apps) || apps.length === 0)
    throw new DiagnosticUnavailableError('the Spark driver runs no application');
  return apps.slice(0, 2).map((a) => a.id);
}

function sparkApps(incident: Incident): string[] {
  const apps = new Set<string>();
  const keys = incident.rootCause ? [incident.rootCause.entity, ...incident.entities] : incident.entities;
  for (const key of keys) {
    const m = /^spark:(?:app|job|stage|executor):([^/]+)/.exec(key);
    if (m) apps.add(m[1]!);
  }
  return [...apps];
}

/** A JSON document from the driver UI, within the diagnostic's deadline (its `signal`) and 2 MB. */
function driverJson(url: string, options: { signal: AbortSignal; what: string }): Promise<unknown> {
  return httpGetJson('spark', url, { ...options, timeoutMs: 60_000, maxBytes: 2 * 1024 * 1024 });
}
