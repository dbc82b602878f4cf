import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, ApiKeyScope } from '../incidents/store.ts';

export type { ApiKeyRecord, ApiKeyScope };

/** The scopes a key can have, least to most powerful. */
export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['read', 'ingest', 'write', 'admin'];

/**
 * What a route needs: `open` (no key: health, docs, Slack's own signature), `read` (GETs under
 * `/api/v1`), `write` (silences and incident actions), `ingest` (OTLP), `admin` (everything else).
 */
export type RouteAccess = 'open' | ApiKeyScope;

/** Which accesses each scope grants: `write` includes `read` (who acts needs to see), `admin` all. */
const GRANTS: Readonly<Record<ApiKeyScope, readonly RouteAccess[]>> = {
  read: ['read'],
  write: ['read', 'write'],
  ingest: ['ingest'],
  admin: ['read', 'write', 'ingest', 'admin'],
};

/** Whether a key of `scope` may use a route that needs `access`. */
export function grants(scope: ApiKeyScope, access: RouteAccess): boolean {
  return access === 'open' || GRANTS[scope].includes(access);
}

/**
 * Keys look like `gdn_<id>_<secret>`: `id` is 16 base32 characters, public, and names the record
 * (one read finds it); `secret` is 32 random bytes in base64url, of which only an HMAC-SHA256
 * keyed by a per-key random salt is stored. The secret has 256 bits of entropy, so a fast keyed
 * hash is as safe as a slow one here and costs microseconds per request.
 */
const KEY_PATTERN = /^gdn_([a-z2-7]{16})_([A-Za-z0-9_-]{43})$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A new key: the record to store and the key to show once. */
export function generateApiKey(request: {
  name: string;
  scope: ApiKeyScope;
  now: number;
  /** How long it works; undefined: until revoked. */
  expiresInMs?: number;
}): { record: ApiKeyRecord; key: string } {
  const idBytes = randomBytes(16);
  const id = Array.from(idBytes, (b) => BASE32[b & 31]).join('');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('base64url');
  return {
    key: `gdn_${id}_${secret}`,
    record: {
      id,
      name: request.name,
      scope: request.scope,
      createdAt: request.now,
      expiresAt: request.expiresInMs === undefined ? null : request.now + request.expiresInMs,
      revokedAt: null,
      salt,
      hash: hashSecret(salt, secret),
    },
  };
}

/** The id and secret of a presented key, or undefined when it does not have the shape of one. */
export function parseApiKey(presented: string): { id: string; secret: string } | undefined {
  const m = KEY_PATTERN.exec(presented);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Whether `secret` is the record's, compared in constant time. */
export function secretMatches(record: ApiKeyRecord, secret: string): boolean {
  const expected = Buffer.from(record.hash, 'base64url');
  const actual = Buffer.from(hashSecret(record.salt, secret), 'base64url');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Why a record does not work at `now`, or undefined when it does. */
export function keyUnusable(record: ApiKeyRecord, now: number): 'revoked' | 'expired' | undefined {
  if (record.revokedAt !== null && record.revokedAt <= now) return 'revoked';
  if (record.expiresAt !== null && record.expiresAt <= now) return 'expired';
  return undefined;
}

/** A key's name: what the timeline shows as who acted. */
export function checkKeyName(name: string): string | undefined {
  if (!/^[\w.@-][\w .@-]{0,99}$/.test(name)) {
    return 'name must be 1-100 letters, digits, spaces, ".", "_", "-" or "@"';
  }
  return undefined;
}

function hashSecret(salt: string, secret: string): string {
  return createHmac('sha256', Buffer.from(salt, 'base64url')).update(secret).digest('base64url');
}
