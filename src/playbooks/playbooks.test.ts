import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Incident } from '../core/index.ts';
import { ConfigError } from '../core/index.ts';
import { incidentVariables, runbookLinks } from './links.ts';
import { loadPlaybooks, parsePlaybook } from './load.ts';
import { PlaybookCatalog } from './match.ts';
import { PLAYBOOK_FILES } from './registry.ts';

const DIR = path.resolve(import.meta.dirname, '../../playbooks');
const t0 = Date.parse('2026-03-04T02:10:00Z');

function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_1',
    status: 'open',
    severity: 'high',
    title: 't',
    openedAt: t0,
    updatedAt: t0,
    resolvedAt: null,
    rootCause: null,
    entities: [],
    signals: [],
    version: 1,
    ...over,
  };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const valid = `---
id: demo
title: Demo
match:
  root_cause_kinds: [demo_kind]
severity: high
owner:
  team: t
  slack_channel: "#demo"
---

## What it means
a

## How to confirm
b

## How to fix
1. c

## How to prevent
d
`;

describe('playbooks', () => {
  it('every registered playbook is valid, and every file in playbooks/ is registered', () => {
    const playbooks = loadPlaybooks(DIR);
    expect(playbooks.map((p) => p.file)).toEqual(PLAYBOOK_FILES);
    const onDisk = readdirSync(DIR).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect([...onDisk].sort()).toEqual([...PLAYBOOK_FILES].sort());
    for (const p of playbooks) {
      expect(p.sections['How to fix'], p.file).toMatch(/^\s*1\. /m);
      expect(p.runbooks.length, p.file).toBeGreaterThan(0);
    }
    expect(playbooks.filter((p) => p.match.fallback).map((p) => p.id)).toEqual(['generic']);
  });

  it('names the file and the field of an invalid front matter', () => {
    expect(
      configError(() => parsePlaybook('demo.md', valid.replace('severity: high', 'severity: urgent')))
        .message,
    ).toMatch(/^playbooks\/demo\.md: severity: /);
    expect(
      configError(() => parsePlaybook('demo.md', valid.replace('[demo_kind]', '[Demo Kind]'))).message,
    ).toMatch(/^playbooks\/demo\.md: match\.root_cause_kinds\.0: a kind/);
    expect(
      configError(() =>
        parsePlaybook(
          'demo.md',
          valid.replace(
            'severity: high',
            'severity: high\nrunbooks:\n  - title: x\n    url: "{{airflow_url}}/{{nope}}"',
          ),
        ),
      ).message,
    ).toBe(
      'playbooks/demo.md: config_invalid'.replace(
        'config_invalid',
        'runbooks.0.url: unknown template variable {{nope}}',
      ),
    );
    expect(
      configError(() => parsePlaybook('demo.md', valid.replace('title: Demo', 'title: Demo\ncolour: red')))
        .message,
    ).toBe('playbooks/demo.md: (front matter): unknown field(s): colour');
    expect(configError(() => parsePlaybook('other.md', valid)).message).toContain(
      'id: "demo" must be the file name',
    );
    expect(
      configError(() => parsePlaybook('demo.md', valid.replace('## How to fix\n1. c\n', ''))).message,
    ).toContain('the section "## How to fix" is missing');
    expect(configError(() => parsePlaybook('demo.md', 'no front matter')).message).toContain(
      'must start with YAML front matter',
    );
    expect(parsePlaybook('demo.md', valid).sections['How to fix']).toBe('1. c');
  });

  it('orders matches: root-cause kind first, error class next, signal kinds last; fallback alone', () => {
    const catalog = new PlaybookCatalog(loadPlaybooks(DIR));
    const spot = catalog.match(
      incident({
        rootCause: { entity: 'host:10.0.4.161', kind: 'spot_interruption', confidence: 0.9 },
        signals: [
          {
            fingerprint: 'f',
            kind: 'spark.executor_lost',
            entity: 'spark:executor:app-1/2',
            related: [],
            status: 'firing',
            severity: 'high',
            title: 'x',
            detector: 'd',
            firstSeen: t0,
            lastSeen: t0,
            count: 1,
            evidence: [],
            errorClass: 'executor_oom',
          },
        ],
      }),
    );
    expect(spot.map((m) => m.playbook.id)).toEqual(['spot-loss', 'executor-oom']);
    expect(spot[0]!.reasons).toContain('root cause kind spot_interruption');
    expect(
      catalog
        .match(incident({ rootCause: { entity: 'x:y', kind: 'never_seen', confidence: 1 } }))
        .map((m) => m.playbook.id),
    ).toEqual(['generic']);
    const sql = catalog.match(
      incident({
        rootCause: {
          entity: 'airflow:task:d/r/t',
          kind: 'sql_error',
          confidence: 1,
          errorClass: 'sql_analysis_error',
        },
      }),
    );
    expect(sql[0]!.playbook.id).toBe('sql-analysis-error');
  });

  it('fills runbook links from the incident and the config, and leaves out links it cannot fill', () => {
    const i = incident({
      entities: [
        'airflow:task:payments_daily/scheduled__2026-03-04T02:00:00+00:00/silver_2',
        'host:10.0.4.161',
      ],
    });
    const vars = incidentVariables(i, {
      airflowUrl: 'https://airflow.example.com/',
      grafanaUrl: 'https://grafana.example.com',
    });
    const links = runbookLinks(
      'p',
      [
        { title: 'task', url: '{{airflow_url}}/dags/{{dag_id}}/runs/{{run_id}}/tasks/{{task_id}}' },
        { title: 'logs', loki: '{host="{{host}}"}' },
        { title: 'needs spark', url: '{{spark_ui_url}}/executors/' },
      ],
      vars,
    );
    expect(links.map((l) => l.title)).toEqual(['task', 'logs']);
    expect(links[0]!.url).toBe(
      'https://airflow.example.com/dags/payments_daily/runs/scheduled__2026-03-04T02%3A00%3A00%2B00%3A00/tasks/silver_2',
    );
    const panes = JSON.parse(decodeURIComponent(new URL(links[1]!.url).searchParams.get('panes')!));
    expect(panes.g.queries[0].expr).toBe('{host="10.0.4.161"}');
    expect(panes.g.range).toEqual({ from: String(t0 - 900_000), to: String(t0 + 900_000) });
  });
});
