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
  /** Receives the observations of each accepted request, synchronously. */
  sink: (observations: MetricObservation[]) => void;
  /**
   * Asked before a request is read: a saturated pipeline answers 429, one that cannot queue what
   * it would detect (its queue is away, or it is stopping) 503, both with Retry-After. OTLP
   * exporters retry on both.
   */
  isSaturated: () => { saturated: boolean; unavailable?: boolean; retryAfterSeconds: number };
  /**
   * Largest body accepted, after decompression (the OTLP spec recommends 64 MiB).
   * @defaultValue 67108864
   */
  maxBodyBytes?: number;
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
        if (!saturated && !unavailable) return;
        reply.header('retry-after', String(retryAfterSeconds));
        if (unavailable)
          return sendStatus(
            reply,
            formatOf(req),
            503,
            CODE.UNAVAILABLE,
            'Guardian cannot queue signals now; retry later',
          );
        return sendStatus(reply, formatOf(req), 429, CODE.UNAVAILABLE, 'Guardian is saturated; retry later');
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
        const decoded =
          format === 'protobuf'
            ? decodeMetricsRequest(body)
            : decodeMetricsRequestJson(body.toString('utf8'));
        const batch = normalise(decoded, options.identity);
        // One span per export request (not per point): ingest cost and outcome in Guardian's traces.
        tracer.startActiveSpan('otlp.export', (span) => {
          span.setAttributes({
            'otlp.format': format,
            'otlp.points.accepted': batch.accepted,
            'otlp.points.rejected': batch.rejected,
          });
          try {
            if (batch.observations.length > 0) options.sink(batch.observations);
          } finally {
            span.end();
          }
        });
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
