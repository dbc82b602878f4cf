import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GuardianError, systemClock } from '../core/index.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { createInProcessQueueBackend } from './in-process.ts';
import { QueueJournal } from './journal.ts';

describe('the queue journal: what an in-process queue accepted outlives the process', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'guardian-journal-'));
    file = path.join(dir, 'nested', 'signals-journal.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A process: a queue journaled in `file`, whose handler is `handler`. */
  function start(handler: (id: string) => Promise<void>, attempts = 3) {
    const backend = createInProcessQueueBackend({ clock: systemClock, logger: silentLogger() });
    const journal = QueueJournal.open<{ n: number }>(file, silentLogger());
    const queue = journal.wrap(backend.queue('signals', { attempts, backoffMs: 1, maxBackoffMs: 1 }));
    queue.process((job) => handler(job.id));
    return { journal, queue, backend };
  }

  it('gives the next process the jobs that did not finish, and only those, in order', async () => {
    const first = start(async (id) => {
      if (id !== 'a') await new Promise(() => {}); // b and c never finish: the process "dies"
    });
    for (const [i, id] of ['a', 'b', 'c'].entries()) await first.queue.add(id, { n: i });
    await expect.poll(() => readFileSync(file, 'utf8')).toContain('"done":"a"');
    first.journal.close();

    const ran: string[] = [];
    const second = start(async (id) => void ran.push(id));
    expect(second.journal.pending()).toEqual([
      { id: 'b', data: { n: 1 } },
      { id: 'c', data: { n: 2 } },
    ]);
    // The file now holds just what is pending (rewritten on open).
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    for (const job of second.journal.pending()) await second.queue.add(job.id, job.data);
    await second.queue.idle();
    expect(ran).toEqual(['b', 'c']);
    second.journal.close();
    expect(QueueJournal.open(file, silentLogger()).pending()).toEqual([]);
    await second.backend.close(); // (the first one's handlers never return: a dead process)
  });

  it('keeps a job that failed for good, so the next start tries it again', async () => {
    const p = start(async () => {
      throw new GuardianError('bad', 'not now', { retryable: false });
    });
    await p.queue.add('x', { n: 1 });
    await expect.poll(async () => (await p.queue.deadLetters()).length).toBe(1);
    p.journal.close();
    expect(QueueJournal.open(file, silentLogger()).pending()).toEqual([{ id: 'x', data: { n: 1 } }]);
    await p.backend.close();
  });

  it('skips a line cut off by a crash mid-write, and keeps the rest', async () => {
    const p = start(async () => new Promise(() => {}));
    await p.queue.add('whole', { n: 1 });
    p.journal.close();
    appendFileSync(file, '{"add":"torn","da');
    expect(
      QueueJournal.open(file, silentLogger())
        .pending()
        .map((j) => j.id),
    ).toEqual(['whole']);
  });

  it('stays small: finished jobs are compacted away', async () => {
    const p = start(async () => {});
    for (let i = 0; i < 25_000; i++) await p.queue.add(`job-${i}`, { n: i });
    await p.queue.idle();
    // 25,000 adds and 25,000 dones written; compactions leave at most the last 10,000 dones and
    // their adds (about 50 bytes a line) rather than 50,000 lines.
    expect(statSync(file).size).toBeLessThan(20_001 * 50);
    p.journal.close();
    expect(QueueJournal.open(file, silentLogger()).pending()).toEqual([]);
    await p.backend.close();
  });
});
