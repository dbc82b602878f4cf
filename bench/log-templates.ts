/**
 * Template-miner throughput and memory.
 *
 *   node bench/log-templates.ts [--lines N] [--synthetic N]
 *
 * 1. Replays each Loghub 2k sample (Spark, Hadoop, HDFS, Zookeeper, read from
 *    `../shared/data/loghub` beside the project) until at least `--lines` lines (default 1,000,000)
 *    have been mined by one fresh miner, and prints lines/s. Repeated lines mostly take the
 *    exact-lookup fast path, so this is the steady-state rate of a service whose templates are
 *    known.
 * 2. Mines `--synthetic` generated lines (default 10,000,000) in which every id, number, host and
 *    address is new, plus a trickle of never-repeating word templates that force evictions,
 *    printing lines/s, heap used, RSS and the template count along the way: memory must level
 *    off, not grow with the line count.
 *
 *   node bench/log-templates.ts --emit FILE [--synthetic N]
 *
 * writes N (default 2,000,000) of those synthetic lines to FILE instead, so that the whole CLI
 * process can be timed on them:
 *
 *   /usr/bin/time -v node src/cli.ts logs templates --in FILE --out /tmp/pred.csv
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseCsvRecords } from '../src/logs/csv.ts';
import { TemplateMiner } from '../src/logs/miner.ts';
import { uniform } from './support/noise.ts';

const SETS = ['Spark', 'Hadoop', 'HDFS', 'Zookeeper'] as const;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const loghubDir = resolve(root, '../shared/data/loghub');

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The `Content` column of a Loghub `*_structured.csv`, in file (LineId) order. */
function loghubContent(set: string): string[] {
  const text = readFileSync(join(loghubDir, set, `${set}_2k.log_structured.csv`), 'utf8');
  return parseCsvRecords(text).map((r) => r.Content ?? '');
}

// A full collection before each memory reading, so the heap figure is live data, not garbage
// waiting for the collector (`node --expose-gc` without the flag on the command line).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const perSecond = (n: number, ms: number) => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;

/**
 * Wall time and CPU time of `fn`. The CPU figure is the one-core rate: on a shared machine
 * the wall clock also counts the time the process waited for a core.
 */
