import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/auth/api-key.ts';
import { parseConfig } from '../src/config/load.ts';
import { ConfigError, ManualClock } from '../src/core/index.ts';
import { createGuardian, type Guardian } from '../src/main.ts';

/**
 * The machine's own non-loopback IPv4 address (eth0's): binding it and connecting to it makes a
 * client that is not loopback. A machine without one cannot run this test: it fails, it does not skip.
 */
function nonLoopbackAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!address)
    throw new Error('no non-loopback IPv4 address on this machine: protected mode cannot be tested');
  return address;
}

/**
 * Protected mode, as Redis has it: with no API key, Guardian answers keyless requests only from
 * loopback clients and refuses to listen on another address unless GUARDIAN_AUTH=off (then it
 * warns, at startup and every hour); once a key exists, every request needs one.
 */
describe('protected mode', () => {
  const dirs: string[] = [];
  const running: Guardian[] = [];
  const eth0 = nonLoopbackAddress();

  afterEach(async () => {
    for (const g of running.splice(0)) await g.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function start(over: Record<string, unknown>, clock = new ManualClock(Date.now())) {
    const dir = mkdtempSync(path.join(tmpdir(), 'guardian-protected-'));
    dirs.push(dir);
    const lines: { level: number; msg: string; auth?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const config = parseConfig({ port: 0, dataDir: dir, detection: { stateInterval: 0 }, ...over });
    const guardian = await createGuardian(config, { logger, clock });
    running.push(guardian);
    return { guardian, lines, clock, config };
  }

  const get = (base: string, pathname: string, key?: string) =>
    fetch(new URL(pathname, base), key ? { headers: { authorization: `Bearer ${key}` } } : {});

  it('defaults to loopback, answers loopback clients without a key, and says so at startup', async () => {
    const { guardian, lines, config } = await start({});
    expect(config.host).toBe('127.0.0.1');
    const url = await guardian.listen();
    expect(lines.find((l) => l.auth === 'protected')?.msg).toMatch(
      /protected mode: no API key is defined, so only clients on this machine/,
    );
    expect((await get(url, '/api/v1/incidents')).status).toBe(200);
  });

  it(`refuses to listen on a non-loopback address (${eth0}) with no key`, async () => {
    const { guardian } = await start({ host: eth0 });
    const err = await guardian.listen().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('host');
    expect((err as Error).message).toMatch(/no API key defined.*guardian keys create.*GUARDIAN_AUTH=off/);
    expect(guardian.app.server.listening).toBe(false);
  });

  it('refuses 0.0.0.0 too, and listens there without keys only with GUARDIAN_AUTH=off, warning every hour', async () => {
    const refused = await start({ host: '0.0.0.0' });
    await expect(refused.guardian.listen()).rejects.toThrow(/host: Guardian would listen on 0\.0\.0\.0/);

    const { guardian, lines, clock } = await start({ host: eth0, auth: { mode: 'off' } });
    const url = await guardian.listen();
    expect(url).toContain(eth0);
    const warnings = () => lines.filter((l) => l.level === 40 && l.auth === 'off');
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]!.msg).toMatch(/authentication is OFF/);
    // A client that is not loopback (it comes from eth0's address) gets in without a key.
    const res = await get(url, '/api/v1/incidents');
    expect(res.status).toBe(200);
    await clock.advanceBy(3_600_000);
    expect(warnings()).toHaveLength(2);
  });

  it('with a key, listens anywhere and needs the key from every client; with none left, loopback only again', async () => {
    const { guardian, clock } = await start(
      { host: '0.0.0.0', otlp: { port: 0 } },
      new ManualClock(Date.now()),
    );
    const { record, key } = generateApiKey({ name: 'ops', scope: 'read', now: clock.now() });
    await guardian.store.createApiKey(record);
    const url = await guardian.listen();
    const port = new URL(url).port;
    const external = `http://${eth0}:${port}`;
    const loopback = `http://127.0.0.1:${port}`;
    expect((await get(external, '/api/v1/incidents')).status).toBe(401);
    expect((await get(loopback, '/api/v1/incidents')).status).toBe(401);
    expect((await get(external, '/api/v1/incidents', key)).status).toBe(200);
    expect((await get(external, '/healthz')).status).toBe(200);
    // The OTLP-only port: ingest with an ingest key, and nothing of the API.
    const ingestPort = (guardian.ingestApp!.server.address() as { port: number }).port;
    const ingest = `http://${eth0}:${ingestPort}`;
    const pusher = generateApiKey({ name: 'pusher', scope: 'ingest', now: clock.now() });
    await guardian.store.createApiKey(pusher.record);
    const pushed = await fetch(`${ingest}/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pusher.key}`, 'content-type': 'application/json' },
      body: '{"resourceMetrics":[]}',
    });
    expect(pushed.status).toBe(200);
    expect((await fetch(`${ingest}/v1/metrics`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await get(ingest, '/api/v1/incidents', key)).status).toBe(404);
    expect((await get(ingest, '/healthz')).status).toBe(200);

    // Revoked: refused within the key cache time; then no usable key is left.
    await guardian.store.revokeApiKey(record.id, clock.now());
    await guardian.store.revokeApiKey(pusher.record.id, clock.now());
    await clock.advanceBy(11_000);
    expect((await get(external, '/api/v1/incidents', key)).status).toBe(401);
    expect((await get(external, '/api/v1/incidents')).status).toBe(401);
    expect((await get(loopback, '/api/v1/incidents')).status).toBe(200);
  });
});
