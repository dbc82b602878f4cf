import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';

/**
 * A job as versions before the queue journal (journal.ts) saved it at their shutdown deadline, in
 * `unfinished-signals.json`: read once on start, so an upgrade loses none of them.
 */
export interface SavedJob<T> {
  readonly id: string;
  readonly data: T;
}

/**
 * Reads and removes the jobs saved by the last shutdown; none when there is no file. A file that
 * cannot be read is left in place (renamed `.unreadable`) and reported by throwing.
 */
export function takeSavedJobs<T>(file: string): SavedJob<T>[] {
  if (!existsSync(file)) return [];
  let jobs: SavedJob<T>[];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; jobs?: SavedJob<T>[] };
    if (parsed.version !== 1 || !Array.isArray(parsed.jobs)) throw new Error('not a saved-jobs file');
    jobs = parsed.jobs.filter((j) => typeof j?.id === 'string');
  } catch (err) {
    renameSync(file, `${file}.unreadable`);
    throw new Error(`${file} could not be read (kept as ${file}.unreadable): ${(err as Error).message}`);
  }
  rmSync(file);
  return jobs;
}
