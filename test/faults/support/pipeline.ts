import { expect } from 'vitest';
import type { SlackStandIn } from '../../fakes/slack-api.ts';

/** One series of `fault.memory`: its host, and attributes naming what else it is about. */
export interface FaultSeries {
  host: string;
  attributes?: Record<string, string>;
}

/**
 * An OTLP/JSON export of one gauge point for each series (metric `fault.memory`); a series given
 * as a string is a host with no other attributes.
 */
export function gaugeExport(series: readonly (string | FaultSeries)[], value: number): string {
  const timeUnixNano = `${BigInt(Date.now()) * 1_000_000n}`;
  return JSON.stringify({
    resourceMetrics: series.map((s) => {
      const { host, attributes = {} } = typeof s === 'string' ? { host: s } : s;
      const point = {
        asDouble: value,
        timeUnixNano,
        attributes: Object.entries(attributes).map(([key, v]) => ({ key, value: { stringValue: v } })),
      };
      return {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'spark-worker' } },
            { key: 'host.name', value: { stringValue: host } },
          ],
        },
        scopeMetrics: [{ metrics: [{ name: 'fault.memory', gauge: { dataPoints: [point] } }] }],
      };
    }),
  });
}

/** The threshold rule every fault test breaches: one signal per host above 0.9. */
export const MEMORY_RULE = {
  id: 'fault-memory',
  metric: 'fault.memory',
  op: '>' as const,
  value: 0.9,
  severity: 'high' as const,
  title: 'Memory above 90%',
};

/** Pushes as an OTLP exporter does: again after a 429/503 or a refused connection, until 2xx. */
export async function pushUntilTaken(url: string, body: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let refusals = 0;
  for (;;) {
    const status = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(10_000),
    })
      .then((r) => r.status)
      .catch(() => 0);
    if (status >= 200 && status < 300) return refusals;
    if (status !== 0 && status !== 429 && status !== 503) throw new Error(`push answered ${status}`);
    refusals++;
    if (Date.now() > deadline) throw new Error(`push not taken in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface IncidentSummary {
  id: string;
  status: string;
  title: string;
  slack: { channel: string; ts: string } | null;
}

/** Every incident the API lists (all pages). */
export async function listIncidents(url: string): Promise<IncidentSummary[]> {
  const out: IncidentSummary[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetch(`${url}/api/v1/incidents?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { incidents: IncidentSummary[]; nextCursor: string | null };
    out.push(...page.incidents);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Fingerprints of the signals each incident took, from their timelines. */
export async function signalFingerprints(url: string): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const i of await listIncidents(url)) {
    const detail = (await (await fetch(`${url}/api/v1/incidents/${i.id}`)).json()) as {
      signals: { fingerprint: string }[];
      timeline: { fingerprint?: string }[];
    };
    for (const s of detail.signals) seen.add(s.fingerprint);
    for (const e of detail.timeline) if (e.fingerprint) seen.add(e.fingerprint);
  }
  return seen;
}

/** Top-level posts in the stand-in, by the incident id their metadata carries. */
export function postsByIncident(slack: SlackStandIn): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of slack.messages()) {
    if (m.threadTs) continue;
    const id = (m.metadata?.event_payload as { incident_id?: string } | undefined)?.incident_id ?? '?';
    out.set(id, [...(out.get(id) ?? []), m.ts]);
  }
  return out;
}

/** What a fault run measured: the figures the fault table in docs/operations.md reports. */
export interface FaultOutcome {
  incidents: number;
  paged: number;
  posts: number;
  lost: number;
  duplicated: number;
}

/**
 * Every paged incident posted exactly once, the post the one the store records. Returns the
 * figures; asserts lost = duplicated = 0 and that each post's ts is the stored one.
 */
export async function expectPostedExactlyOnce(url: string, slack: SlackStandIn): Promise<FaultOutcome> {
  const incidents = await listIncidents(url);
  const paged = incidents.filter((i) => i.slack !== null || i.status !== 'resolved');
  const posts = postsByIncident(slack);
  let lost = 0;
  let duplicated = 0;
  for (const i of paged) {
    const ts = posts.get(i.id) ?? [];
    if (ts.length === 0) lost++;
    if (ts.length > 1) duplicated += ts.length - 1;
    if (ts.length === 1) expect(i.slack?.ts).toBe(ts[0]);
  }
  const outcome = {
    incidents: incidents.length,
    paged: paged.length,
    posts: [...posts.values()].reduce((n, l) => n + l.length, 0),
    lost,
    duplicated,
  };
  expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
  return outcome;
}
