import { describe, expect, it } from 'vitest';
import type { Incident, IncidentSignal } from '../core/index.ts';
import { BLOCK_KIT, blocksSize, truncate, validateBlocks } from './block-kit.ts';
import type { SlackMessage } from './channel.ts';
import { renderIncidentDetails, renderIncidentMessage, renderThreadUpdate } from './template.ts';

const t0 = Date.parse('2026-03-02T02:11:00Z');

function signal(i: number, over: Partial<IncidentSignal> = {}): IncidentSignal {
  return {
    fingerprint: `fp_${String(i).padStart(4, '0')}`,
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
      { kind: 'value', label: 'observed', value: 0.97123, unit: '1' },
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
    updatedAt: t0 + 300_000,
    resolvedAt: null,
    rootCause: { entity: 'host:10.0.3.17', kind: 'metric.threshold', confidence: 0.5 },
    entities: ['host:10.0.3.17'],
    signals: [signal(17)],
    version: 1,
    ...over,
  };
}

const everything = (m: SlackMessage) => JSON.stringify(m.blocks);

describe('incident message', () => {
  it('says the cause, how bad, since when and what is affected; the evidence goes to the thread', () => {
    const m = renderIncidentMessage(incident(), {
      incidentUrl: (id) => `https://guardian.example/api/v1/incidents/${id}`,
    });
    expect(m.text).toBe('[OPEN] Spark worker memory above 90% (high, open)');
    expect(m.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':large_orange_circle: Spark worker memory above 90%', emoji: true },
    });
    const all = everything(m);
    expect(all).toContain('*OPEN*');
    expect(all).toContain('since 2026-03-02 02:11:00 UTC');
    expect(all).toContain('(5m in)');
    expect(all).toContain('*Impact* · host 10.0.3.17');
    expect(all).toContain('50% confidence');
    expect(all).toContain('<https://guardian.example/api/v1/incidents/inc_abc|Open in Guardian>');
    expect(all).toContain('evidence, signals and logs in the thread');
    expect(all).not.toContain('OutOfMemoryError');
    expect(validateBlocks(m.blocks)).toEqual([]);

    const details = everything(renderIncidentDetails(incident()));
    expect(details).toContain('Spark worker memory above 90% on 10.0.3.17');
    expect(details).toContain('*firing*');
    expect(details).toContain('observed: *0.9712*');
    expect(details).toContain('```java.lang.OutOfMemoryError: Java heap space```');
    expect(details).toContain('`host:10.0.3.17`');
  });

  it('marks a resolved incident, when it resolved and how long it lasted', () => {
    const m = renderIncidentMessage(
      incident({
        status: 'resolved',
        resolvedAt: t0 + 754_000,
        signals: [signal(17, { status: 'resolved', lastSeen: t0 + 750_000, count: 2 })],
      }),
    );
    expect(m.text).toBe('[RESOLVED] Spark worker memory above 90% (high, resolved after 12m 34s)');
    expect(m.blocks[0]).toMatchObject({
      text: { text: ':white_check_mark: Resolved: Spark worker memory above 90%' },
    });
    const all = everything(m);
    expect(all).toContain('*RESOLVED* after 12m 34s');
    expect(all).toContain('2026-03-02 02:11:00 UTC to 2026-03-02 02:23:34 UTC');
  });

  it('lists firing and most severe signals first in the thread', () => {
    const m = renderIncidentDetails(
      incident({
        signals: [
          signal(1, { status: 'resolved', severity: 'critical', title: 'cleared one' }),
          signal(2, { severity: 'low', title: 'low one' }),
          signal(3, { severity: 'critical', title: 'critical one' }),
        ],
      }),
    );
    const all = everything(m);
    const order = ['critical one', 'low one', 'cleared one'].map((t) => all.indexOf(t));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order[0]).toBeGreaterThan(0);
  });

  it('is deterministic, whatever order the signals come in', () => {
    const signals = Array.from({ length: 30 }, (_, i) => signal(i, { firstSeen: t0 }));
    const a = renderIncidentMessage(incident({ signals }));
    const b = renderIncidentMessage(incident({ signals: [...signals].reverse() }));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(renderIncidentMessage(incident()))).toBe(
      JSON.stringify(renderIncidentMessage(incident())),
    );
  });

  it('stays within Block Kit limits for a huge incident, top post and thread details', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `${i} ${'z'.repeat(100)}`); // 10 KB of log lines
    const huge = incident({
      title: 'x'.repeat(500),
      signals: Array.from({ length: 500 }, (_, i) =>
        signal(i, {
          title: `<&> "${'y'.repeat(400)}"`,
          entity: `metric:m{${'k="v",'.repeat(80)}}`,
          evidence: [
            { kind: 'log', label: 'log', lines },
            { kind: 'log', label: 'one long line', lines: ['q'.repeat(10_000)] },
            { kind: 'text', label: 'text', text: 't'.repeat(10_000) },
            { kind: 'link', label: 'l', url: `https://x.example/${'u'.repeat(5000)}` },
            ...Array.from({ length: 20 }, (_, j) => ({ kind: 'value' as const, label: `v${j}`, value: j })),
          ],
        }),
      ),
      entities: Array.from({ length: 2000 }, (_, i) => `metric:m{${'a="b",'.repeat(60)}i="${i}"}`),
      rootCause: { entity: 'r'.repeat(5000), kind: 'k'.repeat(500), confidence: 0.87 },
    });
    const m = renderIncidentMessage(huge, { incidentUrl: (id) => `https://guardian.example/${id}` });
    expect(validateBlocks(m.blocks)).toEqual([]);
    expect(JSON.stringify(m).length).toBeLessThan(10_000);
    expect(m.text.length).toBeLessThanOrEqual(BLOCK_KIT.fallbackText);
    expect(everything(m)).toContain('2000 metric series');
    const d = renderIncidentDetails(huge);
    expect(validateBlocks(d.blocks)).toEqual([]);
    const all = everything(d);
    expect(all).toContain('+492 more signals (492 firing)');
    expect(all).toContain('+1990 more');
    expect(all).toContain('…');
    expect(all).toContain('&lt;&amp;&gt;');
    // Every code block the cuts touched is still closed.
    for (const b of [...m.blocks, ...d.blocks]) {
      const text = (b.text as { text?: string } | undefined)?.text ?? '';
      expect((text.match(/```/g) ?? []).length % 2).toBe(0);
    }
  });

  it('counts the tasks and DAGs a storm impact does not list', () => {
    const tasks = Array.from({ length: 3 }, (_, i) => ({
      entity: `airflow:task:dag_${i}/run_1/load`,
      dagId: `dag_${i}`,
      runId: 'run_1',
      taskId: 'load',
      state: i === 0 ? ('recovered' as const) : ('failed' as const),
    }));
    const m = renderIncidentMessage(
      incident({
        impact: {
          dags: ['dag_0', 'dag_1', 'dag_2'],
          tasks,
          sparkJobs: 0,
          omittedTasks: 700,
          omittedDags: 40,
        },
      }),
      { incidentUrl: (id) => `https://guardian.example/${id}` },
    );
    const all = everything(m);
    expect((m.blocks[0] as unknown as { text: { text: string } }).text.text).toBe(
      ':large_orange_circle: Spark worker memory above 90% — 703 tasks in 43 DAGs: 2 failed, 1 recovered, 700 more',
    );
    expect(all).toContain('*Impact* · 703 tasks in 43 DAGs: 2 failed, 1 recovered, 700 more');
    expect(all).toContain('+40 more DAGs');
    expect(all).not.toContain('all recovered');
  });

  it('names the tasks up for retry, by DAG, and says they heal by themselves', () => {
    const task = (dag: string, id: string, state: 'retrying' | 'failed') => ({
      entity: `airflow:task:${dag}/scheduled__2026-09-14T02:00:00+00:00/${id}`,
      dagId: dag,
      runId: 'scheduled__2026-09-14T02:00:00+00:00',
      taskId: id,
      state,
    });
    const m = renderIncidentMessage(
      incident({
        title: 'Spot worker 10.0.6.44 reclaimed',
        rootCause: {
          entity: 'host:10.0.6.44',
          kind: 'spot_interruption',
          confidence: 0.95,
          title: 'Spot worker 10.0.6.44 reclaimed',
          evidence: ['Spot interruption in spark-worker@10.0.6.44', 'executor 34 lost', 'executor 35 lost'],
        },
        impact: {
          dags: ['customers_daily', 'orders_daily'],
          tasks: [
            task('orders_daily', 'silver_orders', 'retrying'),
            task('customers_daily', 'silver_customers', 'retrying'),
          ],
          sparkJobs: 2,
        },
      }),
    );
    expect((m.blocks[0] as unknown as { text: { text: string } }).text.text).toBe(
      ':large_orange_circle: Spot worker 10.0.6.44 reclaimed — 2 tasks in 2 DAGs up for retry',
    );
    const all = everything(m);
    expect(all).toContain(
      '*Impact* · 2 tasks in 2 DAGs: 2 up for retry · 2 Spark jobs failed · the 2 tasks up for retry run again on their own',
    );
    expect(all).toContain(
      '• `customers_daily` (run of 2026-09-14 02:00): silver_customers :hourglass_flowing_sand: up for retry',
    );
    expect(all).toContain(
      'Spot worker 10.0.6.44 reclaimed: Spot interruption in spark-worker@10.0.6.44 (and 2 more signals)',
    );
  });

  it('gives the cause once, when it was first seen and how much it explains', () => {
    const line = (evidence: string[]) =>
      everything(
        renderIncidentMessage(
          incident({
            title: 'Airflow scheduler is unhealthy',
            rootCause: {
              entity: 'airflow:scheduler',
              kind: 'component_unhealthy',
              confidence: 0.8,
              title: 'Airflow scheduler is unhealthy',
              evidence,
            },
          }),
        ),
      );
    expect(line(['02:07:00Z Airflow scheduler is unhealthy'])).toContain(
      'Airflow scheduler is unhealthy since 02:07:00Z"',
    );
    const many = line([
      '02:07:00Z Airflow scheduler is unhealthy',
      '02:07:02Z points at it: Airflow task a.b failed try 1 and will retry',
      '02:07:09Z points at it: Airflow task c.d failed try 1 and will retry',
      '02:08:10Z points at it: Airflow task e.f failed try 1 and will retry',
      '… explains 7 of 8 failures in all',
    ]);
    expect(many).toContain('Airflow scheduler is unhealthy since 02:07:00Z · explains 7 of 8 failures');
    expect(many).not.toContain('more signal');
    expect(
      line(['02:06:19Z Disk full in airflow-scheduler@airflow-scheduler-1', '02:07:00Z points at it: x']),
    ).toContain(
      'Airflow scheduler is unhealthy: 02:06:19Z Disk full in airflow-scheduler@airflow-scheduler-1 (and 1 more signal)',
    );
  });

  it('renders an incident with no signals, entities or cause', () => {
    const m = renderIncidentMessage(incident({ signals: [], entities: [], rootCause: null }));
    expect(validateBlocks(m.blocks)).toEqual([]);
    expect(m.text).toContain('[OPEN]');
  });
});

