import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The README block the demo's first message is written into. */
export const EXAMPLE_ALERT_START = '<!-- example-alert:start -->';
export const EXAMPLE_ALERT_END = '<!-- example-alert:end -->';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

/** Runs `guardian demo --exit` as a user would and returns what it printed. */
export function runDemo(): string {
  const r = spawnSync(process.execPath, [CLI, 'demo', '--port', '0', '--exit'], {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`guardian demo exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * The first message the demo printed (the incident's first post), as text, without the demo's
 * indentation: what an engineer sees first.
 */
export function firstPost(demoOutput: string): string {
  const sections = demoOutput.split(/^── .*$/m);
  const heads = [...demoOutput.matchAll(/^── .*$/gm)].map((m) => m[0]);
  const i = heads.findIndex((h) => h.includes('· new message in'));
  if (i < 0) throw new Error('the demo printed no new message');
  return sections[i + 1]!.split('\n')
    .filter((l) => l.startsWith('  '))
    .map((l) => l.slice(2))
    .join('\n')
    .trimEnd();
}

/** The README's example-alert block for a message. */
export function exampleAlertBlock(message: string): string {
  return `${EXAMPLE_ALERT_START}\n\`\`\`\n${message}\n\`\`\`\n${EXAMPLE_ALERT_END}`;
}

/** The example-alert block a README holds now (markers included). */
export function readmeExampleAlert(readme: string): string {
  const start = readme.indexOf(EXAMPLE_ALERT_START);
  const end = readme.indexOf(EXAMPLE_ALERT_END);
  if (start < 0 || end < start)
    throw new Error(`README has no ${EXAMPLE_ALERT_START} … ${EXAMPLE_ALERT_END} block`);
  return readme.slice(start, end + EXAMPLE_ALERT_END.length);
}

// `npm run docs:example-alert` writes the demo's first message into README.md.
if (import.meta.main) {
  const file = fileURLToPath(new URL('../../README.md', import.meta.url));
  const readme = readFileSync(file, 'utf8');
  const next = readme.replace(readmeExampleAlert(readme), exampleAlertBlock(firstPost(runDemo())));
  if (next !== readme) writeFileSync(file, next);
  process.stdout.write(next === readme ? `${file} is up to date\n` : `updated ${file}\n`);
}
