import type { FastifyInstance } from 'fastify';
import { signSlackRequest } from '../../src/slack-app/verify.ts';

/**
 * A request to `POST /slack/events` signed as Slack signs it (`timestamp` in epoch seconds); a
 * given `signature` replaces the right one, to test refusals.
 */
export function signedSlackPost(
  app: FastifyInstance,
  request: { secret: string; timestamp: string; body: string; contentType: string; signature?: string },
) {
  return app.inject({
    method: 'POST',
    url: '/slack/events',
    headers: {
      'content-type': request.contentType,
      'x-slack-request-timestamp': request.timestamp,
      'x-slack-signature':
        request.signature ?? signSlackRequest(request.secret, request.timestamp, request.body),
    },
    payload: request.body,
  });
}
