import { describe, expect, it } from 'vitest';
import { DependencyError, VersionConflictError } from '../core/index.ts';
import { optimistic } from './optimistic.ts';

describe('optimistic', () => {
  it('runs the attempt again after a lost race and returns what the winning attempt wrote', async () => {
    let stored = 0;
    let races = 2;
    const result = await optimistic(
      async () => {
        const read = stored;
        if (races-- > 0) {
          stored += 10; // another writer got in between
          throw new VersionConflictError('changed');
        }
        stored = read + 1;
        return stored;
      },
      { what: 'counter' },
    );
    expect(result).toBe(21);
  });

  it('gives up after the bounded number of attempts with an error that says what and how often', async () => {
    let calls = 0;
    const conflicts: number[] = [];
    const failed = optimistic(
      async () => {
        calls++;
        throw new VersionConflictError('changed');
      },
      { what: 'incident inc_1: apply resolve', attempts: 3, onConflict: (_, n) => void conflicts.push(n) },
    );
    await expect(failed).rejects.toThrow(
      new VersionConflictError('incident inc_1: apply resolve: lost 3 write races in a row'),
    );
    expect(calls).toBe(3);
    // After every lost race, the last included: the next caller starts from a fresh read.
    expect(conflicts).toEqual([1, 2, 3]);
  });

  it('throws anything that is not a lost race at once', async () => {
    let calls = 0;
    const down = new DependencyError('dynamodb', 'ThrottlingException', 'slow down', { retryable: true });
    await expect(
      optimistic(
        async () => {
          calls++;
          throw down;
        },
        { what: 'x' },
      ),
    ).rejects.toBe(down);
    expect(calls).toBe(1);
  });

  it('counts the errors it is told are races too', async () => {
    class Taken extends Error {}
    let calls = 0;
    const result = await optimistic(
      async () => {
        if (++calls < 3) throw new Taken();
        return 'joined';
      },
      { what: 'x', isConflict: (err) => err instanceof Taken },
    );
    expect(result).toBe('joined');
    expect(calls).toBe(3);
  });

  it('refuses a bound that is not a positive integer', async () => {
    await expect(optimistic(async () => 1, { what: 'x', attempts: 0 })).rejects.toThrow(/attempts/);
  });
});
