import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { trace } from '@opentelemetry/api';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { MetricObservation } from '../../core/index.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { GuardianMetrics } from '../../telemetry/metrics.ts';
import { decodeMetricsRequestJson } from './decode-json.ts';
import { decodeMetricsRequest, encodeMetricsResponse, encodeStatus } from './decode-protobuf.ts';
import { MalformedOtlpError } from './decoded.ts';
import { normalise, type SeriesIdentity } from './normalise.ts';

const gunzipAsync = promisify(gunzip);
const tracer = trace.getTracer('guardian');

export interface OtlpReceiverOptions {
  /**
   * Receives the observations of each accepted request, synchronously; the answer waits for the
   * promise it may return (until what they caused is queued).
   */
  sink: (observations: MetricObservation[]) => unknown;
  /**
   * Asked before a request is read: a saturated pipeline answers 429, one that cannot queue what
   * it would detect (its queue is away, or it is stopping) 503, both with Retry-After. OTLP
   * exporters retry on both.
   */
  isSaturated: () => { saturated: boolean; unavailable?: boolean; retryAfterSeconds: number };
  /** `Retry-After` sent when a request or byte limit refuses a request. @defaultValue 1 */
  retryAfterSeconds?: number;
  /**
   * Largest body accepted, after decompression (the OTLP spec recommends 64 MiB).
   * @defaultValue 67108864
   */
  maxBodyBytes?: number;
  /**
   * Export requests handled at once; one more is answered 429 with Retry-After before its body
   * is read. @defaultValue 16
   */
  maxConcurrentRequests?: number;
  /**
   * Bytes of request bodies held at once (as announced by Content-Length, then as inflated):
   * a request that would pass it is answered 429 with Retry-After. A body without a
   * Content-Length counts as `maxBodyBytes`. @defaultValue 268435456 (256 MiB)
   */
  maxBytesInFlight?: number;
  metrics: GuardianMetrics;
  logger: Logger;
  /** Which resource attributes identify a series (`otlp.identifyingAttributes`). @defaultValue the defaults */
  identity?: SeriesIdentity;
}

type Format = 'protobuf' | 'json';

/** google.rpc.Code values used in Status bodies. */
const CODE = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;

class OtlpHttpError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(status: number, code: number, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * OTLP/HTTP metrics receiver, `POST /v1/metrics`, as the OTLP specification describes: protobuf
 * and JSON bodies, gzip, the answer in the request's content type, `partial_success` for points
 * it could not use (the valid ones are kept), a `google.rpc.Status` body for 400/413/415/429.
 * Registered encapsulated: its raw-body parsers do not leak into the rest of the app.
 */
export const otlpReceiver: FastifyPluginAsync<OtlpReceiverOptions> = async (app, options) => {
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const { metrics } = options;
  const inFlight = new InFlight(
    options.maxConcurrentRequests ?? 16,
    options.maxBytesInFlight ?? 256 * 1024 * 1024,
  );
  metrics.meter
    .createObservableGauge('guardian.otlp.requests.in_flight', { unit: '{request}' })
    .addCallback((r) => r.observe(inFlight.requests));
  metrics.meter
    .createObservableGauge('guardian.otlp.bytes.in_flight', { unit: 'By' })
    .addCallback((r) => r.observe(inFlight.bytes));
  const tooBusy = (req: FastifyRequest, reply: FastifyReply, what: string) => {
    reply.header('retry-after', String(options.retryAfterSeconds ?? 1));
    return sendStatus(
      reply,
      formatOf(req),
      429,
      CODE.UNAVAILABLE,
      `Guardian is at its limit of ${what}; retry later`,
    );
  };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );

  const formatOf = (req: FastifyRequest): Format | undefined => {
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
    if (type === 'application/json') return 'json';
    return undefined;
  };

  const sendStatus = (
    reply: FastifyReply,
    format: Format | undefined,
    status: number,
    code: number,
    message: string,
  ) => {
    metrics.rejectedRequests.add(1, { status: String(status) });
    if (format === 'protobuf') {
      return reply
        .code(status)
        .type('application/x-protobuf')
        .send(Buffer.from(encodeStatus(code, message)));
    }
    return reply
      .code(status)
      .type('application/json')
      .send(JSON.stringify({ code, message, details: [] }));
  };

  // Errors before the handler (body too large, aborted upload) still answer as OTLP says.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const format = formatOf(req);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
      return sendStatus(reply, format, 413, CODE.RESOURCE_EXHAUSTED, `body exceeds ${maxBodyBytes} bytes`);
    }
    if (err.statusCode && err.statusCode < 500)
      return sendStatus(reply, format, err.statusCode, CODE.INVALID_ARGUMENT, err.message);
    options.logger.error({ err }, 'OTLP receiver failed');
    return sendStatus(reply, format, 500, 13, 'internal error');
  });

  app.post(
    '/v1/metrics',
    {
      bodyLimit: maxBodyBytes,
      config: { access: 'ingest' },
      // Refuse before reading the body when the pipeline cannot take more.
      onRequest: async (req, reply) => {
        const { saturated, unavailable, retryAfterSeconds } = options.isSaturated();
        if (saturated || unavailable) {
          reply.header('retry-after', String(retryAfterSeconds));
          if (unavailable)
            return sendStatus(
              reply,
              formatOf(req),
              503,
              CODE.UNAVAILABLE,
              'Guardian cannot queue signals now; retry later',
            );
          return sendStatus(
            reply,
            formatOf(req),
            429,
            CODE.UNAVAILABLE,
            'Guardian is saturated; retry later',
          );
        }
        const announced = Number(req.headers['content-length']);
        const bytes =
          Number.isFinite(announced) && announced >= 0 ? Math.min(announced, maxBodyBytes + 1) : maxBodyBytes;
        const refused = inFlight.enter(bytes);
        if (refused) return tooBusy(req, reply, refused);
        // A response closes once, however the request ends (answered, timed out, aborted).
        reply.raw.once('close', () => inFlight.leave(bytes + inflatedOf(req)));
      },
      schema: { hide: false, summary: 'OTLP/HTTP metrics (protobuf or JSON)', tags: ['otlp'] },
    },
    async (req, reply) => {
      const format = formatOf(req);
      if (!format) {
        return sendStatus(
          reply,
          undefined,
          415,
          CODE.INVALID_ARGUMENT,
          `unsupported content-type "${req.headers['content-type'] ?? ''}": use application/x-protobuf or application/json`,
        );
      }
      try {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const body = await decompress(
          raw,
          String(req.headers['content-encoding'] ?? 'identity'),
          maxBodyBytes,
        );
        if (body !== raw) {
          // The inflated body is held too: it counts against the bytes in flight.
          if (!inFlight.hold(body.length)) return tooBusy(req, reply, 'bytes in flight');
          INFLATED.set(req, body.length);
        }
        const decoded =
          format === 'protobuf'
            ? decodeMetricsRequest(body)
            : decodeMetricsRequestJson(body.toString('utf8'));
        const batch = normalise(decoded, options.identity);
        // One span per export request (not per point): ingest cost and outcome in Guardian's traces.
        let taken: unknown;
        tracer.startActiveSpan('otlp.export', (span) => {
          span.setAttributes({
            'otlp.format': format,
            'otlp.points.accepted': batch.accepted,
            'otlp.points.rejected': batch.rejected,
          });
          try {
            if (batch.observations.length > 0) taken = options.sink(batch.observations);
          } finally {
            span.end();
          }
        });
        // "Taken" only once what the points caused is queued: a crash after the answer loses nothing.
        await taken;
        if (batch.accepted > 0) metrics.ingestedPoints.add(batch.accepted);
        if (batch.rejected > 0) metrics.rejectedPoints.add(batch.rejected, { reason: 'invalid_point' });
        const message = batch.rejected > 0 ? batch.errors.join('; ') : '';
        if (format === 'protobuf') {
          return reply
            .code(200)
            .type('application/x-protobuf')
            .send(Buffer.from(encodeMetricsResponse(batch.rejected, message)));
        }
        const response =
          batch.rejected > 0
            ? { partialSuccess: { rejectedDataPoints: String(batch.rejected), errorMessage: message } }
            : {};
        return reply.code(200).type('application/json').send(JSON.stringify(response));
      } catch (err) {
        if (err instanceof OtlpHttpError) return sendStatus(reply, format, err.status, err.code, err.message);
        if (err instanceof MalformedOtlpError)
          return sendStatus(reply, format, 400, CODE.INVALID_ARGUMENT, err.message);
        throw err;
      }
    },
  );
};

