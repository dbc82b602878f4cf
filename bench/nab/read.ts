import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NabFile } from './rules.ts';

/** The `anomaly_score` column of each file's result CSV under `results` (`<category>/<file>.csv`). */
export function readScoredCorpus(results: string, files: readonly NabFile[]): Float64Array[] {
  return files.map((f) => {
    const lines = readFileSync(path.join(results, f.name), 'utf8').trim().split(/\r?\n/).slice(1);
    return Float64Array.from(lines, (l) => Number(l.slice(l.lastIndexOf(',') + 1)));
  });
}
