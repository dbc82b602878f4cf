import { describe, expect, it } from 'vitest';
import type { Incident, IncidentSignal } from '../core/index.ts';
import { validateBlocks } from './block-kit.ts';
import { renderIncidentMessage, renderIncidentUpdate } from './template.ts';

const t0 = Date.parse('2026-03-02T02:11:00Z');

function signal(i: number, over: Partial<IncidentSignal> = {}): IncidentSignal {
  return {
    fingerprint: `fp_${i}`,
    kind: 'metric.threshold',
    entity: `metric:system.memory.utilization{host.name="10.0.3.${i}"}`,
    related: [`host:10.0.3.${i}`],
    status: 'firing',
    severity: 'high',
    title: `Spark worker memory above 90% on 10.0.3.${i}`,
    detector: 'metric-threshold',
    firstSeen: t0 + i,
    lastSeen: t0 + i,
    count: 1,
    evidence: [
      { kind: 'value', label: 'observed', value: 0.97, unit: '1' },
      { kind: 'log', label: 'driver log', lines: ['java.lang.OutOfMemoryError: Java heap space'] },
    ],
    ...over,
  };
}

function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_abc',
    status: 'open',
    severity: 'high',
    title: 'Spark worker memory above 90%',
    openedAt: t0,
    updatedAt: t0,
    resolvedAt: null,
    rootCause: { entity: 'host:10.0.3.17', kind: 'metric.threshold', confidence: 0.5 },
    entities: ['host:10.0.3.17'],
    signals: [signal(17)],
    notifications: [],
    slack: null,
    version: 1,
    ...over,
  };
}

describe('incident message template', () => {
  it('says what broke, how bad, since when, and shows the evidence', () => {
    const m = renderIncidentMessage(incident(), {
      incidentUrl: (id) => `https://guardian.example/api/v1/incidents/${id}`,
    });
    expect(m.text).toBe('[OPEN] Spark worker memory above 90% (high)');
    const all = JSON.stringify(m.blocks);
    expect(all).toContain('Spark worker memory above 90% on 10.0.3.17');
    expect(all).toContain('2026-03-02 02:11:00 UTC');
    expect(all).toContain('host:10.0.3.17');
    expect(all).toContain('50% confidence');
    expect(all).toContain('OutOfMemoryError');
    expect(all).toContain('https://guardian.example/api/v1/incidents/inc_abc');
    expect(validateBlocks(m.blocks)).toEqual([]);
  });

  it('marks a resolved incident and how long it lasted', () => {
    const m = renderIncidentMessage(
      incident({
        status: 'resolved',
        resolvedAt: t0 + 754_000,
        signals: [signal(17, { status: 'resolved' })],
      }),
    );
    expect(m.text).toMatch(/^\[RESOLVED\]/);
    expect(JSON.stringify(m.blocks)).toContain('after 12m 34s');
  });

  it('is deterministic', () => {
    expect(JSON.stringify(renderIncidentMessage(incident()))).toBe(
      JSON.stringify(renderIncidentMessage(incident())),
    );
  });

  it('stays within Block Kit limits for a huge incident', () => {
    const huge = incident({
      title: 'x'.repeat(500),
      signals: Array.from({ length: 500 }, (_, i) =>
        signal(i, {
          title: 'y'.repeat(400),
          evidence: [{ kind: 'log', label: 'log', lines: ['z'.repeat(10_000)] }],
        }),
      ),
      entities: Array.from({ length: 2000 }, (_, i) => `airflow:task:dag_${i}/run/${'t'.repeat(200)}`),
    });
    const m = renderIncidentMessage(huge);
    expect(validateBlocks(m.blocks)).toEqual([]);
    expect(JSON.stringify(m).length).toBeLessThan(12_000);
    expect(JSON.stringify(m.blocks)).toContain('+490 more signals');
  });

  it('writes thread replies that say what changed', () => {
    const resolved = incident({ status: 'resolved', resolvedAt: t0 + 90_000 });
    expect(renderIncidentUpdate(resolved, 'resolved').text).toContain(
      'Resolved at 2026-03-02 02:12:30 UTC, after 1m 30s',
    );
    expect(renderIncidentUpdate(incident({ severity: 'critical' }), 'severity_raised').text).toContain(
      'critical',
    );
    expect(renderIncidentUpdate(incident(), 'signal_added').text).toContain(
      'New signal: Spark worker memory',
    );
    for (const change of ['resolved', 'severity_raised', 'signal_added'] as const) {
      expect(validateBlocks(renderIncidentUpdate(resolved, change).blocks)).toEqual([]);
    }
  });
});

describe('validateBlocks', () => {
  it('finds what Slack would reject', () => {
    expect(
      validateBlocks([
        { type: 'header', text: { type: 'mrkdwn', text: 'a' } },
        { type: 'section', text: { type: 'mrkdwn', text: '' } },
        { type: 'section', block_id: 'x' },
        { type: 'divider', block_id: 'x' },
        { type: 'carousel' },
        { type: 'context', elements: [] },
      ]),
    ).toEqual([
      'blocks[0].text must be plain_text',
      'blocks[1].text.text must be 1 to 3000 characters',
      'blocks[2] needs text or fields',
      'blocks[3].block_id x is not unique',
      'blocks[4].type "carousel" is not a block type',
      'blocks[5].elements: 1 to 10',
    ]);
    expect(validateBlocks(Array.from({ length: 51 }, () => ({ type: 'divider' })))).toContain(
      '51 blocks (max 50)',
    );
  });
});