/** Bytes of inflated body a request holds, released with it. */
const INFLATED = new WeakMap<FastifyRequest, number>();

function inflatedOf(req: FastifyRequest): number {
  return INFLATED.get(req) ?? 0;
}

/** Requests and body bytes held at once, against their limits. */
class InFlight {
  requests = 0;
  bytes = 0;
  readonly #maxRequests: number;
  readonly #maxBytes: number;

  constructor(maxRequests: number, maxBytes: number) {
    this.#maxRequests = maxRequests;
    this.#maxBytes = maxBytes;
  }

  /** Takes a place for a request of `bytes`; returns which limit refused it, if one did. */
  enter(bytes: number): string | undefined {
    if (this.requests >= this.#maxRequests) return `${this.#maxRequests} concurrent requests`;
    // One request alone is always let in (up to the body limit), or a large body could never pass.
    if (this.requests > 0 && this.bytes + bytes > this.#maxBytes) return 'bytes in flight';
    this.requests++;
    this.bytes += bytes;
    return undefined;
  }

  /** Holds `bytes` more for a request already in; false (nothing held) past the limit. */
  hold(bytes: number): boolean {
    if (this.requests > 1 && this.bytes + bytes > this.#maxBytes) return false;
    this.bytes += bytes;
    return true;
  }

  leave(bytes: number): void {
    this.requests--;
    this.bytes -= bytes;
  }
}

async function decompress(raw: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const enc = encoding.trim().toLowerCase();
  if (enc === '' || enc === 'identity') return raw;
  if (enc !== 'gzip') {
    throw new OtlpHttpError(
      415,
      CODE.INVALID_ARGUMENT,
      `unsupported content-encoding "${encoding}": use gzip or none`,
    );
  }
  try {
    // maxOutputLength stops inflating at the limit: a small gzip bomb never fills memory.
    return await gunzipAsync(raw, { maxOutputLength: maxBytes });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (
      code === 'ERR_BUFFER_TOO_LARGE' ||
      (err instanceof RangeError && /larger than|too large/i.test(err.message))
    ) {
      throw new OtlpHttpError(
        413,
        CODE.RESOURCE_EXHAUSTED,
        `body exceeds ${maxBytes} bytes after decompression`,
      );
    }
    throw new OtlpHttpError(400, CODE.INVALID_ARGUMENT, `gzip body is corrupt: ${(err as Error).message}`);
  }
}
