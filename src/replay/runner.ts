import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../config/load.ts';
import type { GuardianConfigInput } from '../config/schema.ts';
import type { Incident, NotificationRecord } from '../core/index.ts';
import { ManualClock, toIso } from '../core/index.ts';
import { createGuardian, type Guardian } from '../main.ts';
import { startAirflowStandIn } from '../stand-ins/airflow.ts';
import { startLokiStandIn } from '../stand-ins/loki.ts';
import { startSparkStandIn } from '../stand-ins/spark.ts';
import type { Logger } from '../telemetry/logger.ts';
import { MetricsPlayer } from './metrics-push.ts';
import type { Scenario } from './scenario.ts';

export interface ReplayOptions {
  logger: Logger;
  /**
   * Virtual time advanced per step; polls, ticks and metric pushes happen within steps.
   * @defaultValue 5000
   */
  stepMs?: number;
  /** Called every virtual minute with the virtual time reached and the incidents so far. */
  onProgress?: (virtualNow: number, incidents: number) => void;
  /**
   * The HTTP API's port.
   * @defaultValue 0 (any free port)
   */
  port?: number;
  /**
   * Runs once the clock has reached `end`, with Guardian still up (the demo prints its messages
   * and keeps the API open until it resolves).
   */
  afterReplay?: (session: { url: string; guardian: Guardian; exported: IncidentsExport }) => Promise<void>;
  /** More configuration (Slack, an LLM): its top-level sections replace the replay's own. */
  config?: Omit<GuardianConfigInput, 'sources'>;
}

/** `guardian-incidents/1`, as FORMAT.md describes it. */
export interface IncidentsExport {
  format: 'guardian-incidents/1';
  scenario: string;
  incidents: {
    id: string;
    opened_at: string;
    resolved_at: string | null;
    severity: string;
    title: string;
    root_cause: {
      entity: string;
      kind: string;
      confidence: number;
      evidence: readonly string[];
      chain: readonly { at: string; from: string; edge: string; to: string }[];
    } | null;
    entities: string[];
    notifications: { at: string; kind: string }[];
  }[];
}

/**
 * Plays a scenario through Guardian's real pipeline on a virtual clock: the stand-ins serve the
 * scenario's Airflow, Spark and Loki as of the clock, Guardian's real sources poll them over HTTP,
 * the scenario's metrics are pushed to its real OTLP receiver at their timestamps, and the clock
 * moves from `start` to `end` as fast as the machine allows. Returns the incidents export.
 */
export async function replay(scenario: Scenario, options: ReplayOptions): Promise<IncidentsExport> {
  const start = Date.parse(scenario.start);
  const end = Date.parse(scenario.end);
  const stepMs = options.stepMs ?? 5000;
  const clock = new ManualClock(start);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-replay-'));
  const closers: (() => Promise<void>)[] = [];
  try {
    const sources: Record<string, unknown> = {};
    if (scenario.airflow) {
      const airflow = await startAirflowStandIn({
        scenario: scenario.airflow,
        clock,
        username: 'guardian',
        password: 'replay',
      });
      closers.push(airflow.close);
      sources.airflow = { url: airflow.url, username: 'guardian', password: 'replay' };
    }
    if (scenario.spark) {
      const spark = await startSparkStandIn({ scenario: scenario.spark, clock });
      closers.push(spark.close);
      sources.spark = {
        masterUrl: spark.masterUrl,
        driverUrl: spark.driverUrl,
        connectEndpoint: spark.connectEndpoint,
        ...(scenario.spark.connect ? { connectName: scenario.spark.connect.endpoint } : {}),
      };
    }
    if (scenario.loki) {
      const loki = await startLokiStandIn({
        clock,
        requireTenant: false,
        streams: scenario.loki.streams.map((s) => ({
          labels: s.labels,
          entries: s.entries.map(([at, line]) => [BigInt(Date.parse(at)) * 1_000_000n, line] as const),
        })),
      });
      closers.push(loki.close);
      sources.loki = { url: loki.url };
    }
    const config = parseConfig({
      port: options.port ?? 0,
      host: '127.0.0.1',
      dataDir,
      logLevel: 'silent',
      sources,
      ...options.config,
      // A scenario starts from nothing: no learnt state is saved or taken back.
      detection: { ...options.config?.detection, stateInterval: 0 },
    });
    const guardian = await createGuardian(config, { logger: options.logger, clock, stepped: true });
    closers.unshift(() => guardian.stop());
    const url = await guardian.listen();
    const metrics = new MetricsPlayer(scenario.metrics ?? []);
    let steps = 0;

    for (let now = start; now <= end; now = Math.min(end, now + stepMs)) {
      await clock.advanceTo(now);
      const body = metrics.due(now);
      if (body) {
        const res = await fetch(`${url}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.arrayBuffer();
      }
      await guardian.idle();
      if (options.onProgress && (++steps % 12 === 0 || now === end))
        options.onProgress(now, (await allIncidents(guardian.store)).length);
      if (now === end) break;
    }
    const exported: IncidentsExport = {
      format: 'guardian-incidents/1',
      scenario: scenario.name,
      // An incident merged into another before anyone was told about it was never one on its own.
      incidents: (await withSent(guardian.store, await allIncidents(guardian.store)))
        .filter((i) => !(i.incident.mergedInto && i.sent.length === 0))
        .map(toExport),
    };
    await options.afterReplay?.({ url, guardian, exported });
    return exported;
  } finally {
    for (const close of closers) await close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function allIncidents(store: Awaited<ReturnType<typeof createGuardian>>['store']): Promise<Incident[]> {
  const out: Incident[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.incidents);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out.sort((a, b) => a.openedAt - b.openedAt || (a.id < b.id ? -1 : 1));
}

/** Each incident with what was sent about it (the delivery ledger). */
function withSent(
  store: Awaited<ReturnType<typeof createGuardian>>['store'],
  incidents: readonly Incident[],
): Promise<{ incident: Incident; sent: NotificationRecord[] }[]> {
  return Promise.all(incidents.map(async (incident) => ({ incident, sent: await store.sent(incident.id) })));
}

function toExport({
  incident: i,
  sent,
}: {
  incident: Incident;
  sent: NotificationRecord[];
}): IncidentsExport['incidents'][number] {
  return {
    id: i.id,
    opened_at: toIso(i.openedAt),
    resolved_at: i.resolvedAt === null ? null : toIso(i.resolvedAt),
    severity: i.severity,
    title: i.title,
    root_cause: i.rootCause
      ? {
          entity: i.rootCause.entity,
          kind: i.rootCause.kind,
          confidence: i.rootCause.confidence,
          evidence: i.rootCause.evidence ?? [],
          chain: (i.rootCause.chain ?? []).map((l) => ({ ...l, at: toIso(l.at) })),
        }
      : null,
    entities: [...i.entities].sort(),
    notifications: sent.map((n) => ({ at: toIso(n.at), kind: n.kind })),
  };
}
