import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DEMO_SCENARIO, replayCommand } from './commands.ts';
import type { IncidentsExport } from './runner.ts';

const out = mkdtempSync(path.join(tmpdir(), 'guardian-replay-env-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
});

/** The first post of the demo night, replayed with `GUARDIAN_GROUP_WAIT` set to `wait`. */
async function firstPost(wait: string): Promise<number> {
  vi.stubEnv('GUARDIAN_GROUP_WAIT', wait);
  const file = path.join(out, `${wait}.json`);
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    expect(await replayCommand(DEMO_SCENARIO, { out: file })).toBe(0);
  } finally {
    write.mockRestore();
  }
  const exported = JSON.parse(readFileSync(file, 'utf8')) as IncidentsExport;
  const posts = exported.incidents.flatMap((i) => i.notifications.filter((n) => n.kind === 'post'));
  expect(posts.length).toBeGreaterThan(0);
  return Math.min(...posts.map((p) => Date.parse(p.at)));
}

describe('guardian replay', { timeout: 300_000 }, () => {
  // Leave-one-mode-out replays each value of a setting (`--param GUARDIAN_GROUP_WAIT=…`): the
  // first post's wait of the environment must reach the replayed Guardian, as the correlation's do.
  it('takes the first post’s wait from the environment', async () => {
    const soon = await firstPost('5s');
    const late = await firstPost('65s');
    expect(late - soon).toBeGreaterThanOrEqual(55_000);
  });
});