describe('incident thread replies', () => {
  const none = { joined: [], cleared: [], refired: [] };

  it('say the incident resolved, after how long, and who resolved it', () => {
    const resolved = incident({
      status: 'resolved',
      resolvedAt: t0 + 90_000,
      signals: [signal(1), signal(2)],
    });
    const m = renderThreadUpdate(resolved, { ...none, status: { from: 'open', to: 'resolved' } })!;
    expect(m.text).toBe('[RESOLVED] Spark worker memory above 90%: resolved after 1m 30s');
    expect(everything(m)).toContain(
      '*Resolved* after 1m 30s at 2026-03-02 02:12:30 UTC: all 2 signals cleared.',
    );
    const byHand = renderThreadUpdate(resolved, {
      ...none,
      status: { from: 'acknowledged', to: 'resolved', by: { id: 'U024BE7LH', name: 'ana', via: 'slack' } },
    })!;
    expect(everything(byHand)).toContain('after 1m 30s at 2026-03-02 02:12:30 UTC by <@U024BE7LH>.');
  });

  it('say why an incident ended on its own: the signal that cleared last', () => {
    const resolved = incident({
      status: 'resolved',
      resolvedAt: t0 + 90_000,
      signals: [
        signal(1, { status: 'resolved', lastSeen: t0 + 60_000, title: 'memory back under 90% on 10.0.3.1' }),
        signal(2, { status: 'resolved', lastSeen: t0 + 90_000, title: 'memory back under 90% on 10.0.3.2' }),
      ],
    });
    const m = renderThreadUpdate(resolved, { ...none, status: { from: 'open', to: 'resolved' } })!;
    expect(everything(m)).toContain(
      '*Resolved* after 1m 30s at 2026-03-02 02:12:30 UTC: all 2 signals cleared, the last at 2026-03-02 02:12:30 UTC: memory back under 90% on 10.0.3.2.',
    );
  });

  it('summarise every signal that joined since the last reply in one reply', () => {
    const joined = [
      signal(9, { title: 'Executor lost on 10.0.3.9', severity: 'critical' }),
      signal(10),
      signal(11),
    ];
    const m = renderThreadUpdate(incident({ signals: [signal(1), ...joined] }), { ...none, joined })!;
    expect(m.text).toContain('3 new signals');
    const all = everything(m);
    expect(all).toContain('*3 new signals*');
    expect(all).toContain('Executor lost on 10.0.3.9 (critical) on `metric:');
    expect(all).toContain('4 of 4 signals firing');
  });

  it('say the severity went up, and who acknowledged', () => {
    const m = renderThreadUpdate(incident({ severity: 'critical', status: 'acknowledged' }), {
      ...none,
      severity: { from: 'high', to: 'critical' },
      status: { from: 'open', to: 'acknowledged', by: { id: 'U1ABC', name: 'bo', via: 'slack' } },
    })!;
    expect(m.text).toContain('acknowledged, severity critical');
    expect(everything(m)).toContain('*Acknowledged* by <@U1ABC>');
    expect(everything(m)).toContain('*Severity raised to critical* :red_circle: (was high)');
  });

  it('say an incident merged into another one where it lives on', () => {
    const merged = incident({ status: 'resolved', resolvedAt: t0 + 1000, mergedInto: 'inc_cause' });
    const m = renderThreadUpdate(merged, { ...none, status: { from: 'open', to: 'resolved' } })!;
    expect(everything(m)).toContain('*Merged* into `inc_cause`');
    expect(everything(m)).not.toContain('*Resolved*');
  });

  it('say nothing when nothing changed', () => {
    expect(renderThreadUpdate(incident(), none)).toBeNull();
  });

  it('stay within Block Kit limits', () => {
    const many = Array.from({ length: 200 }, (_, i) =>
      signal(i, { title: 'y'.repeat(5000), entity: 'e'.repeat(5000) }),
    );
    const huge = incident({
      title: 'x'.repeat(5000),
      signals: many,
      status: 'resolved',
      resolvedAt: t0 + 1000,
    });
    const m = renderThreadUpdate(huge, {
      joined: many,
      cleared: many,
      refired: many,
      severity: { from: 'low', to: 'critical' },
      status: { from: 'open', to: 'resolved' },
    })!;
    expect(validateBlocks(m.blocks)).toEqual([]);
    expect(m.text.length).toBeLessThanOrEqual(BLOCK_KIT.fallbackText);
  });
});

