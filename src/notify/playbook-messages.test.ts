import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Incident, IncidentSignal } from '../core/index.ts';
import type { IncidentDraft } from '../llm/draft.ts';
import { DRAFT_LIMITS } from '../llm/draft.ts';
import { loadPlaybooks, type Playbook } from '../playbooks/load.ts';
import { PlaybookCatalog } from '../playbooks/match.ts';
import { listItems } from '../playbooks/steps.ts';
import { blocksAsText } from './as-text.ts';
import { BLOCK_KIT, blocksSize, validateBlocks } from './block-kit.ts';
import type { SlackBlock } from './channel.ts';
import { renderIncidentDetails, renderIncidentMessage, renderThreadUpdate } from './template.ts';

const playbooks = loadPlaybooks(path.resolve(import.meta.dirname, '../../playbooks'));
const catalog = new PlaybookCatalog(playbooks, {
  airflowUrl: 'https://airflow.example.com',
  grafanaUrl: 'https://grafana.example.com',
  sparkUiUrl: 'https://spark.example.com',
  sparkMasterUrl: 'https://spark-master.example.com',
  guardianUrl: 'https://guardian.example.com',
});
const t0 = Date.parse('2026-03-04T02:10:00Z');

/** A representative incident of the kind a playbook is for, at its largest (many signals, tasks, long logs). */
function incidentFor(p: Playbook): Incident {
  const kind = p.match.root_cause_kinds[0] ?? p.match.signal_kinds[0] ?? 'unknown_kind';
  const signalKind = p.match.signal_kinds[0] ?? 'airflow.task_failed';
  const errorClass = p.match.error_classes[0];
  const signals: IncidentSignal[] = Array.from({ length: 60 }, (_, i) => ({
    fingerprint: `fp_${p.id}_${i}`,
    kind: i === 0 ? signalKind : 'airflow.task_failed',
    entity: `airflow:task:dag_${i % 7}/scheduled__2026-03-04T02:00:00+00:00/model_${'m'.repeat(40)}_${i}`,
    related: ['host:10.0.4.161', `airflow:dag:dag_${i % 7}`],
    status: i % 5 === 0 ? 'resolved' : 'firing',
    severity: i === 0 ? 'critical' : 'high',
    title: `${p.title} on model ${i} ${'with a long title '.repeat(8)}`,
    detector: 'airflow-task-failure',
    firstSeen: t0 + i * 1000,
    lastSeen: t0 + i * 2000,
    count: 1 + (i % 3),
    evidence: [
      {
        kind: 'log',
        label: 'try 1 log tail',
        lines: Array.from(
          { length: 80 },
          (_, j) => `${j} ERROR <${'x'.repeat(300)}> & "quoted" http://evil.example/${j}`,
        ),
      },
      { kind: 'text', label: 'failure reason', text: 'y'.repeat(5000) },
      { kind: 'value', label: 'memory', value: 0.987654, unit: '1' },
      { kind: 'link', label: 'Airflow', url: 'https://airflow.example.com/x' },
    ],
    ...(errorClass ? { errorClass } : {}),
  }));
  return {
    id: `inc_${p.id}`,
    status: 'open',
    severity: p.severity,
    title: `${p.title} (${'title '.repeat(40)})`,
    openedAt: t0,
    updatedAt: t0 + 600_000,
    resolvedAt: null,
    rootCause: {
      entity: 'host:10.0.4.161',
      kind,
      confidence: 0.87,
      title: `${p.title}: ${'because '.repeat(60)}`,
      evidence: Array.from({ length: 12 }, (_, i) => `evidence line ${i} ${'e'.repeat(400)}`),
      ...(errorClass ? { errorClass } : {}),
    },
    entities: Array.from({ length: 300 }, (_, i) => `spark:executor:app-20260301050656-0002/${i}`),
    signals,
    version: 7,
    impact: {
      dags: Array.from({ length: 7 }, (_, i) => `dag_${i}`),
      tasks: Array.from({ length: 120 }, (_, i) => ({
        entity: `airflow:task:dag_${i % 7}/scheduled__2026-03-04T02:00:00+00:00/model_${i}`,
        dagId: `dag_${i % 7}`,
        runId: 'scheduled__2026-03-04T02:00:00+00:00',
        taskId: `model_${i}`,
        state: (['failed', 'retrying', 'upstream_failed', 'recovered'] as const)[i % 4]!,
      })),
      sparkJobs: 12,
    },
  };
}

