import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { Logger } from '../telemetry/logger.ts';
import type { JobHandler, WorkQueue } from './queue.ts';

/**
 * Done lines written since the last compaction, past which the journal is rewritten with only
 * what is pending: a floor, so a quiet queue is not rewritten on every job, and otherwise as many
 * as are pending, so a rewrite costs on average one line per finished job.
 */
const COMPACT_AFTER_DONE = 10_000;

/** One line of the journal: a job added (`add`, its data) or finished (`done`). */
type Line<T> = { add: string; data: T } | { done: string };

/**
 * A write-ahead journal in front of an in-process queue, so that a job the queue accepted
 * outlives the process: `add` appends the job to a file before the queue takes it, a job that
 * ran to its end appends `done`, and the next start queues again whatever the file holds without
 * a `done` — after a kill -9, a crash or a deploy alike. A job that failed for good stays in the
 * journal, so it is tried again after the next start rather than forgotten with the in-memory
 * dead letters.
 *
 * Lines are appended with one `write` each (no fsync): they survive the process, not the
 * machine. A line cut off by a crash mid-write is skipped when read. The file is rewritten with
 * only the pending jobs once finished ones outnumber them (and {@link COMPACT_AFTER_DONE}), so
 * it stays within a small multiple of the queue's depth.
 *
 * Only for queues whose jobs exist nowhere else (signals); the BullMQ backend keeps jobs in Redis.
 */
export class QueueJournal<T> {
  readonly #file: string;
  readonly #logger: Logger;
  /** Jobs added and not finished, in the order they were added. */
  readonly #pending = new Map<string, T>();
  #fd: number | undefined;
  #doneSinceCompact = 0;

  private constructor(file: string, logger: Logger) {
    this.#file = file;
    this.#logger = logger;
  }

  /**
   * Opens the journal at `file` (made if missing), reads what an earlier process left pending and
   * rewrites the file with just that. Throws when the folder cannot be written.
   */
  static open<T>(file: string, logger: Logger): QueueJournal<T> {
    const journal = new QueueJournal<T>(file, logger);
    journal.#read();
    journal.#compact();
    return journal;
  }

  /** The jobs an earlier process added and did not finish, oldest first. */
  pending(): { id: string; data: T }[] {
    return [...this.#pending].map(([id, data]) => ({ id, data }));
  }

  /**
   * `queue` with its jobs journaled: an add is written before the queue takes it (an add the
   * journal cannot write fails, and the caller's client is asked to send again), and a job is
   * marked done when its handler resolved.
   */
  wrap(queue: WorkQueue<T>): WorkQueue<T> {
    const journal = this;
    return {
      name: queue.name,
      async add(id, data, options) {
        journal.#added(id, data);
        await queue.add(id, data, options);
      },
      process(handler: JobHandler<T>, options) {
        queue.process(async (job) => {
          await handler(job);
          journal.#finished(job.id);
        }, options);
      },
      pause: () => queue.pause(),
      resume: () => queue.resume(),
      depth: () => queue.depth(),
      waiting: () => queue.waiting(),
      consuming: () => queue.consuming(),
      deadLetters: (limit) => queue.deadLetters(limit),
      replay: (id) => queue.replay(id),
      idle: () => queue.idle(),
      async close() {
        await queue.close();
        journal.close();
      },
    };
  }

  /** Closes the file; what is pending stays in it for the next start. */
  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  #added(id: string, data: T): void {
    if (this.#pending.has(id)) return;
    this.#append({ add: id, data });
    this.#pending.set(id, data);
  }

  #finished(id: string): void {
    if (!this.#pending.delete(id)) return;
    try {
      this.#append({ done: id });
      this.#doneSinceCompact++;
      if (this.#doneSinceCompact > Math.max(COMPACT_AFTER_DONE, this.#pending.size)) this.#compact();
    } catch (err) {
      // The job ran; at worst it runs once more after a restart (handlers are idempotent).
      this.#logger.warn({ file: this.#file, err }, 'could not mark a job done in the queue journal');
    }
  }

  #append(line: Line<T>): void {
    if (this.#fd === undefined) this.#fd = openSync(this.#file, 'a');
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
  }

  #read(): void {
    if (!existsSync(this.#file)) return;
    let skipped = 0;
    for (const text of readFileSync(this.#file, 'utf8').split('\n')) {
      if (text === '') continue;
      let line: Line<T>;
      try {
        line = JSON.parse(text) as Line<T>;
      } catch {
        skipped++;
        continue;
      }
      if ('add' in line && typeof line.add === 'string') this.#pending.set(line.add, line.data);
      else if ('done' in line && typeof line.done === 'string') this.#pending.delete(line.done);
      else skipped++;
    }
    if (skipped > 0)
      this.#logger.warn({ file: this.#file, skipped }, 'unreadable lines in the queue journal skipped');
  }

  /** Rewrites the file with the pending jobs only (write, then rename: never half a file). */
  #compact(): void {
    this.close();
    mkdirSync(path.dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp`;
    writeFileSync(
      tmp,
      this.pending()
        .map(({ id, data }) => `${JSON.stringify({ add: id, data })}\n`)
        .join(''),
    );
    renameSync(tmp, this.#file);
    this.#doneSinceCompact = 0;
  }
}
