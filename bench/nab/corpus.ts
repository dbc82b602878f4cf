import { closeSync, mkdirSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { type AnomalyScorerConfig, AnomalyScorerPool } from '../../detectors/anomaly/core.ts';

/**
 * Running the anomaly scorer over a Numenta Anomaly Benchmark corpus: every
 * `<data>/<category>/<file>.csv` (`timestamp,value`) is streamed through a fresh scorer, row by
 * row, and written as `<out>/<category>/<file>.csv` with `timestamp,value,anomaly_score`, one row
 * per input row in the same order. A row's score uses that row and the rows before it only.
 *
 * Files are read and written in fixed-size chunks (memory does not grow with a file), and the
 * hot path works on bytes: parsing and formatting text, not scoring, used to dominate the run.
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

/** One corpus file: where it is read from and written to, and its name in messages. */
export interface NabTask {
  readonly input: string;
  readonly output: string;
  /** `<category>/<file>.csv`. */
  readonly label: string;
  /** Input bytes (to hand the largest files out first). */
  readonly bytes: number;
}

/** Every `<dataDir>/<category>/<file>.csv`, in name order, with its output under `outDir`. */
export function listNabTasks(dataDir: string, outDir: string): NabTask[] {
  const tasks: NabTask[] = [];
  for (const category of readdirSync(dataDir).sort()) {
    const categoryDir = path.join(dataDir, category);
    if (!statSync(categoryDir).isDirectory()) continue;
    for (const name of readdirSync(categoryDir).sort()) {
      if (!name.endsWith('.csv')) continue;
      const input = path.join(categoryDir, name);
      tasks.push({
        input,
        output: path.join(outDir, category, name),
        label: `${category}/${name}`,
        bytes: statSync(input).size,
      });
    }
  }
  return tasks;
}

/**
 * Scores every corpus file under `dataDir` into `outDir`, one after the other in this thread;
 * `scorer` overrides the scorer's defaults (one configuration for every file, as the benchmark
 * requires). `runNabCorpusParallel` spreads the files over worker threads.
 */
export function runNabCorpus(
  dataDir: string,
  outDir: string,
  scorer: Partial<AnomalyScorerConfig> = {},
): NabRunSummary {
  const started = performance.now();
  let rows = 0;
  const tasks = listNabTasks(dataDir, outDir);
  for (const task of tasks) rows += scoreNabFile(task, scorer);
  return { files: tasks.length, rows, ms: performance.now() - started };
}

/** Bytes read and written at a time. */
const CHUNK = 1 << 20;
const NL = 10;
const CR = 13;
const COMMA = 44;
const HEADER = 'timestamp,value';
const OUT_HEADER = Buffer.from('timestamp,value,anomaly_score\n');

/**
 * Scores one `timestamp,value` CSV into `task.output`; returns the rows scored. Reads `chunk`
 * bytes at a time (a row must fit in one).
 */
export function scoreNabFile(
  task: NabTask,
  config: Partial<AnomalyScorerConfig> = {},
  chunk = CHUNK,
): number {
  mkdirSync(path.dirname(task.output), { recursive: true });
  const input = openSync(task.input, 'r');
  let output = -1;
  try {
    output = openSync(task.output, 'w');
    const pool = new AnomalyScorerPool(1, config);
    const slot = pool.allocate();
    const src = Buffer.allocUnsafe(chunk);
    const out = Buffer.allocUnsafe(2 * chunk + 64);
    let have = 0; // bytes in src
    let put = 0; // bytes in out
    let line = 1; // line number of the next row
    let header = true;
    let rows = 0;
    let eof = false;
    for (;;) {
      const got = readSync(input, src, have, chunk - have, null);
      eof = got === 0;
      have += got;
      let start = 0;
      for (;;) {
        // One pass over the row's bytes finds its end and its first comma: a native `indexOf`
        // per row costs more than the row's scan.
        let end = start;
        let comma = -1;
        while (end < have) {
          const c = src[end]!;
          if (c === NL) break;
          if (c === COMMA && comma < 0) comma = end;
          end++;
        }
        // At the end of the file the last row may lack its newline.
        if (end >= have && (!eof || start >= have)) break;
        let stop = end;
        if (stop > start && src[stop - 1] === CR) stop--;
        if (header) {
          // A UTF-8 byte-order mark (spreadsheet exports) is not part of the header.
          const bom = src[start] === 0xef && src[start + 1] === 0xbb && src[start + 2] === 0xbf ? 3 : 0;
          const text = src
            .toString('latin1', start + bom, stop)
            .trim()
            .toLowerCase();
          if (text !== HEADER)
            throw new NabInputError(`${task.label}: expected the header "${HEADER}", found "${text}"`);
          header = false;
          put += OUT_HEADER.copy(out, put);
        } else if (!isBlank(src, start, stop)) {
          const ok = comma >= 0 && comma < stop;
          const time = ok ? readTime(src, start, comma) : Number.NaN;
          const value = ok ? readNumber(src, comma + 1, stop) : Number.NaN;
          if (Number.isNaN(time) || Number.isNaN(value)) {
            throw new NabInputError(
              `${task.label}:${line}: cannot read "${src.toString('latin1', start, stop)}" as timestamp,value`,
            );
          }
          const score = pool.score(slot, time, value);
          // The row as it came, a comma, and at most eleven bytes of score and a newline.
          if (put + stop - start + 16 > out.length) {
            writeSync(output, out, 0, put);
            put = 0;
          }
          // Rows are short: a byte loop beats `Buffer#copy`'s per-call overhead.
          for (let k = start; k < stop; k++) out[put++] = src[k]!;
          out[put++] = COMMA;
          put = writeScore(out, put, score);
          out[put++] = NL;
          rows++;
        }
        line++;
        start = end + 1;
      }
      if (eof) break;
      if (start >= have) have = 0;
      else {
        if (start === 0 && have === chunk)
          throw new NabInputError(`${task.label}:${line}: a row longer than ${chunk} bytes`);
        src.copy(src, 0, start, have);
        have -= start;
      }
    }
    if (header)
      throw new NabInputError(`${task.label}: expected the header "${HEADER}", found an empty file`);
    if (put > 0) writeSync(output, out, 0, put);
    return rows;
  } finally {
    closeSync(input);
    if (output >= 0) closeSync(output);
  }
}

function isBlank(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 32 && b[i] !== 9) return false;
  return true;
}