describe('validateBlocks', () => {
  it('accepts valid blocks', () => {
    expect(
      validateBlocks([
        { type: 'header', text: { type: 'plain_text', text: 'h' } },
        { type: 'section', block_id: 'a', fields: [{ type: 'mrkdwn', text: 'f' }] },
        { type: 'context', elements: [{ type: 'image', image_url: 'https://x', alt_text: 'x' }] },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'ack', text: { type: 'plain_text', text: 'Ack' }, value: 'v' },
          ],
        },
        { type: 'divider' },
      ]),
    ).toEqual([]);
  });

  it('finds what Slack would reject', () => {
    const button = (action_id: string, text = 'b') => ({
      type: 'button',
      action_id,
      text: { type: 'plain_text', text },
    });
    const problems = validateBlocks([
      { type: 'header', text: { type: 'mrkdwn', text: 'a' } },
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
      { type: 'section', text: { type: 'mrkdwn', text: '' } },
      { type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(3001) } },
      { type: 'section', block_id: 'x' },
      { type: 'divider', block_id: 'x' },
      { type: 'divider', block_id: 'i'.repeat(256) },
      { type: 'carousel' },
      { type: 'context', elements: [] },
      { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) },
      { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
      { type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] },
      { type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`a${i}`)) },
      {
        type: 'actions',
        elements: [
          button('dup', 'b'.repeat(76)),
          button('dup'),
          { ...button('u'), value: 'v'.repeat(2001), url: `https://${'u'.repeat(3000)}` },
          button('a'.repeat(256)),
        ],
      },
    ]);
    const expected = [
      'blocks[0].text must be plain_text',
      'blocks[1].text.text has 151 characters',
      'blocks[2].text.text has 0 characters',
      'blocks[3].text.text has 3001 characters',
      'blocks[4] needs text or fields',
      'blocks[5].block_id "x" is not unique',
      'blocks[6].block_id longer than 255',
      'blocks[7].type "carousel" is not a message block type',
      'blocks[8].elements must not be empty',
      'blocks[9].elements: 11, at most 10',
      'blocks[10].fields must hold 1 to 10',
      'blocks[11].fields[0].text has 2001 characters',
      'blocks[12].elements: 26, at most 25',
      'blocks[13].elements[0].text.text has 76 characters',
      'blocks[13].elements[1].action_id "dup" is not unique',
      'blocks[13].elements[2].value longer than 2000',
      'blocks[13].elements[2].url longer than 3000',
      'blocks[13].elements[3].action_id longer than 255',
      'blocks total',
    ];
    for (const e of expected)
      expect(
        problems.some((p) => p.startsWith(e)),
        e,
      ).toBe(true);
    expect(problems).toHaveLength(expected.length);
  });

  it('limits the number of blocks and their total size', () => {
    expect(validateBlocks(Array.from({ length: 51 }, () => ({ type: 'divider' })))).toEqual([
      '51 blocks, at most 50 allowed',
    ]);
    const big = Array.from({ length: 5 }, () => ({
      type: 'section',
      text: { type: 'mrkdwn', text: 's'.repeat(2900) },
    }));
    expect(blocksSize(big)).toBeGreaterThan(BLOCK_KIT.messageChars);
    expect(validateBlocks(big)).toEqual([expect.stringContaining('msg_blocks_too_long')]);
  });

  it('truncates with an ellipsis, never splitting an emoji', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('ab😀cd', 4)).toBe('ab…');
  });
});

