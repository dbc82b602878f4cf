/**
 * Template-miner accuracy, leave one system out.
 *
 *   node bench/log-templates-loso.ts [--errors SYSTEM] [--python]
 *
 * For each of the Loghub 2k systems in `../shared/data/loghub` (read from there, never copied),
 * every candidate setting of the miner's tunable parameters (`TUNABLES`) is scored on the other
 * eight systems; the setting with the best mean there is then measured on the one left out. The
 * figures printed per system are those measured when it was left out, then their means, then the
 * full fit (the one setting that is best on all nine) for comparison.
 *
 * Grouping accuracy (GA, against the original templates) and parsing accuracy (PA, against the
 * Loghub-2.0 corrected templates, compared as whole strings after folding whitespace) are computed
 * here from their definitions (Zhu et al. 2019; Liu et al. 2022); `--python` also runs the shared
 * scorer on the defaults' output and prints both, so the two can be compared.
 *
 * `--errors SYSTEM` prints, for that system under the defaults, the ground-truth templates whose
 * lines were grouped or rendered wrongly, with what the miner made of them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toCsv } from '../src/logs/cli.ts';
import { parseCsvRecords } from '../src/logs/csv.ts';
import { TemplateMiner, type TemplateMinerConfig } from '../src/logs/miner.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const loghubDir = resolve(root, '../shared/data/loghub');
const scorer = resolve(root, '../shared/tools/logparse_score.py');

interface System {
  readonly name: string;
  readonly lines: string[];
  /** Original templates (grouping truth). */
  readonly groups: string[];
  /** Corrected templates (parsing truth), whitespace folded. */
  readonly templates: string[];
}

const fold = (t: string) => t.trim().replace(/\s+/g, ' ');

function load(name: string): System {
  const byId = (file: string) =>
    parseCsvRecords(readFileSync(join(loghubDir, name, file), 'utf8')).sort(
      (a, b) => Number(a.LineId) - Number(b.LineId),
    );
  const original = byId(`${name}_2k.log_structured.csv`);
  const corrected = byId(`${name}_2k.log_structured_corrected.csv`);
  return {
    name,
    lines: original.map((r) => (r.Content ?? '').replace(/[\r\n]+/g, ' ')),
    groups: original.map((r) => fold(r.EventTemplate ?? '')),
    templates: corrected.map((r) => fold(r.EventTemplate ?? '')),
  };
}

/** Grouping accuracy: a line counts when its predicted group has exactly its true group's lines. */
function groupingAccuracy(pred: readonly string[], truth: readonly string[]): number {
  const members = (keys: readonly string[]) => {
    const m = new Map<string, number[]>();
    keys.forEach((k, i) => {
      const list = m.get(k);
      if (list) list.push(i);
      else m.set(k, [i]);
    });
    return m;
  };
  const truthSets = new Set([...members(truth).values()].map((l) => l.join(',')));
  let correct = 0;
  for (const list of members(pred).values()) if (truthSets.has(list.join(','))) correct += list.length;
  return correct / truth.length;
}

function parsingAccuracy(pred: readonly string[], truth: readonly string[]): number {
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (fold(pred[i]!) === truth[i]) correct++;
  return correct / truth.length;
}

function mine(system: System, config: TemplateMinerConfig): string[] {
  const miner = new TemplateMiner(config);
  const clusters = system.lines.map((l, i) => miner.add(l, i).template);
  return clusters.map((c) => c.template);
}

interface Score {
  readonly GA: number;
  readonly PA: number;
}

function evaluate(system: System, config: TemplateMinerConfig): Score {
  const pred = mine(system, config);
  return { GA: groupingAccuracy(pred, system.groups), PA: parsingAccuracy(pred, system.templates) };
}

/**
 * The parameters chosen on the systems in, with their candidate values. Everything else in the
 * miner is a fixed rule, the same for every system.
 */
const TUNABLES: Record<string, readonly number[]> = {
  distinctWordsForVariable: [3, 4, 5, 6],
  constantWordsAfterName: [2, 3, 4],
  settledAfter: [8, 16, 32, 64, 1e9],
};

