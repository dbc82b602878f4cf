import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REFERENCE_END, REFERENCE_START, renderConfigReference, settingPaths } from './reference.ts';
import { ENV_SETTINGS, OTHER_ENV } from './settings.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Tables compared cell by cell, so a Markdown formatter's column alignment is no drift. */
function normalise(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split(/(?<!\\)\|/)
            .map((cell) => (/^\s*-+\s*$/.test(cell) ? '---' : cell.trim()))
            .join('|')
        : line,
    )
    .join('\n');
}

describe('the settings reference', () => {
  it('docs/configuration.md holds what the schema and the settings table say (npm run docs:config)', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/configuration.md'), 'utf8');
    const block = doc.slice(doc.indexOf(REFERENCE_START), doc.indexOf(REFERENCE_END) + REFERENCE_END.length);
    expect(normalise(block), 'docs/configuration.md is stale: run `npm run docs:config`').toBe(
      normalise(renderConfigReference()),
    );
  });

  it('every environment variable sets a setting the schema has', () => {
    const paths = settingPaths();
    const unknown = ENV_SETTINGS.filter((s) => !paths.has(s.path.join('.'))).map((s) => s.env);
    expect(unknown).toEqual([]);
  });

  it('every environment variable the code reads is in the settings table', () => {
    const known = new Set([...ENV_SETTINGS.map((s) => s.env), ...OTHER_ENV.map((o) => o.env)]);
    const read = new Set<string>();
    for (const file of [
      ...sourceFiles(path.join(ROOT, 'src')),
      ...sourceFiles(path.join(ROOT, 'detectors')),
    ]) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\benv(?:\?)?\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) {
        read.add(m[1] ?? m[2]!);
      }
    }
    expect(read.size).toBeGreaterThan(0);
    const undocumented = [...read].filter(
      (name) => !known.has(name) && !(name.startsWith('OTEL_') && known.has('OTEL_*')),
    );
    expect(undocumented, 'add these to src/config/settings.ts (ENV_SETTINGS or OTHER_ENV)').toEqual([]);
  });
});
