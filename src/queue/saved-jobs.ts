import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A job as saved at shutdown: its id and data, queued again under the same id on start. */
export interface SavedJob<T> {
  readonly id: string;
  readonly data: T;
}

/**
 * Writes the jobs an in-process queue could not finish before the shutdown deadline to `file`
 * (write then rename, so a crash mid-write leaves the previous file or none, never half of one).
 */
export function saveJobs<T>(file: string, jobs: readonly SavedJob<T>[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: 1, jobs }));
  renameSync(tmp, file);
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
