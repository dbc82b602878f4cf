import { describe, expect, it } from 'vitest';
import type { Incident } from '../core/index.ts';
import { checkSilenceMatchers, findSilence, silenceMatches } from './silences.ts';
import type { Silence } from './store.ts';

const incident = {
  rootCause: { entity: 'host:10.0.4.161', kind: 'spot_interruption', confidence: 1 },
  entities: ['host:10.0.4.161', 'spark:worker:w-1'],
  signals: [{ kind: 'spark.worker_dead', errorClass: 'host_lost' }],
} as unknown as Incident;
const by = { id: 'U1', via: 'slack' as const };
const s = (over: Partial<Silence>): Silence => ({
  id: 's',
  createdAt: 0,
  expiresAt: 100,
  createdBy: by,
  ...over,
});

describe('silences', () => {
  it('match by kind (root cause, signal kind or error class) and by entity glob; all matchers must hold', () => {
    expect(silenceMatches(s({ kind: 'spot_interruption' }), incident)).toBe(true);
    expect(silenceMatches(s({ kind: 'spark.worker_dead' }), incident)).toBe(true);
    expect(silenceMatches(s({ kind: 'host_lost' }), incident)).toBe(true);
    expect(silenceMatches(s({ kind: 'sql_error' }), incident)).toBe(false);
    expect(silenceMatches(s({ entity: 'host:10.0.4.*' }), incident)).toBe(true);
    expect(silenceMatches(s({ entity: 'host:10.0.4' }), incident)).toBe(false);
    expect(silenceMatches(s({ kind: 'spot_interruption', entity: 'host:10.9.*' }), incident)).toBe(false);
    expect(silenceMatches(s({}), incident)).toBe(false);
  });

  it('apply only while active', () => {
    const silences = [s({ id: 'a', kind: 'spot_interruption', createdAt: 0, expiresAt: 100 })];
    expect(findSilence(silences, incident, 50)?.id).toBe('a');
    expect(findSilence(silences, incident, 100)).toBeUndefined();
  });

  it.each([
    [{}, 'matcher', /kind or an entity/],
    [{ kind: '*' }, 'kind', /`\*` is not allowed/],
    [{ kind: 'spot_*' }, 'kind', /`\*` is not allowed/],
    [{ entity: '*' }, 'entity', /must start with an entity kind/],
    [{ entity: '*:*' }, 'entity', /must start with an entity kind/],
    [{ entity: '**' }, 'entity', /must start with an entity kind/],
    [{ entity: '*host*' }, 'entity', /must start with an entity kind/],
    [{ entity: 'host:*' }, 'entity', /too broad/],
    [{ entity: 'host:1*' }, 'entity', /too broad/],
    [{ entity: 'host:**.*' }, 'entity', /too broad/],
    [{ kind: 'spot_interruption', entity: 'spark:*' }, 'entity', /too broad/],
    [{ entity: `host:${'a*'.repeat(9)}` }, 'entity', /9 stars; at most 8/],
    [{ entity: `host:${'a'.repeat(600)}` }, 'entity', /longer than 500/],
  ])('refuse %j (field %s)', (matchers, field, message) => {
    const refusal = checkSilenceMatchers(matchers);
    expect(refusal?.field).toBe(field);
    expect(refusal?.message).toMatch(message);
  });

  it.each([
    { kind: 'spot_interruption' },
    { entity: 'host:10.0.4.*' },
    { entity: 'spark:worker:*' },
    { entity: `host:${'a*'.repeat(8)}` },
    { kind: 'airflow.task_failed', entity: 'airflow:dag:etl_*' },
  ])('accept %j', (matchers) => {
    expect(checkSilenceMatchers(matchers)).toBeUndefined();
  });
});
