import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiKeyScope, generateApiKey, grants } from '../src/auth/api-key.ts';
import { Authenticator } from '../src/auth/authenticator.ts';
import { RateLimiter } from '../src/auth/rate-limit.ts';
import { parseConfig } from '../src/config/load.ts';
import { ManualClock } from '../src/core/index.ts';
import { type RouteEntry, routeTable } from '../src/http/access.ts';
import { createHttpApp } from '../src/http/app.ts';
import { LinkSigner } from '../src/http/signed-links.ts';
import { createGuardian, type Guardian } from '../src/main.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { incidentSignal, spotLossIncident } from './fakes/incidents.ts';

/** Codes of the refusals access control answers with (other 401s, e.g. Slack's signature check, are not ours). */
const LINK_SECRET = 'access-test-link-secret-0123456789abcdef';

const OURS = new Set([
  'missing_key',
  'key_malformed',
  'key_unknown',
  'key_revoked',
  'key_expired',
  'forbidden',
]);

/** The `code` of a JSON error body, if the body is one. */
function bodyCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

type Credential = 'none' | 'malformed' | 'unknown' | 'revoked' | 'expired' | ApiKeyScope;
const CREDENTIALS: readonly Credential[] = [
  'none',
  'malformed',
  'unknown',
  'revoked',
  'expired',
  'read',
  'write',
  'ingest',
  'admin',
];

/**
 * Every route of Guardian as `createGuardian` builds it (the API, the OTLP receiver, the Slack app,
 * the OpenAPI UI, and the ingest-only app), enumerated from fastify as registered, so a route
 * added later is covered without editing this test; each asked from a non-loopback client with
 * no key, a malformed, unknown, revoked and expired key, and a key of each scope.
 */