/** A draft at every limit. */
const fullDraft = (p: Playbook): IncidentDraft => ({
  title: 'T'.repeat(DRAFT_LIMITS.title),
  summary: 'S'.repeat(DRAFT_LIMITS.summary),
  probableCause: { text: 'C'.repeat(DRAFT_LIMITS.probableCause), confidence: 0.6 },
  impact: 'I'.repeat(DRAFT_LIMITS.impact),
  nextSteps: Array.from({ length: DRAFT_LIMITS.nextSteps }, () => 'N'.repeat(DRAFT_LIMITS.nextStep)),
  runbookIds: [p.id],
});

/** Every text Slack limits, checked against the documented limits, not only validateBlocks. */
function checkLimits(blocks: readonly SlackBlock[], text: string): void {
  expect(validateBlocks(blocks)).toEqual([]);
  expect(blocks.length).toBeLessThanOrEqual(50);
  expect(blocksSize(blocks)).toBeLessThanOrEqual(BLOCK_KIT.messageChars);
  expect(text.length).toBeLessThanOrEqual(BLOCK_KIT.fallbackText);
  for (const b of blocks) {
    const block = b as Record<string, unknown>;
    if (block.type === 'header')
      expect((block.text as { text: string }).text.length).toBeLessThanOrEqual(150);
    if (block.type === 'section') {
      const t = block.text as { text: string } | undefined;
      if (t) expect(t.text.length).toBeLessThanOrEqual(3000);
      const fields = (block.fields as { text: string }[] | undefined) ?? [];
      expect(fields.length).toBeLessThanOrEqual(10);
      for (const f of fields) expect(f.text.length).toBeLessThanOrEqual(2000);
    }
    if (block.type === 'actions') {
      const elements = block.elements as Record<string, unknown>[];
      expect(elements.length).toBeLessThanOrEqual(25);
      for (const e of elements) {
        expect(String(e.action_id).length).toBeLessThanOrEqual(255);
        if (e.type === 'button') {
          expect((e.text as { text: string }).text.length).toBeLessThanOrEqual(75);
          expect(String(e.value ?? '').length).toBeLessThanOrEqual(2000);
          if (e.url) expect(String(e.url).length).toBeLessThanOrEqual(3000);
        }
      }
    }
  }
}

describe('incident messages for every playbook kind', () => {
  for (const p of playbooks) {
    it(`${p.id}: within Slack's limits, with its runbook buttons and the lifecycle controls`, () => {
      const incident = incidentFor(p);
      const matched = catalog.match(incident);
      expect(matched[0]!.playbook.id).toBe(p.id);
      const refs = matched.map((m) => ({
        id: m.playbook.id,
        title: m.playbook.title,
        links: m.links,
        fixSteps: listItems(m.playbook.sections['How to fix']),
      }));
      for (const draft of [null, fullDraft(p)]) {
        for (const status of ['open', 'acknowledged', 'resolved'] as const) {
          const m = renderIncidentMessage(
            { ...incident, status, resolvedAt: status === 'resolved' ? t0 + 900_000 : null },
            {
              draft,
              playbooks: refs,
              incidentUrl: (id) => `https://guardian.example.com/api/v1/incidents/${id}`,
            },
          );
          checkLimits(m.blocks, m.text);
          const all = JSON.stringify(m.blocks);
          expect(all).toContain('"url":"https://');
          expect(all).toContain(status === 'resolved' ? 'guardian_reopen' : 'guardian_resolve');
          expect(all).not.toMatch(/https?:\/\/evil/);
          expect(all).toContain('inc_');
        }
      }
      const reply = renderThreadUpdate(incident, {
        joined: incident.signals,
        cleared: incident.signals,
        refired: incident.signals,
        severity: { from: 'low', to: 'critical' },
        status: { from: 'open', to: 'acknowledged', by: { id: 'U024BE7LH', via: 'slack' } },
      })!;
      checkLimits(reply.blocks, reply.text);
    });
  }
});

