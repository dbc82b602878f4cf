/**
 * Speed of `guardian detect nab` as a user runs it: the whole process (start-up, reading the CSVs,
 * scoring, writing the results) over a generated corpus, by default 20 series × 500,000 points
 * (10 M points, about 0.3 GB of CSV), with the default worker threads and with one.
 *
 *   node bench/nab-cli.ts                       # 20 × 500,000
 *   node bench/nab-cli.ts --series 4 --points 100000 --workers 1,2
 *
 * The corpus is a day-cycled series with noise and rare spikes at five-minute steps, written in
 * NAB's format (`timestamp,value`) to a temporary folder that is removed afterwards. Run it with
 * `nice`; the figure depends on how busy the machine is (the bench prints the load average).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { noise } from './support/noise.ts';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string', default: '20' },
    points: { type: 'string', default: '500000' },
    workers: { type: 'string', default: `${availableParallelism()},1` },
  },
});
const series = Number(args.series);
const points = Number(args.points);
const root = mkdtempSync(path.join(tmpdir(), 'guardian-nab-cli-'));
const data = path.join(root, 'data', 'generated');
mkdirSync(data, { recursive: true });

const START = Date.UTC(2020, 0, 1);
const STEP = 300_000;
/** `2020-01-01 00:05:00` for epoch ms `t`. */
const stamp = (t: number) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
for (let s = 0; s < series; s++) {
  const fd = openSync(path.join(data, `series-${s}.csv`), 'w');
  const next = noise(1000 + s);
  let text = 'timestamp,value\n';
  for (let i = 0; i < points; i++) {
    const t = START + i * STEP;
    const daily = Math.sin((2 * Math.PI * (t % 86_400_000)) / 86_400_000);
    const spike = i % 9973 === 4000 ? 25 : 0;
    text += `${stamp(t)},${(100 + 20 * daily + 3 * next() + spike).toFixed(2)}\n`;
    if (text.length > 1 << 20) {
      writeSync(fd, text);
      text = '';
    }
  }
  writeSync(fd, text);
  closeSync(fd);
}

const GNU_TIME = '/usr/bin/time';
const cli = path.resolve(import.meta.dirname, '../bin/guardian.js');
console.log(
  `${series} series × ${points} points (${((series * points) / 1e6).toFixed(1)} M points), ${availableParallelism()} cores`,
);
try {
  for (const workers of args.workers.split(',').map(Number)) {
    const out = path.join(root, `out-${workers}`);
    const load = loadavg()[0]!.toFixed(1);
    const started = performance.now();
    const command = [process.execPath, cli, 'detect', 'nab', '--data', path.join(root, 'data'), '--out', out];
    // GNU time reports the CPU the process used: on a shared machine, the wall clock alone says
    // more about the neighbours than about Guardian.
    const timed = existsSync(GNU_TIME);
    const run = timed
      ? spawnSync(GNU_TIME, ['-f', '%U %S', ...command, '--workers', String(workers)], { encoding: 'utf8' })
      : spawnSync(command[0]!, [...command.slice(1), '--workers', String(workers)], { encoding: 'utf8' });
    const seconds = (performance.now() - started) / 1000;
    if (run.status !== 0) throw new Error(`guardian detect nab failed: ${run.stderr}`);
    const mps = (s: number) => `${((series * points) / s / 1e6).toFixed(2)} M points/s`;
    let cpu = '';
    if (timed) {
      const [user, sys] = run.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
      cpu = `; ${(user! + sys!).toFixed(2)} CPU s, ${mps(user! + sys!)} per CPU second`;
    }
    console.log(
      `workers ${workers}: ${seconds.toFixed(2)} s for the whole process, ${mps(seconds)}${cpu} (load average before: ${load})`,
    );
    rmSync(out, { recursive: true, force: true });
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