function settings(): TemplateMinerConfig[] {
  let out: Record<string, number>[] = [{}];
  for (const [key, values] of Object.entries(TUNABLES)) {
    out = out.flatMap((s) => values.map((v) => ({ ...s, [key]: v })));
  }
  return out as TemplateMinerConfig[];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (x: number) => x.toFixed(3);
const describe = (c: TemplateMinerConfig) =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

function errors(system: System): void {
  const pred = mine(system, {});
  const byTruth = new Map<string, Map<string, number>>();
  const predSize = new Map<string, number>();
  for (const p of pred) predSize.set(p, (predSize.get(p) ?? 0) + 1);
  system.groups.forEach((g, i) => {
    const m = byTruth.get(g) ?? new Map<string, number>();
    const key = `${pred[i]}\u0000${system.templates[i]}\u0000${system.lines[i]}`;
    const p = `${pred[i]}`;
    if (![...m.keys()].some((k) => k.startsWith(`${p}\u0000`))) m.set(key, 0);
    for (const k of m.keys()) if (k.startsWith(`${p}\u0000`)) m.set(k, m.get(k)! + 1);
    byTruth.set(g, m);
  });
  for (const [g, m] of byTruth) {
    const size = [...m.values()].reduce((a, b) => a + b, 0);
    const bad = [...m].filter(([k, n]) => {
      const [p, t] = k.split('\u0000');
      return m.size > 1 || predSize.get(p!) !== n || fold(p!) !== t;
    });
    if (bad.length === 0) continue;
    console.log(`\nTRUTH (${size}) ${g}`);
    for (const [k, n] of bad) {
      const [p, t, line] = k.split('\u0000');
      const mark = fold(p!) === t ? 'PA ok' : `want ${t}`;
      console.log(`  ${n}/${predSize.get(p!)} ${p}   [${mark}]\n      e.g. ${line}`);
    }
  }
}

const names = readdirSync(loghubDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const errorsFor = process.argv.indexOf('--errors');
if (errorsFor >= 0) {
  errors(load(process.argv[errorsFor + 1]!));
} else {
  const systems = names.map(load);
  const candidates = settings();
  const table = candidates.map((c) => systems.map((s) => evaluate(s, c)));
  // One figure to choose by: grouping first (the detectors key on template ids, so a line in the
  // wrong group is a wrong signature), the template text a tenth as much.
  const merit = (row: readonly Score[], skip: number) =>
    mean(row.filter((_, i) => i !== skip).map((s) => s.GA + s.PA / 10));
  console.log(`node ${process.version}; ${systems.length} systems; ${candidates.length} candidate settings`);
  if (process.argv.includes('--table')) {
    candidates.forEach((c, i) => {
      console.log(
        `${describe(c)}: ${table[i]!.map((r, j) => `${systems[j]!.name} ${f(r.GA)}/${f(r.PA)}`).join(' ')}`,
      );
    });
  }
  console.log('left out       GA     PA    chosen on the others');
  const out: Score[] = [];
  systems.forEach((s, i) => {
    let best = 0;
    for (let c = 1; c < candidates.length; c++) if (merit(table[c]!, i) > merit(table[best]!, i)) best = c;
    const r = table[best]![i]!;
    out.push(r);
    console.log(`${s.name.padEnd(12)} ${f(r.GA)}  ${f(r.PA)}   ${describe(candidates[best]!)}`);
  });
  console.log(`${'mean'.padEnd(12)} ${f(mean(out.map((r) => r.GA)))}  ${f(mean(out.map((r) => r.PA)))}`);
  let full = 0;
  for (let c = 1; c < candidates.length; c++) if (merit(table[c]!, -1) > merit(table[full]!, -1)) full = c;
  const fit = table[full]!;
  console.log(
    `full fit (${describe(candidates[full]!)}): GA ${f(mean(fit.map((r) => r.GA)))}  PA ${f(mean(fit.map((r) => r.PA)))}`,
  );
  console.log(`  ${systems.map((s, i) => `${s.name} ${f(fit[i]!.GA)}/${f(fit[i]!.PA)}`).join(', ')}`);
  if (process.argv.includes('--python')) {
    const dir = mkdtempSync(join(tmpdir(), 'guardian-loso-'));
    try {
      for (const s of systems) {
        const miner = new TemplateMiner();
        const rows = s.lines.map((l, i) => miner.add(l, i).template);
        const pred = join(dir, `${s.name}.csv`);
        writeFileSync(pred, toCsv(rows));
        const run = (truth: string) =>
          JSON.parse(
            execFileSync(
              'python3',
              [scorer, '--pred', pred, '--truth', join(loghubDir, s.name, truth), '--json'],
              {
                encoding: 'utf8',
              },
            ),
          ) as Score;
        const ours = evaluate(s, {});
        console.log(
          `python scorer ${s.name.padEnd(12)} GA ${f(run(`${s.name}_2k.log_structured.csv`).GA)} (here ${f(ours.GA)})  PA ${f(run(`${s.name}_2k.log_structured_corrected.csv`).PA)} (here ${f(ours.PA)})`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
