import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { csvField } from './csv.ts';
import { type LogTemplate, TemplateMiner } from './miner.ts';

const USAGE = `usage: guardian logs templates --in FILE --out PRED.csv
  Mines log templates from FILE (one message per line; line 1 is LineId 1) and writes
  PRED.csv with the columns LineId,EventTemplate (each line's final template).`;

/**
 * `guardian logs …` (argv starts after `logs`). Returns the exit code: 0 done, 1 failed (I/O),
 * 2 usage error.
 */
export async function logsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'templates')
    return usage(sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`);
  const opts = parseOptions(rest);
  if (typeof opts === 'string') return usage(opts);
  try {
    const rows = await mineFile(opts.in);
    await writeFile(opts.out, toCsv(rows));
    return 0;
  } catch (err) {
    process.stderr.write(`logs templates: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** Mines every line of `path` in order; returns each line's cluster (read its final template). */
export async function mineFile(path: string, miner = new TemplateMiner()): Promise<LogTemplate[]> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  const out: LogTemplate[] = [];
  let n = 0;
  for await (const line of lines) out.push(miner.add(line, n++).template);
  return out;
}

/** `LineId,EventTemplate` rows, RFC 4180 quoting. */
export function toCsv(templates: readonly LogTemplate[]): string {
  const parts = ['LineId,EventTemplate\n'];
  for (let i = 0; i < templates.length; i++) parts.push(`${i + 1},${csvField(templates[i]!.template)}\n`);
  return parts.join('');
}

function parseOptions(args: string[]): { in: string; out: string } | string {
  let input: string | undefined;
  let output: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = args[i + 1];
    if (a === '--in' || a === '--out') {
      if (value === undefined || value.startsWith('--')) return `${a} needs a value`;
      if (a === '--in') input = value;
      else output = value;
      i++;
      continue;
    }
    return `unknown option '${a}'`;
  }
  if (!input) return 'missing --in FILE';
  if (!output) return 'missing --out PRED.csv';
  return { in: input, out: output };
}

function usage(problem: string): number {
  process.stderr.write(`logs: ${problem}\n${USAGE}\n`);
  return 2;
}
