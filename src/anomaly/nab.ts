import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type AnomalyScorerConfig, AnomalyScorerPool } from '../../detectors/anomaly/core.ts';

/**
 * Running the anomaly scorer over a Numenta Anomaly Benchmark corpus: every
 * `<data>/<category>/<file>.csv` (`timestamp,value`) is streamed through a fresh scorer, row by
 * row, and written as `<out>/<category>/<file>.csv` with `timestamp,value,anomaly_score`, one row
 * per input row in the same order. A row's score uses that row and the rows before it only.
 */

/** A corpus file that cannot be read as `timestamp,value` rows. */
export class NabInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NabInputError';
  }
}

export interface NabRunSummary {
  readonly files: number;
  readonly rows: number;
  readonly ms: number;
}

/**
 * Scores every corpus file under `dataDir` into `outDir`; `scorer` overrides the scorer's defaults
 * (one configuration for every file, as the benchmark requires).
 */
export function runNabCorpus(
  dataDir: string,
  outDir: string,
  scorer: Partial<AnomalyScorerConfig> = {},
): NabRunSummary {
  const started = performance.now();
  let files = 0;
  let rows = 0;
  for (const category of readdirSync(dataDir).sort()) {
    const categoryDir = path.join(dataDir, category);
    if (!statSync(categoryDir).isDirectory()) continue;
    for (const name of readdirSync(categoryDir).sort()) {
      if (!name.endsWith('.csv')) continue;
      const input = path.join(categoryDir, name);
      const { csv, count } = scoreNabCsv(readFileSync(input, 'utf8'), `${category}/${name}`, scorer);
      mkdirSync(path.join(outDir, category), { recursive: true });
      writeFileSync(path.join(outDir, category, name), csv);
      files++;
      rows += count;
    }
  }
  return { files, rows, ms: performance.now() - started };
}

/** Scores one `timestamp,value` CSV; returns the `timestamp,value,anomaly_score` CSV. */
export function scoreNabCsv(
  text: string,
  label: string,
  config: Partial<AnomalyScorerConfig> = {},
): { csv: string; count: number } {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').trim().toLowerCase();
  if (header !== 'timestamp,value') {
    throw new NabInputError(`${label}: expected the header "timestamp,value", found "${lines[0] ?? ''}"`);
  }
  const scorer = new AnomalyScorerPool(1, config);

  const slot = scorer.allocate();
  const out: string[] = ['timestamp,value,anomaly_score'];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const comma = line.indexOf(',');
    const stamp = comma < 0 ? '' : line.slice(0, comma);
    const raw = comma < 0 ? '' : line.slice(comma + 1).trim();
    const time = parseTimestamp(stamp);
    const value = Number(raw);
    if (Number.isNaN(time) || raw === '' || Number.isNaN(value)) {
      throw new NabInputError(`${label}:${i + 1}: cannot read "${line}" as timestamp,value`);
    }
    const score = scorer.score(slot, time, value);
    out.push(`${stamp},${raw},${score}`);
  }
  return { csv: `${out.join('\n')}\n`, count: out.length - 1 };
}

const LOCAL_STAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Epoch ms; zone-less stamps (NAB's `2014-04-01 00:05:00`) are read as UTC. */
export function parseTimestamp(stamp: string): number {
  const s = stamp.trim();
  return LOCAL_STAMP.test(s) ? Date.parse(`${s.replace(' ', 'T')}Z`) : Date.parse(s);
}