describe('access control: every route × every credential', () => {
  let dir: string;
  let guardian: Guardian;
  const keys = new Map<Credential, string>();
  let client = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'guardian-access-'));
    const config = parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir: dir,
      logLevel: 'silent',
      slack: { signingSecret: 'access-test-signing-secret' },
      linkSecret: LINK_SECRET,
      otlp: { port: 0 },
      detection: { stateInterval: 0 },
    });
    guardian = await createGuardian(config, { logger: silentLogger() });
    const now = Date.now();
    for (const scope of ['read', 'write', 'ingest', 'admin'] as const) {
      const { record, key } = generateApiKey({ name: `${scope}-holder`, scope, now });
      await guardian.store.createApiKey(record);
      keys.set(scope, key);
    }
    const revoked = generateApiKey({ name: 'gone', scope: 'admin', now });
    await guardian.store.createApiKey(revoked.record);
    await guardian.store.revokeApiKey(revoked.record.id, now);
    keys.set('revoked', revoked.key);
    const expired = generateApiKey({ name: 'old', scope: 'admin', now: now - 120_000, expiresInMs: 60_000 });
    await guardian.store.createApiKey(expired.record);
    keys.set('expired', expired.key);
    // The right shape, an id nobody issued.
    keys.set('unknown', generateApiKey({ name: 'never-stored', scope: 'admin', now }).key);
    keys.set('malformed', 'not-a-guardian-key');
  }, 60_000);

  afterAll(async () => {
    await guardian?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function request(app: FastifyInstance, route: RouteEntry, credential: Credential) {
    const url = route.url.replace(/:[A-Za-z]+/g, 'x').replace(/\*$/, 'index.html');
    const key = keys.get(credential);
    const hasBody = !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(route.method);
    client++;
    return app.inject({
      method: route.method as 'GET',
      url,
      // A different documentation-range address each time: failed attempts are rate limited per address.
      remoteAddress: `198.51.${Math.floor(client / 250) % 250}.${(client % 250) + 1}`,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
      },
      ...(hasBody ? { payload: '{}' } : {}),
    });
  }

  it('classifies every route, and leaves open only health, docs, Slack events and the pages’ static files', () => {
    const routes = [...routeTable(guardian.app), ...routeTable(guardian.ingestApp!)];
    const urls = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const known of [
      'GET /healthz',
      'GET /readyz',
      'GET /api/v1/incidents',
      'GET /api/v1/incidents/:id',
      'POST /api/v1/incidents/:id/actions',
      'GET /api/v1/silences',
      'POST /api/v1/silences',
      'DELETE /api/v1/silences/:id',
      'GET /api/v1/messages',
      'POST /v1/metrics',
      'POST /slack/events',
      'GET /docs/json',
      'GET /',
      'GET /incidents',
      'GET /incidents/:id',
    ]) {
      expect(urls, known).toContain(known);
    }
    for (const r of routes) {
      if (r.access === 'open') {
        // The font and the icon the pages load are public files, the same for everyone.
        expect(r.url, `${r.method} ${r.url}`).toMatch(
          /^\/(healthz|readyz|docs|slack\/events|favicon\.(svg|ico)$|assets\/:name$|$)/,
        );
      }
      if (r.url.startsWith('/incidents')) expect(r.access, r.url).toBe('read');
      if (r.url.startsWith('/api/v1/') && (r.method === 'GET' || r.method === 'HEAD'))
        expect(r.access).toBe('read');
    }
    expect(routes.find((r) => r.url === '/v1/metrics')?.access).toBe('ingest');
    // Actions and silences need write; replaying a dead letter re-runs work, so it needs admin.
    expect(
      routes
        .filter((r) => r.method === 'POST' && r.url.startsWith('/api/v1/'))
        .map((r) => `${r.url} ${r.access}`)
        .sort(),
    ).toEqual([
      '/api/v1/dead-letters/:queue/:id/replay admin',
      '/api/v1/incidents/:id/actions write',
      '/api/v1/silences write',
    ]);
  });

  it('answers each route for each credential as its scope allows: 401, 403 or through', async () => {
    const apps = [guardian.app, guardian.ingestApp!];
    let checked = 0;
    for (const app of apps) {
      for (const route of routeTable(app)) {
        for (const credential of CREDENTIALS) {
          const res = await request(app, route, credential);
          // HEAD answers carry no body: its status alone says what happened.
          const head = route.method === 'HEAD';
          const code = head ? undefined : bodyCode(res.body);
          const what = `${route.method} ${route.url} with ${credential}: ${res.statusCode} ${code ?? ''}`;
          const refusedByUs =
            (res.statusCode === 401 || res.statusCode === 403) && (head || OURS.has(code ?? ''));
          if (route.access === 'open') {
            expect(refusedByUs, what).toBe(false);
          } else if (credential === 'none') {
            expect([res.statusCode, code], what).toEqual([401, head ? undefined : 'missing_key']);
            expect(res.headers['www-authenticate'], what).toBe('Bearer realm="guardian"');
          } else if (['malformed', 'unknown', 'revoked', 'expired'].includes(credential)) {
            expect([res.statusCode, code], what).toEqual([401, head ? undefined : `key_${credential}`]);
            expect(res.headers['www-authenticate'], what).toMatch(
              /^Bearer realm="guardian", error="invalid_token"/,
            );
          } else if (grants(credential as ApiKeyScope, route.access)) {
            expect(refusedByUs, what).toBe(false);
            expect(res.statusCode, what).not.toBe(429);
          } else {
            expect([res.statusCode, code], what).toEqual([403, head ? undefined : 'forbidden']);
          }
          checked++;
        }
      }
    }
    process.stdout.write(
      `access control: ${checked / CREDENTIALS.length} routes × ${CREDENTIALS.length} credentials\n`,
    );
    expect(checked).toBeGreaterThanOrEqual(CREDENTIALS.length * 20);
  }, 120_000);

  it('needs a key for routes that do not exist (which routes exist is not public)', async () => {
    const none = await guardian.app.inject({ url: '/api/v1/nothing', remoteAddress: '203.0.113.9' });
    expect(none.statusCode).toBe(401);
    const withKey = await guardian.app.inject({
      url: '/api/v1/nothing',
      remoteAddress: '203.0.113.9',
      headers: { authorization: `Bearer ${keys.get('read')}` },
    });
    expect(withKey.statusCode).toBe(404);
  });

  it('opens an incident page without a key only with its valid signed link', async () => {
    await guardian.store.create(spotLossIncident('inc_access_page', { signals: [incidentSignal(601)] }));
    const signer = new LinkSigner(LINK_SECRET);
    const page = (query: string) =>
      guardian.app.inject({ url: `/incidents/inc_access_page?${query}`, remoteAddress: '203.0.113.12' });
    const signed = signer.sign('inc_access_page', Date.now());
    expect((await page(signed)).statusCode).toBe(200);
    // Signed for another incident, tampered with, or expired: a key is needed.
    expect((await page(signer.sign('inc_other', Date.now()))).statusCode).toBe(401);
    // (its first character changed for another: `sig=A…` must not stay as it was)
    expect((await page(signed.replace(/sig=(.)/, (_, c) => `sig=${c === 'A' ? 'B' : 'A'}`))).statusCode).toBe(
      401,
    );
    expect(
      (await page(new LinkSigner(LINK_SECRET, 1000).sign('inc_access_page', Date.now() - 10_000))).statusCode,
    ).toBe(401);
    expect((await page('')).statusCode).toBe(401);
    // The signed link opens that page, not the list.
    const list = await guardian.app.inject({ url: `/incidents?${signed}`, remoteAddress: '203.0.113.12' });
    expect(list.statusCode).toBe(401);
  });

  it('once a key exists, loopback clients need one too', async () => {
    const res = await guardian.app.inject({ url: '/api/v1/incidents', remoteAddress: '127.0.0.1' });
    expect(res.statusCode).toBe(401);
  });

  it("records the key's name as who acted, whatever the body says", async () => {
    await guardian.store.create(spotLossIncident('inc_access_by'));
    const res = await guardian.app.inject({
      method: 'POST',
      url: '/api/v1/incidents/inc_access_by/actions',
      remoteAddress: '203.0.113.10',
      headers: { authorization: `Bearer ${keys.get('write')}` },
      payload: { action: 'acknowledge', by: 'somebody-else' },
    });
    expect(res.statusCode).toBe(200);
    const timeline = await guardian.store.timeline('inc_access_by');
    expect(timeline.at(-1)).toMatchObject({
      type: 'acknowledged',
      text: 'acknowledged by write-holder',
      actor: { id: 'write-holder', via: 'api' },
    });
    const silence = await guardian.app.inject({
      method: 'POST',
      url: '/api/v1/silences',
      remoteAddress: '203.0.113.10',
      headers: { authorization: `Bearer ${keys.get('admin')}` },
      payload: { kind: 'spot_interruption', duration: '1h', reason: 'rebalancing' },
    });
    expect(silence.statusCode).toBe(201);
    expect(silence.json()).toMatchObject({
      createdBy: { id: 'admin-holder', via: 'api' },
      reason: 'rebalancing',
      suppressed: 0,
    });
  });

  it('shows the bearer security scheme in the OpenAPI document, and no scheme on open routes', async () => {
    const doc = (await guardian.app.inject({ url: '/docs/json', remoteAddress: '203.0.113.11' })).json() as {
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/api/v1/incidents']!.get!.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
  });
});

