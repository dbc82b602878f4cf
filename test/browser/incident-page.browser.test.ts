import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pixelmatch from 'pixelmatch';
import { type Browser, chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentCharts } from '../../src/charts/incident-charts.ts';
import { chartPng } from '../../src/charts/png.ts';
import { SeriesHistory } from '../../src/charts/series-history.ts';
import { type Incident, ManualClock } from '../../src/core/index.ts';
import { createHttpApp } from '../../src/http/app.ts';
import { LinkSigner } from '../../src/http/signed-links.ts';
import type { IncidentStore } from '../../src/incidents/store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { spotLossIncident } from '../fakes/incidents.ts';
import { startEmbeddedStore } from '../support/embedded-store.ts';

/**
 * The incident pages as a person sees them: Debian's Chromium (driven by playwright-core) loads
 * each page at desktop and phone width, with no console error, no horizontal scrolling on a phone,
 * and a screenshot that matches the reviewed one in docs/images (UPDATE_SCREENSHOTS=1 rewrites
 * them, for review). The data and the clock are fixed, and the pages use the font Guardian ships,
 * so the pictures are the same on every machine with this Chromium.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const IMAGES = path.resolve(import.meta.dirname, '../../docs/images');
const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
/** Pixels that may differ (anti-aliasing across builds of the same Chromium). */
const TOLERANCE = 0.01;

const T0 = Date.parse('2026-09-14T02:00:00Z');
const SERIES = 'metric:system.memory.utilization{host.name="10.0.6.44",service.name="spark-worker"}';

function memoryIncident(): Incident {
  return {
    id: 'inc_memory_44',
    status: 'acknowledged',
    severity: 'high',
    title: 'Spark worker 10.0.6.44 memory above 92% — 3 tasks in 2 DAGs retrying',
    openedAt: T0 + 45 * 60_000,
    updatedAt: T0 + 50 * 60_000,
    resolvedAt: null,
    rootCause: {
      entity: SERIES,
      kind: 'metric.threshold',
      confidence: 0.82,
      title: 'Spark worker 10.0.6.44 memory above 92% for 2 minutes',
      evidence: ['system.memory.utilization 0.95 > 0.92 since 02:45 UTC', 'executors on 10.0.6.44 slowed'],
    },
    entities: [SERIES, 'host:10.0.6.44'],
    signals: [
      {
        fingerprint: 'thr_mem_44',
        kind: 'metric.threshold',
        entity: SERIES,
        related: ['host:10.0.6.44'],
        status: 'firing',
        severity: 'high',
        title: 'system.memory.utilization > 0.92 on spark-worker 10.0.6.44',
        detector: 'metric-threshold',
        firstSeen: T0 + 45 * 60_000,
        lastSeen: T0 + 50 * 60_000,
        count: 3,
        evidence: [
          { kind: 'value', label: 'observed', value: 0.95, unit: '1' },
          { kind: 'value', label: 'threshold (>)', value: 0.92, unit: '1' },
        ],
      },
    ],
    impact: {
      dags: ['payments_daily', 'returns_daily'],
      tasks: [
        {
          entity: 'airflow:task:payments_daily/scheduled__2026-09-14T02:00:00+00:00/silver_payments',
          dagId: 'payments_daily',
          runId: 'scheduled__2026-09-14T02:00:00+00:00',
          taskId: 'silver_payments',
          state: 'retrying',
        },
        {
          entity: 'airflow:task:payments_daily/scheduled__2026-09-14T02:00:00+00:00/gold_payments',
          dagId: 'payments_daily',
          runId: 'scheduled__2026-09-14T02:00:00+00:00',
          taskId: 'gold_payments',
          state: 'upstream_failed',
        },
        {
          entity: 'airflow:task:returns_daily/scheduled__2026-09-14T02:00:00+00:00/silver_returns',
          dagId: 'returns_daily',
          runId: 'scheduled__2026-09-14T02:00:00+00:00',
          taskId: 'silver_returns',
          state: 'retrying',
        },
      ],
      sparkJobs: 2,
    },
    version: 1,
  };
}

