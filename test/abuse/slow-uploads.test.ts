import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GuardianProcess, startGuardianProcess } from '../support/guardian-process.ts';

const UPLOADS = 50;
const BODY_BYTES = 60 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 3000;

interface Upload {
  /** The status Guardian answered, if any (the connection may just be closed). */
  status?: number;
  /** When the connection ended, ms after the start. */
  closedAt?: number;
}

/**
 * Opens a connection that announces a 60 MiB OTLP body and sends it at 1 KiB per 100 ms (it
 * would take 17 hours): Guardian must answer (429 when too much is in flight, 408 once the
 * request timeout passes) and close it, while the rest of the API keeps answering.
 */
function slowUpload(url: URL, started: number): { upload: Upload; socket: Socket } {
  const upload: Upload = {};
  const socket = connect(Number(url.port), url.hostname);
  let received = '';
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(
      `POST /v1/metrics HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`,
    );
    const chunk = Buffer.alloc(1024, 0x0a);
    timer = setInterval(() => {
      if (!socket.destroyed) socket.write(chunk);
    }, 100);
  });
  socket.on('data', (data) => {
    received += data.toString('latin1');
    const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
    if (m) upload.status = Number(m[1]);
  });
  const done = () => {
    clearInterval(timer);
    upload.closedAt ??= performance.now() - started;
  };
  socket.on('close', done);
  socket.on('error', done);
  return { upload, socket };
}

describe('slow uploads', () => {
  let guardian: GuardianProcess;

  beforeAll(async () => {
    guardian = await startGuardianProcess({
      detection: { stateInterval: 0 },
      http: { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: 2000 },
    });
  });

  afterAll(async () => {
    await guardian?.stop();
  });

  it(`${UPLOADS} slow ${BODY_BYTES / 2 ** 20} MiB uploads are cut off while /healthz keeps answering`, async () => {
    const url = new URL(guardian.url);
    const started = performance.now();
    const uploads = Array.from({ length: UPLOADS }, () => slowUpload(url, started));
    const health: { status: number; ms: number }[] = [];
    const deadline = started + REQUEST_TIMEOUT_MS + 4000;
    while (performance.now() < deadline && uploads.some((u) => u.upload.closedAt === undefined)) {
      const t = performance.now();
      const res = await fetch(`${guardian.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      health.push({ status: res.status, ms: performance.now() - t });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const u of uploads) u.socket.destroy();
    const statuses = uploads.map((u) => u.upload.status);
    const closed = uploads.map((u) => u.upload.closedAt ?? Number.POSITIVE_INFINITY);
    const refused = statuses.filter((s) => s === 429).length;
    const timedOut = statuses.filter((s) => s === 408).length;
    const stats = await guardian.stats();
    console.log(
      `slow uploads: ${refused} refused 429, ${timedOut} timed out 408, ${UPLOADS - refused - timedOut} closed without status; last closed after ${(Math.max(...closed) / 1000).toFixed(1)} s; /healthz ${health.length} answers, slowest ${Math.max(...health.map((h) => h.ms)).toFixed(0)} ms; peak RSS ${(stats.maxRss / 2 ** 20).toFixed(0)} MiB`,
    );
    // Every upload was answered with a refusal or a timeout and its connection closed in time.
    expect(refused + timedOut).toBe(UPLOADS);
    expect(timedOut).toBeGreaterThan(0);
    expect(Math.max(...closed)).toBeLessThan(REQUEST_TIMEOUT_MS + 3000);
    // The API kept answering, quickly, all along.
    expect(health.length).toBeGreaterThan(10);
    expect(health.every((h) => h.status === 200)).toBe(true);
    expect(Math.max(...health.map((h) => h.ms))).toBeLessThan(1000);
    expect(stats.maxRss).toBeLessThan(512 * 1024 * 1024);
  }, 60_000);
});
