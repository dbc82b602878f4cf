/**
 * Correlation benchmark: signals per second through the correlator (grouping, root cause, impact,
 * quiet/paging, merges), on one core, with the incident store in memory so the figure is the
 * correlation path itself (DynamoDB latency is the store's, and is paid per incident write).
 * Two workloads: many independent failures (each its own incident, plus their downstream tasks),
 * and a storm (one Spark Connect outage failing thousands of tasks: one incident).
 *
 *   node bench/correlate.ts [--signals 20000]
 */
import { parseArgs } from 'node:util';
import {
  type Incident,
  ManualClock,
  type Signal,
  type TimelineEvent,
  VersionConflictError,
} from '../src/core/index.ts';
import { Correlator } from '../src/correlation/correlator.ts';
import type { IncidentStore } from '../src/incidents/store.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { createGuardianMetrics } from '../src/telemetry/metrics.ts';

const { values } = parseArgs({ options: { signals: { type: 'string', default: '20000' } } });
const N = Number(values.signals);
// Each independent failure is two signals (a retry and its downstream task): fewer says nothing.
if (!Number.isInteger(N) || N < 2) {
  console.error(`--signals must be a whole number of 2 or more, not "${values.signals}"`);
  process.exit(2);
}
const T0 = Date.parse('2026-03-02T02:00:00Z');

/** Just what the correlator uses, in memory, with the store's version check. */
function memoryStore(): IncidentStore {
  const incidents = new Map<string, Incident>();
  const store = {
    async list() {
      return { incidents: [], nextCursor: null };
    },
    async get(id: string) {
      return incidents.get(id) ?? null;
    },
    async getMany(ids: readonly string[]) {
      return ids.flatMap((id) => incidents.get(id) ?? []);
    },
    async create(incident: Incident) {
      const existing = incidents.get(incident.id);
      if (existing) return { incident: existing, created: false };
      incidents.set(incident.id, incident);
      return { incident, created: true };
    },
    async update(next: Incident) {
      const cur = incidents.get(next.id);
      if (!cur || cur.version !== next.version - 1) throw new VersionConflictError(next.id);
      incidents.set(next.id, next);
      return next;
    },
    async findOpenByFingerprint() {
      return null;
    },
    async appendTimeline(_id: string, _events: readonly TimelineEvent[]) {},
  };
  return store as unknown as IncidentStore;
}

function independent(n: number): Signal[] {
  const out: Signal[] = [];
  for (let i = 0; out.length < n; i++) {
    const run = `scheduled__${i}`;
    const dag = `dag_${i % 500}`;
    const base = { status: 'firing' as const, time: T0 + i * 1000, evidence: [], detector: 'bench' };
    out.push({
      ...base,
      fingerprint: `t-${i}`,
      kind: 'airflow.task_retry',
      entity: `airflow:task:${dag}/${run}/build`,
      related: [`airflow:dagrun:${dag}/${run}`, `airflow:dag:${dag}`],
      severity: 'low',
      title: 'retry',
      errorClass: 'network_timeout',
    });
    out.push({
      ...base,
      fingerprint: `u-${i}`,
      kind: 'airflow.task_upstream_failed',
      entity: `airflow:task:${dag}/${run}/publish`,
      related: [`airflow:dagrun:${dag}/${run}`, `airflow:dag:${dag}`],
      severity: 'info',
      title: 'upstream failed',
    });
  }
  return out.slice(0, n);
}

function storm(n: number): Signal[] {
  return Array.from({ length: n }, (_, i) => ({
    fingerprint: `s-${i}`,
    kind: 'airflow.task_failed',
    status: 'firing' as const,
    entity: `airflow:task:dag_${i}/scheduled__1/silver`,
    related: [`airflow:dagrun:dag_${i}/scheduled__1`, 'spark:connect:sc://spark-connect:15002'],
    time: T0 + i * 10,
    severity: 'high' as const,
    title: 'failed',
    evidence: [],
    detector: 'bench',
    errorClass: 'connect_unavailable',
  }));
}

async function run(name: string, signals: Signal[]): Promise<void> {
  const clock = new ManualClock(T0);
  const correlator = new Correlator({
    store: memoryStore(),
    clock,
    logger: silentLogger(),
    metrics: createGuardianMetrics(),
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (const s of signals) {
    if (s.time > clock.now()) await clock.advanceTo(s.time);
    await correlator.apply(s);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const incidents = correlator.active().filter((i) => !i.mergedInto).length;
  console.log(
    `${name.padEnd(34)} ${String(signals.length).padStart(7)} signals  ${(ms / 1000).toFixed(2).padStart(6)} s  ${Math.round(
      (signals.length / ms) * 1000,
    )
      .toLocaleString('en')
      .padStart(8)} signals/s  ${Math.round((signals.length / cpuMs) * 1000)
      .toLocaleString('en')
      .padStart(8)} per CPU-s  ${incidents} incidents`,
  );
}

await run('independent failures (+ downstream)', independent(N));
await run('storm: one outage', storm(Math.min(N, 5000)));