function timed(fn: () => void): { wallMs: number; cpuMs: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function replay(set: string, minLines: number): void {
  const lines = loghubContent(set);
  const miner = new TemplateMiner();
  const rounds = Math.ceil(minLines / lines.length);
  // Warm-up round (JIT), not timed.
  for (const l of lines) miner.add(l, 0);
  let n = 0;
  const t = timed(() => {
    for (let r = 0; r < rounds; r++) for (const l of lines) miner.add(l, n++);
  });
  console.log(
    `${set.padEnd(10)} ${n.toLocaleString('en-US').padStart(11)} lines  ${perSecond(n, t.cpuMs).padStart(10)} per CPU second  (${perSecond(n, t.wallMs)} wall)  templates ${miner.size}`,
  );
}

/**
 * The generator of `--synthetic`: line `i` (from 1) of a stream in which every id, number, host
 * and address is new, and one line in 500 is made of fresh words.
 */
function syntheticLines(): (i: number) => string {
  const rnd = uniform(42);
  const int = (n: number) => Math.floor(rnd() * n);
  const hex = (len: number) => {
    let s = '';
    for (let i = 0; i < len; i++) s += '0123456789abcdef'[int(16)];
    return s;
  };
  const ip = () => `10.${int(256)}.${int(256)}.${int(256)}`;
  const word = () => {
    let s = '';
    for (let i = 0; i < 6; i++) s += 'abcdefghijklmnopqrstuvwxyz'[int(26)];
    return s;
  };
  const shapes: (() => string)[] = [
    () => `Got assigned task ${int(1e6)}`,
    () => `Running task ${int(500)}.${int(4)} in stage ${int(90)}.0 (TID ${int(1e6)})`,
    () =>
      `Finished task ${int(500)}.0 in stage ${int(90)}.0 (TID ${int(1e6)}). ${int(9999)} bytes result sent to driver`,
    () =>
      `Receiving block blk_${int(2 ** 31)}${int(2 ** 31)} src: /${ip()}:${int(65536)} dest: /${ip()}:50010`,
    () =>
      `Deleting block blk_-${int(2 ** 31)} file /mnt/hadoop/dfs/data/current/subdir${int(64)}/blk_${int(2 ** 31)}`,
    () =>
      `Executor lost: ${int(400)} (epoch ${int(1e4)}) on ip-${int(256)}-${int(256)}-${int(256)}.ec2.internal`,
    () =>
      `Task attempt_${int(1e12)}_${int(1e4)}_m_${int(1e6)}_${int(9)} failed: java.lang.OutOfMemoryError: Java heap space`,
    () =>
      `Request ${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)} to s3://bucket/path/part-${int(1e5)}.parquet took ${int(5000)} ms`,
    () =>
      `Connection from ${ip()}:${int(65536)} closed after ${(rnd() * 100).toFixed(3)}s, session 0x${hex(14)}`,
    () =>
      `Spilling ${int(1e4)}.${int(10)} MB to disk (${int(100)} times so far) at ${new Date(1.7e12 + int(1e10)).toISOString()}`,
  ];
  return (i) => (i % 500 === 0 ? `${word()} ${word()} ${word()} ${word()}` : shapes[i % shapes.length]!());
}

function synthetic(total: number): void {
  const line = syntheticLines();
  const miner = new TemplateMiner();
  // Small batches, so the harness's own lines die young and do not inflate the heap it reports.
  const chunk = 10_000;
  const batch: string[] = new Array(chunk);
  let cpuMs = 0;
  let wallMs = 0;
  let sinceReport = 0;
  let reportCpu = 0;
  const report = Math.max(chunk, Math.floor(total / 10 / chunk) * chunk);
  for (let done = 0; done < total; ) {
    const size = Math.min(chunk, total - done);
    // Lines are generated outside the timed part. One in 500 is made of fresh words: a new
    // template every time, so eviction must keep the template count bounded.
    for (let j = 0; j < size; j++) batch[j] = line(done + j + 1);
    const t = timed(() => {
      for (let j = 0; j < size; j++) miner.add(batch[j]!, done + j);
    });
    done += size;
    cpuMs += t.cpuMs;
    wallMs += t.wallMs;
    sinceReport += size;
    reportCpu += t.cpuMs;
    if (done % report === 0 || done === total) {
      collectGarbage();
      const m = process.memoryUsage();
      console.log(
        `synthetic  ${done.toLocaleString('en-US').padStart(11)} lines  ${perSecond(sinceReport, reportCpu).padStart(10)} per CPU second  heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}  rss ${mb(m.rss)}  templates ${miner.size}  evicted ${miner.evictions}`,
      );
      sinceReport = 0;
      reportCpu = 0;
    }
  }
  console.log(
    `synthetic  total ${perSecond(total, cpuMs)} per CPU second (${perSecond(total, wallMs)} wall), mining only`,
  );
}

/** Writes `total` synthetic lines to `path`, for timing the whole CLI process on them. */
function emit(path: string, total: number): void {
  const line = syntheticLines();
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < total; done += 10_000) {
      const lines: string[] = [];
      for (let i = done + 1; i <= Math.min(total, done + 10_000); i++) lines.push(line(i));
      writeSync(fd, `${lines.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
  console.log(`wrote ${total.toLocaleString('en-US')} synthetic lines to ${path}`);
}

const minLines = option('--lines', 1_000_000);
const syntheticCount = option('--synthetic', 10_000_000);
const emitTo = process.argv.indexOf('--emit');
if (emitTo >= 0) emit(process.argv[emitTo + 1]!, option('--synthetic', 2_000_000));
else {
  console.log(`node ${process.version}, one core; Loghub samples from ${loghubDir}`);
  if (minLines > 0) for (const set of SETS) replay(set, minLines);
  if (syntheticCount > 0) synthetic(syntheticCount);
}