/** An incident of a playbook's kind as it usually comes: a root cause, a few signals, some tasks. */
function typicalIncidentFor(p: Playbook): Incident {
  const kind = p.match.root_cause_kinds[0] ?? p.match.signal_kinds[0] ?? 'unknown_kind';
  const errorClass = p.match.error_classes[0];
  const run = 'scheduled__2026-03-04T02:00:00+00:00';
  const signal = (i: number, over: Partial<IncidentSignal>): IncidentSignal => ({
    fingerprint: `fp_${p.id}_${i}`,
    kind: 'airflow.task_failed',
    entity: `airflow:task:orders_daily/${run}/silver_orders`,
    related: ['host:10.0.4.161', 'airflow:dag:orders_daily'],
    status: 'firing',
    severity: 'high',
    title: `Airflow task orders_daily.silver_orders failed try ${i}`,
    detector: 'airflow-task-failure',
    firstSeen: t0 + i * 1000,
    lastSeen: t0 + i * 1000,
    count: 1,
    evidence: [
      { kind: 'log', label: 'try 1 log tail', lines: ['<*> ERROR Task failed with exception & more'] },
      { kind: 'text', label: 'template', text: '<*> ERROR <*> failed after <*> retries' },
    ],
    ...(errorClass ? { errorClass } : {}),
    ...over,
  });
  return {
    id: `inc_${p.id}`,
    status: 'open',
    severity: p.severity,
    title: p.title,
    openedAt: t0,
    updatedAt: t0 + 240_000,
    resolvedAt: null,
    rootCause: {
      entity: 'host:10.0.4.161',
      kind,
      confidence: 0.82,
      title: p.title,
      evidence: ['Airflow task orders_daily.silver_orders failed try 1', 'Spark job 4810 failed'],
      ...(errorClass ? { errorClass } : {}),
    },
    entities: [
      'host:10.0.4.161',
      `airflow:task:orders_daily/${run}/silver_orders`,
      'airflow:dag:orders_daily',
    ],
    signals: [
      signal(1, { kind: p.match.signal_kinds[0] ?? 'airflow.task_failed' }),
      signal(2, {
        kind: 'airflow.task_retry',
        entity: `airflow:task:customers_daily/${run}/silver_customers`,
      }),
    ],
    version: 3,
    impact: {
      dags: ['customers_daily', 'orders_daily'],
      tasks: [
        {
          entity: `airflow:task:orders_daily/${run}/silver_orders`,
          dagId: 'orders_daily',
          runId: run,
          taskId: 'silver_orders',
          state: 'failed',
        },
        {
          entity: `airflow:task:orders_daily/${run}/gold_orders`,
          dagId: 'orders_daily',
          runId: run,
          taskId: 'gold_orders',
          state: 'upstream_failed',
        },
        {
          entity: `airflow:task:customers_daily/${run}/silver_customers`,
          dagId: 'customers_daily',
          runId: run,
          taskId: 'silver_customers',
          state: 'retrying',
        },
      ],
      sparkJobs: 1,
    },
  };
}

describe('the first message of every playbook kind', () => {
  for (const p of playbooks) {
    it(`${p.id}: cause and impact in the header, at most 15 lines, every step whole (snapshot)`, () => {
      const incident = typicalIncidentFor(p);
      const matched = catalog.match(incident);
      expect(matched[0]!.playbook.id).toBe(p.id);
      const refs = matched.map((m) => ({
        id: m.playbook.id,
        title: m.playbook.title,
        links: m.links,
        fixSteps: listItems(m.playbook.sections['How to fix']),
      }));
      const m = renderIncidentMessage(incident, { playbooks: refs });
      checkLimits(m.blocks, m.text);
      const header = (m.blocks[0] as unknown as { text: { text: string } }).text.text;
      expect(header.length).toBeLessThanOrEqual(150);
      expect(header).toContain(p.title.slice(0, 40)); // a long cause gives way to the impact
      expect(header).toContain('3 tasks in 2 DAGs');
      const text = blocksAsText(m.blocks);
      const [, ...body] = text.split('\n');
      expect(body.length).toBeLessThanOrEqual(15);
      expect(text).not.toMatch(/&lt;|&gt;|&amp;/);
      // The steps shown are the playbook's first ones, each in full.
      const steps = refs[0]!.fixSteps.slice(0, 3);
      expect(steps.length).toBeGreaterThan(0);
      for (const step of steps) expect(text).toContain(step);
      expect(text).toContain('silver_customers :hourglass_flowing_sand: up for retry');
      expect(m.blocks).toMatchSnapshot();

      const details = renderIncidentDetails(incident);
      checkLimits(details.blocks, details.text);
      expect(blocksAsText(details.blocks)).toContain('<*> ERROR <*> failed after <*> retries');
    });
  }
});
