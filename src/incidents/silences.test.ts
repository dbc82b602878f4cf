import { describe, expect, it } from 'vitest';
import type { Incident } from '../core/index.ts';
import { findSilence, silenceMatches } from './silences.ts';
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
});
