import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { createGuardian, type Guardian } from '../src/main.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { startSlackStandIn } from './fakes/slack-api.ts';
import { gaugeRequest } from './support/protobuf-writer.ts';

const TOKEN = 'xoxb-storm-token';
const SERIES = 100_000;
const HOSTS = 4;
const PER_REQUEST = 1_000;
/** What the storm may add to the process's resident memory: 100,000 anomaly models (about 1.8 KB each), breaching-series state, the series history (20,000 series) and garbage not yet collected. */
const RSS_BUDGET_BYTES = 512 * 1024 * 1024;

/**
 * One threshold rule breaching on 100,000 series at once (issue 26): through the real OTLP
 * receiver, the detectors, the correlator, the embedded store and a Slack Web API stand-in, it
 * makes one incident per host the series share, and one post each, not one per series.
 */
describe('a rule breaching on 100,000 series', () => {
  let slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  let guardian: Guardian;
  let url: string;
  let dataDir: string;

  beforeAll(async () => {
    slack = await startSlackStandIn({ token: TOKEN });
    dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-storm-'));
    const config = parseConfig({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      notify: { groupWait: 0 },
      slack: { token: TOKEN, apiUrl: slack.url, channel: '#alerts' },
      detection: {
        stateInterval: 0,
        thresholds: [{ id: 'probe', metric: 'probe.value', op: '>', value: 0.5, severity: 'high' }],
      },
    });
    guardian = await createGuardian(config, { logger: silentLogger() });
    url = await guardian.listen();
  });

  afterAll(async () => {
    await guardian?.stop();
    await slack?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('is one incident and one post per shared host, within a memory budget', {
    timeout: 180_000,
  }, async () => {
    const rssBefore = process.memoryUsage().rss;
    const nanos = BigInt(Date.now()) * 1_000_000n;
    let accepted = 0;
    for (let start = 0; start < SERIES; start += PER_REQUEST) {
      const host = `worker-${(start / PER_REQUEST) % HOSTS}`;
      const points = Array.from({ length: PER_REQUEST }, (_, i) => ({
        nanos,
        value: 0.9 + ((start + i) % 97) / 1000,
        attrs: { probe: `p${start + i}` },
      }));
      const res = await fetch(`${url}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: gaugeRequest('probe.value', points, { 'service.name': 'prober', 'host.name': host }),
      });
      expect(res.status).toBe(200);
      accepted += PER_REQUEST;
    }
    await guardian.idle();
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    const res = await fetch(`${url}/api/v1/incidents?limit=100`);
    const { incidents } = (await res.json()) as { incidents: { id: string; title: string }[] };
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.params.thread_ts);
    console.log(
      `storm: ${accepted} series accepted, ${incidents.length} incidents, ${posts.length} posts, RSS +${Math.round(rssGrowth / 1048576)} MiB`,
    );
    expect(accepted).toBe(SERIES);
    expect(incidents).toHaveLength(HOSTS);
    expect(posts).toHaveLength(HOSTS);
    for (const i of incidents)
      expect(i.title).toMatch(/^[\d,]+ series of probe\.value, host worker-\d: worst [\d.]+ > 0\.5$/);
    expect(rssGrowth).toBeLessThan(RSS_BUDGET_BYTES);
  });
});