describe('incident pages in Chromium', () => {
  let app: FastifyInstance;
  let url: string;
  let store: IncidentStore;
  let embedded: Awaited<ReturnType<typeof startEmbeddedStore>>;
  let browser: Browser;
  const history = new SeriesHistory();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install chromium`);
    const logger = silentLogger();
    embedded = await startEmbeddedStore('browser');
    store = embedded.store;
    const memory = memoryIncident();
    await store.create(memory);
    // Posted: the delivery ledger says where, which the page links to.
    await store.putDelivery({
      incidentId: memory.id,
      version: 1,
      thread: { channel: 'C0123456789', ts: '1789353900.000100', claimedAt: T0, digest: 'x' },
    });
    await store.create(spotLossIncident('inc_spot_1'));
    for (let i = 0; i < 120; i++) {
      history.record(
        SERIES,
        T0 + i * 30_000,
        i < 90 ? 0.55 + 0.05 * Math.sin(i / 6) : 0.95 + 0.01 * Math.sin(i),
      );
    }
    app = await createHttpApp({
      logger,
      store,
      clock: new ManualClock(T0 + 60 * 60_000),
      outbox: undefined,
      health: { checks: {}, isStopping: () => false },
      pages: { history, signer: new LinkSigner('browser-test-secret-of-thirty-two-chars') },
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    // Playwright gives each launch a fresh, empty profile of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await embedded?.close();
  });

  async function open(pathname: string, width: number) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    const response = await page.goto(`${url}${pathname}`, { waitUntil: 'load' });
    await page.evaluate('document.fonts.ready');
    return { context, page, problems, status: response?.status() };
  }

  /** Compares with the reviewed screenshot (or writes it, with UPDATE_SCREENSHOTS=1). */
  function matchesReviewed(name: string, png: Buffer): void {
    const file = path.join(IMAGES, name);
    if (UPDATE) {
      mkdirSync(IMAGES, { recursive: true });
      writeFileSync(file, png);
      return;
    }
    if (!existsSync(file))
      throw new Error(`no reviewed screenshot ${file}: run with UPDATE_SCREENSHOTS=1 and review it`);
    const expected = PNG.sync.read(readFileSync(file));
    const actual = PNG.sync.read(png);
    expect([actual.width, actual.height], `${name} size`).toEqual([expected.width, expected.height]);
    const differing = pixelmatch(expected.data, actual.data, undefined, actual.width, actual.height, {
      threshold: 0.1,
    });
    expect(differing / (actual.width * actual.height), `${name}: share of pixels that differ`).toBeLessThan(
      TOLERANCE,
    );
  }

  it('shows an incident at desktop width as reviewed, without console errors', async () => {
    const { context, page, problems, status } = await open('/incidents/inc_memory_44', 1280);
    expect(status).toBe(200);
    expect(problems).toEqual([]);
    await expect(page.locator('h1').textContent()).resolves.toContain('Spark worker 10.0.6.44 memory');
    const chart = page.locator('img.chart');
    await expect(chart.count()).resolves.toBe(1);
    // The chart loaded (a broken image has no natural width).
    await expect(page.evaluate("document.querySelector('img.chart').naturalWidth")).resolves.toBe(800);
    matchesReviewed('incident-page.png', await page.screenshot({ fullPage: true }));
    await context.close();
  });

  it('reads at phone width: no horizontal scrolling on any page', async () => {
    for (const pathname of ['/', '/incidents', '/incidents/inc_memory_44', '/incidents/inc_spot_1']) {
      const { context, page, problems, status } = await open(pathname, 390);
      expect(status, pathname).toBe(200);
      expect(problems, pathname).toEqual([]);
      const widths = (await page.evaluate(
        '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
      )) as { scroll: number; client: number };
      expect(widths.scroll, `${pathname} scrolls sideways`).toBeLessThanOrEqual(widths.client);
      if (pathname === '/incidents/inc_memory_44')
        matchesReviewed('incident-page-phone.png', await page.screenshot({ fullPage: true }));
      await context.close();
    }
  });

  it('draws the chart the page shows as reviewed', () => {
    const [chart] = incidentCharts(memoryIncident(), history);
    matchesReviewed('chart.png', chartPng(chart!.spec));
  });
});
