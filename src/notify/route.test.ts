import { describe, expect, it } from 'vitest';
import type { Incident } from '../core/index.ts';
import type { MatchedPlaybook } from '../playbooks/match.ts';
import { routeIncident } from './route.ts';

const incident = {
  entities: ['airflow:task:payments_daily/r/t', 'host:h'],
  impact: { dags: ['payments_daily'], tasks: [], sparkJobs: 0 },
} as unknown as Incident;
const playbook = (channel: string | undefined, fallback = false) =>
  ({
    playbook: { id: 'p', owner: { team: 't', slack_channel: channel }, match: { fallback } },
  }) as unknown as MatchedPlaybook;

describe('routing', () => {
  it('prefers the playbook’s channel, then DAG mappings, then owners and tags, then the default', async () => {
    const options = {
      defaultChannel: '#default',
      dags: [{ dag: 'payments_*', channel: '#payments' }],
      owners: { platform: '#platform' },
      tags: { gold: '#gold' },
      dagInfo: () => ({ owners: ['platform'], tags: ['gold'] }),
    };
    expect(await routeIncident(incident, [playbook('#spark')], options)).toEqual({
      channel: '#spark',
      reason: 'playbook p',
    });
    expect((await routeIncident(incident, [playbook(undefined)], options)).channel).toBe('#payments');
    expect(await routeIncident(incident, [playbook('#ignored', true)], { ...options, dags: [] })).toEqual({
      channel: '#platform',
      reason: 'owner platform of payments_daily',
    });
    expect((await routeIncident(incident, [], { ...options, dags: [], owners: {} })).channel).toBe('#gold');
    expect(await routeIncident(incident, [], { defaultChannel: '#default' })).toEqual({
      channel: '#default',
      reason: 'default',
    });
  });

  it('looks DAGs up only when it gets that far, and skips owners and tags when the lookup fails', async () => {
    const asked: string[] = [];
    const options = {
      defaultChannel: '#default',
      dags: [{ dag: 'payments_*', channel: '#payments' }],
      owners: { platform: '#platform' },
      dagInfo: async (dag: string) => {
        asked.push(dag);
        throw new Error('airflow: GET /api/v2/dags/payments_daily: cannot connect (ECONNREFUSED)');
      },
    };
    expect((await routeIncident(incident, [], options)).channel).toBe('#payments');
    expect(asked).toEqual([]);
    const route = await routeIncident(incident, [], { ...options, dags: [] });
    expect(asked).toEqual(['payments_daily']);
    expect(route.channel).toBe('#default');
    expect(route.reason).toMatch(
      /^default \(owner\/tag rules skipped, DAG lookup failed: payments_daily: .*ECONNREFUSED/,
    );
    // A DAG Airflow does not know routes by default, without blaming Airflow.
    expect(await routeIncident(incident, [], { ...options, dags: [], dagInfo: async () => null })).toEqual({
      channel: '#default',
      reason: 'default',
    });
  });
});
