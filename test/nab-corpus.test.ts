import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCommand } from '../bench/nab/cli.ts';
import { NabInputError, parseTimestamp, scoreNabFile } from '../bench/nab/corpus.ts';
import { runNabCorpusParallel } from '../bench/nab/parallel.ts';
import { AnomalyScorerPool } from '../detectors/anomaly/core.ts';

describe('guardian detect nab, streaming', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'guardian-nab-stream-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  const score = (text: string, chunk?: number) => {
    const input = write('in.csv', text);
    const output = path.join(dir, 'out.csv');
    const rows = scoreNabFile({ input, output, label: 'cat/in.csv', bytes: 0 }, {}, chunk);
    return { rows, lines: readFileSync(output, 'utf8').split('\n') };
  };

  it('scores every row as the scorer does in memory, whatever the line endings', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => {
      const t = new Date(Date.UTC(2021, 0, 1) + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');
      return `${t},${(50 + 10 * Math.sin(i / 40) + (i === 2500 ? 80 : (i * 7919) % 13) / 10).toFixed(3)}`;
    });
    const pool = new AnomalyScorerPool(1);
    const slot = pool.allocate();
    const expected = rows.map((r) => {
      const [t, v] = r.split(',');
      return pool.score(slot, parseTimestamp(t!), Number(v));
    });
    // CRLF, no newline after the last row, a blank line in between, rows split across reads
    // (a 1,000-byte chunk): same rows, same scores.
    const text = `timestamp,value\r\n${rows.slice(0, 1000).join('\r\n')}\r\n\r\n${rows.slice(1000).join('\n')}`;
    const { rows: count, lines } = score(text, 1000);
    expect(score(text).lines).toEqual(lines);
    expect(() => score(text, 20)).toThrow(/cat\/in\.csv:2: a row longer than 20 bytes/);
    expect(count).toBe(3000);
    expect(lines[0]).toBe('timestamp,value,anomaly_score');
    expect(lines.length).toBe(3002); // header, rows, and the final newline
    for (let i = 0; i < rows.length; i++) {
      const line = lines[i + 1]!;
      expect(line.slice(0, line.lastIndexOf(','))).toBe(rows[i]);
      expect(Number(line.slice(line.lastIndexOf(',') + 1))).toBeCloseTo(expected[i]!, 9);
    }
    expect(Math.max(...expected)).toBeGreaterThan(0.5); // the spike at row 2500 is there to be scored
  });

  it('reads values and stamps the way Number and Date do, beyond the fast path', () => {
    const { lines } = score(
      'timestamp,value\n2021-01-01T00:00:00Z,1e3\n2021-01-01 00:05,-0.5\n2021-01-01 00:10:00, 7 \n',
    );
    expect(score('\ufefftimestamp,value\n2021-01-01 00:00:00,1\n').rows).toBe(1);
    expect(lines.slice(1, 4).map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      '2021-01-01T00:00:00Z,1e3',
      '2021-01-01 00:05,-0.5',
      '2021-01-01 00:10:00, 7 ',
    ]);
  });

  it('names the file and line of a row it cannot read, and a wrong header', () => {
    expect(() => score('timestamp,value\n2021-01-01 00:00:00,1\n2021-01-01 00:05:00,abc\n')).toThrow(
      /cat\/in\.csv:3: cannot read "2021-01-01 00:05:00,abc"/,
    );
    expect(() => score('time,value\n')).toThrow(NabInputError);
    expect(() => score('')).toThrow(/expected the header/);
    expect(() => score('timestamp,value\nnot a date,1\n')).toThrow(/:2: cannot read/);
  });

  it('writes the same results with one worker thread or several, and reports a bad file', async () => {
    const data = path.join(dir, 'corpus');
    for (let k = 0; k < 5; k++) {
      const rows = Array.from(
        { length: 500 + 100 * k },
        (_, i) =>
          `2021-02-0${1 + (i >> 8)} 0${(i >> 6) % 4}:${String(i % 60).padStart(2, '0')}:00,${(i * (k + 3)) % 17}`,
      );
      write(`corpus/c${k % 2}/f${k}.csv`, `timestamp,value\n${rows.join('\n')}\n`);
    }
    const one = await runNabCorpusParallel(data, path.join(dir, 'one'), 1);
    const three = await runNabCorpusParallel(data, path.join(dir, 'three'), 3);
    expect(one.files).toBe(5);
    expect(three.rows).toBe(one.rows);
    expect(one.rows).toBe(500 + 600 + 700 + 800 + 900);
    for (const f of ['c0/f0.csv', 'c1/f1.csv', 'c0/f4.csv'])
      expect(readFileSync(path.join(dir, 'three', f), 'utf8')).toBe(
        readFileSync(path.join(dir, 'one', f), 'utf8'),
      );
    write('corpus/c1/bad.csv', 'timestamp,value\n2021-01-01 00:00:00,x\n');
    await expect(runNabCorpusParallel(data, path.join(dir, 'bad'), 2)).rejects.toThrow(NabInputError);
    expect(
      await detectCommand(['nab', '--data', data, '--out', path.join(dir, 'bad2'), '--workers', '2']),
    ).toBe(1);
  });
});