describe('access control: rate limits, key cache, store failures', () => {
  const logger = silentLogger();
  const clock = new ManualClock(Date.parse('2026-03-04T03:00:00Z'));

  /** A store with keys only: what access control reads. */
  function keyStore() {
    const records = new Map<string, ReturnType<typeof generateApiKey>['record']>();
    let failing = false;
    let hanging = false;
    let reads = 0;
    return {
      records,
      fail: (on: boolean) => {
        failing = on;
      },
      hang: (on: boolean) => {
        hanging = on;
      },
      reads: () => reads,
      store: {
        async getApiKey(id: string) {
          reads++;
          if (hanging) await new Promise(() => {});
          if (failing) throw new Error('store down');
          return records.get(id) ?? null;
        },
        async listApiKeys() {
          if (failing) throw new Error('store down');
          return [...records.values()];
        },
      },
    };
  }

  async function appWith(keysOf: ReturnType<typeof keyStore>) {
    const authenticator = new Authenticator({ store: keysOf.store, clock, cacheMs: 10_000 });
    return createHttpApp({
      logger,
      // Routes that reach the incident store are not asked here; access control reads keys only.
      store: {} as never,
      clock,
      outbox: () => [],
      health: { checks: {}, isStopping: () => false },
      access: {
        authenticator,
        perKey: new RateLimiter({ rate: 1, burst: 3 }),
        failures: new RateLimiter({ rate: 1, burst: 2 }),
      },
    });
  }

  it('answers 429 with Retry-After past a key’s burst, and lets it through again once refilled', async () => {
    const k = keyStore();
    const { record, key } = generateApiKey({ name: 'busy', scope: 'read', now: clock.now() });
    k.records.set(record.id, record);
    const app = await appWith(k);
    const ask = () => app.inject({ url: '/api/v1/messages', headers: { authorization: `Bearer ${key}` } });
    for (let i = 0; i < 3; i++) expect((await ask()).statusCode).toBe(200);
    const limited = await ask();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    await clock.advanceBy(1000);
    expect((await ask()).statusCode).toBe(200);
    await app.close();
  });

  it('limits failed attempts per address, bounding store reads for made-up keys', async () => {
    const k = keyStore();
    const app = await appWith(k);
    const made = () => generateApiKey({ name: 'x', scope: 'admin', now: clock.now() }).key;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await app.inject({
        url: '/api/v1/messages',
        remoteAddress: '203.0.113.50',
        headers: { authorization: `Bearer ${made()}` },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 429, 429, 429, 429]);
    expect(k.reads()).toBe(6);
    await app.close();
  });

  it('stops a revoked key within the cache time, and keeps it stopped while the store is down', async () => {
    const k = keyStore();
    const { record, key } = generateApiKey({ name: 'soon-gone', scope: 'read', now: clock.now() });
    k.records.set(record.id, record);
    const app = await appWith(k);
    const ask = () =>
      app.inject({
        url: '/api/v1/messages',
        remoteAddress: '203.0.113.60',
        headers: { authorization: `Bearer ${key}` },
      });
    expect((await ask()).statusCode).toBe(200);
    k.records.set(record.id, { ...record, revokedAt: clock.now() });
    // Cached: still accepted for up to 10 s, then refused.
    await clock.advanceBy(1000);
    expect((await ask()).statusCode).toBe(200);
    await clock.advanceBy(10_000);
    const refused = await ask();
    expect([refused.statusCode, (refused.json() as { code: string }).code]).toEqual([401, 'key_revoked']);
    k.fail(true);
    await clock.advanceBy(10_000);
    expect((await ask()).statusCode).toBe(401);
    await app.close();
  });

  it('answers a known key within about a second when the store does not answer at all, one read at a time', async () => {
    const k = keyStore();
    const known = generateApiKey({ name: 'exporter', scope: 'ingest', now: clock.now() });
    k.records.set(known.record.id, known.record);
    const app = await appWith(k);
    const ask = () =>
      app.inject({
        url: '/api/v1/messages',
        remoteAddress: '203.0.113.62',
        headers: { authorization: `Bearer ${known.key}` },
      });
    expect((await ask()).statusCode).toBe(403);
    k.hang(true);
    await clock.advanceBy(20_000);
    const readsBefore = k.reads();
    const started = performance.now();
    const answers = await Promise.all([ask(), ask(), ask()]);
    expect(answers.map((a) => a.statusCode)).toEqual([403, 403, 403]);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(k.reads()).toBe(readsBefore + 1);
    await app.close();
  });

  it('keeps known keys working through a store outage of up to 1 h, then answers 503; an unseen key gets 503', async () => {
    const k = keyStore();
    const known = generateApiKey({ name: 'exporter', scope: 'ingest', now: clock.now() });
    const unseen = generateApiKey({ name: 'new-laptop', scope: 'read', now: clock.now() });
    k.records.set(known.record.id, known.record);
    k.records.set(unseen.record.id, unseen.record);
    const app = await appWith(k);
    const ask = (key: string) =>
      app.inject({
        url: '/api/v1/messages',
        remoteAddress: '203.0.113.61',
        headers: { authorization: `Bearer ${key}` },
      });
    expect((await ask(known.key)).statusCode).toBe(403); // known, read from the store: ingest may not read
    k.fail(true);
    const readsBefore = k.reads();
    await clock.advanceBy(30 * 60_000);
    expect((await ask(known.key)).statusCode).toBe(403);
    expect((await ask(known.key)).statusCode).toBe(403);
    // tried once, then the store is left alone for the cache time
    expect(k.reads()).toBe(readsBefore + 1);
    const fresh = await ask(unseen.key);
    expect([fresh.statusCode, fresh.headers['retry-after']]).toEqual([503, '5']);
    expect(JSON.stringify(fresh.json())).not.toContain('store down');
    await clock.advanceBy(31 * 60_000);
    expect((await ask(known.key)).statusCode).toBe(503);
    k.fail(false);
    await clock.advanceBy(10_000);
    expect((await ask(known.key)).statusCode).toBe(403);
    await app.close();
  });
});
