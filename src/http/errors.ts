import type { FastifyError, FastifyInstance } from 'fastify';
import { GuardianError } from '../core/index.ts';

/** HTTP status for each error code the API can answer with. One catalogue for every route. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  not_found: 404,
  invalid_cursor: 400,
  invalid_request: 400,
  version_conflict: 409,
  action_refused: 409,
};

/** The shape of every error body. */
export const errorBodySchema = {
  type: 'object',
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Maps errors to `{statusCode, code, error, message}`. Validation errors name the field
 * (`querystring/limit must be <= 100`); unexpected errors are logged and answered with a generic
 * message, so nothing internal (or secret) leaks into a response.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | GuardianError | Error, request, reply) => {
    if ('validation' in err && err.validation) {
      // "must NOT have additional properties" does not say which one: name it.
      const extra = err.validation.find((v) => v.keyword === 'additionalProperties')?.params
        ?.additionalProperty;
      const message = typeof extra === 'string' ? `${err.message} (${extra})` : err.message;
      return reply.code(400).send(body(400, 'invalid_request', message));
    }
    if (err instanceof GuardianError && STATUS_BY_CODE[err.code]) {
      const status = STATUS_BY_CODE[err.code]!;
      return reply.code(status).send(body(status, err.code, err.message));
    }
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return reply.code(status).send(body(status, 'internal', 'internal error; see Guardian logs'));
    }
    const code = 'code' in err && typeof err.code === 'string' ? err.code.toLowerCase() : 'bad_request';
    return reply.code(status).send(body(status, code, err.message));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(body(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}

export function body(statusCode: number, code: string, message: string) {
  return { statusCode, code, error: REASONS[statusCode] ?? 'Error', message };
}