const DIGIT0 = 48;
/** Powers of ten a decimal mantissa is exactly divided by (exact as doubles up to 1e22). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The number written in `b[from, to)`. Plain decimals (`-12.5`) are read from the bytes: a
 * mantissa below 2^53 divided by an exact power of ten is correctly rounded, so the result is
 * `Number(text)`'s; anything else (exponents, long mantissas, spaces) goes through `Number`.
 */
function readNumber(b: Buffer, from: number, to: number): number {
  let i = from;
  let negative = false;
  if (i < to && (b[i] === 45 || b[i] === 43)) negative = b[i++] === 45;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < to; i++) {
    const c = b[i]!;
    if (c === 46 && decimals < 0) decimals = 0;
    else if (c >= DIGIT0 && c <= DIGIT0 + 9) {
      mantissa = mantissa * 10 + (c - DIGIT0);
      digits++;
      if (decimals >= 0) decimals++;
    } else break;
  }
  if (i !== to || digits === 0 || digits > 15 || decimals > 22) {
    const text = b.toString('latin1', from, to).trim();
    return text === '' ? Number.NaN : Number(text);
  }
  const v = decimals > 0 ? mantissa / POW10[decimals]! : mantissa;
  return negative ? -v : v;
}

/** Two decimal digits at `i`, or NaN. */
function two(b: Buffer, i: number): number {
  const hi = b[i]! - DIGIT0;
  const lo = b[i + 1]! - DIGIT0;
  return hi >= 0 && hi <= 9 && lo >= 0 && lo <= 9 ? hi * 10 + lo : Number.NaN;
}

/** The calendar day `readTime` read last, and its epoch ms (rows of a file mostly share days). */
let cachedDay = Number.NaN;
let cachedDayMs = Number.NaN;

/** Epoch ms of the stamp in `b[from, to)`: NAB's `2014-04-01 00:05:00` read from the bytes, as UTC. */
function readTime(b: Buffer, from: number, to: number): number {
  const n = to - from;
  if ((n === 19 || n === 16) && b[from + 4] === 45 && b[from + 7] === 45 && b[from + 13] === 58) {
    const sep = b[from + 10];
    if ((sep === 32 || sep === 84) && (n === 16 || b[from + 16] === 58)) {
      const year = two(b, from) * 100 + two(b, from + 2);
      const month = two(b, from + 5);
      const date = two(b, from + 8);
      // Date.UTC(y, m, d, h, mi, s) is Date.UTC(y, m, d) plus the time of day, linearly (ECMA-262
      // MakeDate), so one Date.UTC a day serves every row of that day.
      const day = (year * 100 + month) * 100 + date;
      if (day !== cachedDay) {
        cachedDay = day;
        cachedDayMs = Date.UTC(year, month - 1, date);
      }
      const t =
        cachedDayMs +
        two(b, from + 11) * 3_600_000 +
        two(b, from + 14) * 60_000 +
        (n === 19 ? two(b, from + 17) * 1000 : 0);
      if (!Number.isNaN(t)) return t;
    }
  }
  return parseTimestamp(b.toString('latin1', from, to));
}

/** Scores are written with nine decimals (ties below 1e-9 do not change a benchmark's ranking). */
const SCORE_UNITS = 1e9;

/** Writes a score in [0, 1] at `at` (`0`, `1` or `0.` and up to nine digits); returns the end. */
function writeScore(out: Buffer, at: number, score: number): number {
  const units = Math.round(score * SCORE_UNITS);
  if (units <= 0) {
    out[at] = DIGIT0;
    return at + 1;
  }
  if (units >= SCORE_UNITS) {
    out[at] = DIGIT0 + 1;
    return at + 1;
  }
  out[at] = DIGIT0;
  out[at + 1] = 46;
  // Under 10^9, so int32 arithmetic (a double's `%` and `Math.floor` cost several times more).
  let v = units | 0;
  let last = at + 10;
  for (let q = (v / 10) | 0; v === q * 10; q = (v / 10) | 0) {
    v = q;
    last--;
  }
  for (let i = last; i >= at + 2; i--) {
    const q = (v / 10) | 0;
    out[i] = DIGIT0 + v - q * 10;
    v = q;
  }
  return last + 1;
}

const LOCAL_STAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Epoch ms; zone-less stamps (NAB's `2014-04-01 00:05:00`) are read as UTC. */
export function parseTimestamp(stamp: string): number {
  const s = stamp.trim();
  return LOCAL_STAMP.test(s) ? Date.parse(`${s.replace(' ', 'T')}Z`) : Date.parse(s);
}
