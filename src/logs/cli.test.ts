import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logsCommand } from './cli.ts';
import { csvField, parseCsv, parseCsvRecords } from './csv.ts';

describe('guardian logs templates', () => {
  let dir: string;
  let stderr: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'guardian-logs-'));
    stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes each line's final template, quoted as CSV", async () => {
    const input = join(dir, 'in.log');
    const output = join(dir, 'out.csv');
    await writeFile(
      input,
      [
        'Processing the event EventType: CONTAINER_REMOTE_LAUNCH for container c_1',
        'Times: total = 1072, boot = 856, init = 210, finish = 6',
        'Processing the event EventType: CONTAINER_REMOTE_CLEANUP for container c_2',
        'say "hello"',
      ].join('\n'),
    );
    expect(await logsCommand(['templates', '--in', input, '--out', output])).toBe(0);
    const text = await readFile(output, 'utf8');
    expect(text.split('\n')[0]).toBe('LineId,EventTemplate');
    expect(text).toContain('2,"Times: total = <*>, boot = <*>, init = <*>, finish = <*>"\n');
    expect(text).toContain('4,"say ""hello"""\n');
    // Line 1's template is the one its cluster ended with, after line 3 generalised it.
    expect(parseCsvRecords(text)).toEqual([
      { LineId: '1', EventTemplate: 'Processing the event EventType: <*> for container <*>' },
      { LineId: '2', EventTemplate: 'Times: total = <*>, boot = <*>, init = <*>, finish = <*>' },
      { LineId: '3', EventTemplate: 'Processing the event EventType: <*> for container <*>' },
      { LineId: '4', EventTemplate: 'say "hello"' },
    ]);
  });

  it('splits lines at \\n, \\r\\n and \\r, across the chunks the file is read in', async () => {
    const input = join(dir, 'in.log');
    const output = join(dir, 'out.csv');
    // Long lines so that line ends, and a \r\n pair, fall on the 64 KiB chunk boundaries.
    const long = (n: number) => `value ${'x'.repeat(n)}`;
    const lines = [long(65_529), long(10), long(70_000), 'b', 'c', long(200_000), 'last'];
    await writeFile(
      input,
      `${lines[0]}\r\n${lines[1]}\r${lines[2]}\n${lines[3]}\r\n${lines[4]}\n${lines[5]}\r${lines[6]}`,
    );
    expect(await logsCommand(['templates', '--in', input, '--out', output])).toBe(0);
    const rows = parseCsvRecords(await readFile(output, 'utf8'));
    expect(rows.map((r) => r.LineId)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(rows[3]!.EventTemplate).toBe('b');
    expect(rows[6]!.EventTemplate).toBe('last');
  });

  it.each([
    [[], 'missing subcommand'],
    [['mine'], "unknown subcommand 'mine'"],
    [['templates', '--out', 'x.csv'], 'missing --in FILE'],
    [['templates', '--in', 'x.log'], 'missing --out PRED.csv'],
    [['templates', '--in'], '--in needs a value'],
    [['templates', '--in', 'a', '--out', 'b', '--fast'], "unknown option '--fast'"],
  ])('exits 2 with a clear message on %j', async (argv, message) => {
    expect(await logsCommand(argv)).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain('usage: guardian logs templates');
  });

  it('exits 1 when the input cannot be read', async () => {
    expect(
      await logsCommand(['templates', '--in', join(dir, 'missing.log'), '--out', join(dir, 'o.csv')]),
    ).toBe(1);
    expect(stderr).toContain('logs templates:');
  });
});

describe('csv', () => {
  it('quotes only what needs quoting and reads it back', () => {
    const fields = ['plain', 'a,b', 'say "x"', 'two\nlines', ''];
    const line = fields.map(csvField).join(',');
    expect(line).toBe('plain,"a,b","say ""x""","two\nlines",');
    expect(parseCsv(`${line}\r\nnext,row\n`)).toEqual([fields, ['next', 'row']]);
  });
});
