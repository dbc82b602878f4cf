import { createHmac, timingSafeEqual } from 'node:crypto';

/** Requests signed longer ago than this are refused (replays), as Bolt does. */
export const MAX_REQUEST_AGE_MS = 5 * 60_000;

export type Verification =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'missing_headers' | 'stale_timestamp' | 'bad_signature' };

/**
 * Checks Slack's request signature: `x-slack-signature` must be
 * `v0=` + hex HMAC-SHA256(signing secret, `v0:{x-slack-request-timestamp}:{raw body}`), compared
 * in constant time, and the timestamp must be at most five minutes old at `now` (epoch ms).
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  now: number;
}): Verification {
  const { timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'missing_headers' };
  if (input.now - Number(timestamp) * 1000 > MAX_REQUEST_AGE_MS)
    return { ok: false, reason: 'stale_timestamp' };
  const expected = Buffer.from(signSlackRequest(input.signingSecret, timestamp, input.rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}

/** The `x-slack-signature` Slack sends for `rawBody` at `timestamp` (seconds). Tests sign with it too. */
export function signSlackRequest(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}
