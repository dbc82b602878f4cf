import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
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
    await writeCsv(opts.out, await mineFile(opts.in));
    return 0;
  } catch (err) {
    process.stderr.write(`logs templates: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/**
 * Each line's cluster, compactly: line `i` (from 0) has `templates[lines[i]]`. Millions of lines
 * cost four bytes each, and the templates are read at the end, once they are final.
 */
export interface MinedFile {
  readonly lines: Int32Array;
  readonly templates: readonly LogTemplate[];
}

/**
 * Mines every line of `path` in order (lines end at `\n`, `\r\n` or `\r`). The file is read in
 * chunks, so memory holds one chunk, the miner and four bytes a line.
 */
export async function mineFile(path: string, miner = new TemplateMiner()): Promise<MinedFile> {
  let lines = new Int32Array(1 << 16);
  const templates: LogTemplate[] = [];
  const index = new Map<LogTemplate, number>();
  let n = 0;
  const take = (line: string) => {
    const template = miner.add(line, n).template;
    let k = index.get(template);
    if (k === undefined) {
      k = templates.length;
      templates.push(template);
      index.set(template, k);
    }
    if (n === lines.length) {
      const grown = new Int32Array(lines.length * 2);
      grown.set(lines);
      lines = grown;
    }
    lines[n++] = k;
  };
  let carry = '';
  // A `\r` at the end of a chunk may be the first half of `\r\n`.
  let afterCr = false;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 16 })) {
    const text = carry + (chunk as string);
    let start = afterCr && text.charCodeAt(0) === 10 ? 1 : 0;
    afterCr = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      take(text.slice(start, i));
      if (c === 13) {
        if (i + 1 === text.length) afterCr = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    carry = text.slice(start);
  }
  if (carry !== '') take(carry);
  return { lines: lines.subarray(0, n), templates };
}

/** `LineId,EventTemplate` rows, RFC 4180 quoting, written in chunks. */
export async function writeCsv(path: string, mined: MinedFile): Promise<void> {
  const fields = mined.templates.map((t) => csvField(t.template));
  const file = await open(path, 'w');
  try {
    let buffer = 'LineId,EventTemplate\n';
    for (let i = 0; i < mined.lines.length; i++) {
      buffer += `${i + 1},${fields[mined.lines[i]!]}\n`;
      if (buffer.length >= 1 << 20) {
        await file.write(buffer);
        buffer = '';
      }
    }
    await file.write(buffer);
  } finally {
    await file.close();
  }
}

/** `LineId,EventTemplate` rows for templates in line order, RFC 4180 quoting. */
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