describe('a root cause that is only the first failure', () => {
  const run = 'scheduled__2026-03-02T02:00:00+00:00';
  const failedTry = (dag: string, at: number, over: Partial<IncidentSignal> = {}): IncidentSignal =>
    signal(at, {
      fingerprint: `retry-${dag}`,
      kind: 'airflow.task_retry',
      entity: `airflow:task:${dag}/${run}/extract`,
      related: [`airflow:dagrun:${dag}/${run}`],
      severity: 'low',
      title: `Airflow task ${dag}.extract failed try 1 and will retry`,
      detector: 'airflow-task-failure',
      firstSeen: t0 + at * 1000,
      lastSeen: t0 + at * 1000,
      errorClass: 'database_unavailable',
      evidence: [
        {
          kind: 'text',
          label: 'error',
          text: `psycopg2.OperationalError: connection to server at "erp-db" failed (${dag})`,
        },
      ],
      ...over,
    });
  const dbLog = signal(0, {
    fingerprint: 'db-log',
    kind: 'log.signature',
    entity: 'log:{host="erp-db",level="fatal",service_name="postgresql"}',
    related: ['host:erp-db'],
    severity: 'critical',
    title: 'Database refusing connections (slots or pool exhausted) in postgresql@erp-db',
    firstSeen: t0 - 360_000,
    lastSeen: t0 - 360_000,
    evidence: [],
  });
  const chatter = signal(1, {
    fingerprint: 'chatter',
    kind: 'log.new_line',
    entity: 'log:{host="airflow-scheduler-1",level="info",service_name="airflow-scheduler"}',
    severity: 'info',
    title: 'New in airflow-scheduler: Marking run successful',
    firstSeen: t0 - 600_000,
    lastSeen: t0 - 600_000,
    evidence: [],
  });
  const dags = ['ledger_daily', 'assets_daily', 'inventory_daily'];
  const tasks = dags.map((dag) => ({
    entity: `airflow:task:${dag}/${run}/extract`,
    dagId: dag,
    runId: run,
    taskId: 'extract',
    state: 'retrying' as const,
  }));
  const firstFailure = (over: Partial<Incident> = {}): Incident =>
    incident({
      title: 'Airflow task ledger_daily.extract failed try 1 and will retry',
      rootCause: {
        entity: `airflow:task:ledger_daily/${run}/extract`,
        kind: 'database_unavailable',
        confidence: 0.35,
        title: 'Airflow task ledger_daily.extract failed try 1 and will retry',
        evidence: ['00:00:00Z Airflow task ledger_daily.extract failed try 1 and will retry'],
      },
      signals: [chatter, dbLog, ...dags.map((dag, i) => failedTry(dag, i))],
      impact: { dags: [...dags].sort(), tasks, sparkJobs: 0 },
      ...over,
    });

  it('says no cause is singled out, what the failures share, which came first and what came before', () => {
    const m = renderIncidentMessage(firstFailure());
    expect(m.blocks[0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: ':large_orange_circle: Database refusing connections (slots or pool exhausted) — 3 tasks in 3 DAGs up for retry',
        emoji: true,
      },
    });
    const all = everything(m);
    expect(all).toContain('*Probable cause* · not singled out yet');
    expect(all).not.toContain('35% confidence');
    expect(all).toContain('3 DAGs fail alike: Database refusing connections (slots or pool exhausted)');
    // the most severe signal of something other than the work, seen before the first failure (not
    // info chatter), then the first failure with the line its log ended with, cut to the line's room
    expect(all).toContain(
      'fail alike: Database refusing connections (slots or pool exhausted) · before them: Database refusing connections (slots or pool exhausted) in postgresql@erp-db at 02:05:00Z · first ledger_daily.extract at 02:11:00Z: psycopg2.OperationalError: connection',
    );
    expect(all).not.toContain('Marking run successful');
    expect(validateBlocks(m.blocks)).toEqual([]);
  });

  it('counts the DAGs when the failures share no class, and names nothing seen before when nothing was', () => {
    const signals = dags.map((dag, i) =>
      failedTry(dag, i, { errorClass: i === 0 ? 'database_unavailable' : undefined }),
    );
    const all = everything(renderIncidentMessage(firstFailure({ signals })));
    expect(all).toContain(':large_orange_circle: Failures in 3 DAGs — 3 tasks in 3 DAGs up for retry');
    expect(all).toContain('tasks of 3 DAGs fail · first ledger_daily.extract at 02:11:00Z');
    expect(all).not.toContain('before them');
  });

  it('keeps the cause when the task is the cause: one DAG failing, or a task that did not fail', () => {
    const oneDag = firstFailure({
      signals: [failedTry('ledger_daily', 0)],
      impact: { dags: ['ledger_daily'], tasks: tasks.slice(0, 1), sparkJobs: 0 },
    });
    expect(everything(renderIncidentMessage(oneDag))).toContain('*Probable cause* · 35% confidence');

    const writer = firstFailure({
      rootCause: {
        entity: `airflow:task:dim_refresh/${run}/rebuild`,
        kind: 'upstream_write',
        confidence: 0.75,
        title: 'dim_refresh.rebuild wrote silver.dim just before tasks of 3 DAGs reading it failed',
      },
    });
    const all = everything(renderIncidentMessage(writer));
    expect(all).toContain('*Probable cause* · 75% confidence');
    expect(all).toContain('dim_refresh.rebuild wrote silver.dim');
  });
});
