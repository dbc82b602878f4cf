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
  it('prefers the playbook’s channel, then DAG mappings, then owners and tags, then the default', () => {
    const options = {
      defaultChannel: '#default',
      dags: [{ dag: 'payments_*', channel: '#payments' }],
      owners: { platform: '#platform' },
      tags: { gold: '#gold' },
      dagInfo: () => ({ owners: ['platform'], tags: ['gold'] }),
    };
    expect(routeIncident(incident, [playbook('#spark')], options)).toEqual({
      channel: '#spark',
      reason: 'playbook p',
    });
    expect(routeIncident(incident, [playbook(undefined)], options).channel).toBe('#payments');
    expect(routeIncident(incident, [playbook('#ignored', true)], { ...options, dags: [] })).toEqual({
      channel: '#platform',
      reason: 'owner platform of payments_daily',
    });
    expect(routeIncident(incident, [], { ...options, dags: [], owners: {} }).channel).toBe('#gold');
    expect(routeIncident(incident, [], { defaultChannel: '#default' })).toEqual({
      channel: '#default',
      reason: 'default',
    });
  });
});
