import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ApiKeyRecord, grants, type RouteAccess } from '../auth/api-key.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { isLoopbackAddress } from '../auth/loopback.ts';
import type { RateLimiter } from '../auth/rate-limit.ts';
import { type Clock, errorMessage, GuardianError } from '../core/index.ts';
import type { Actor } from '../incidents/store.ts';
import { body } from './errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs; routes that do not say need `admin`. */
    access?: RouteAccess;
    /**
     * Lets a request through without a key when it returns true: a page opened from the signed,
     * short-lived link a Slack message carries.
     */
    grantedBy?: (request: FastifyRequest) => boolean;
  }
  interface FastifyRequest {
    /** Who is asking, once access control has let the request through. */
    principal?: Principal;
  }
}

/**
 * Who a request comes from: a key's holder, a client on this machine while no key is defined
 * (protected mode), or anyone when authentication is off.
 */
export type Principal =
  | { readonly kind: 'key'; readonly key: ApiKeyRecord }
  | { readonly kind: 'loopback' }
  | { readonly kind: 'signed-link' }
  | { readonly kind: 'unauthenticated' };

export interface AccessControlOptions {
  authenticator: Authenticator;
  clock: Clock;
  /** `GUARDIAN_AUTH=off`: every request is let through without a key. */
  authOff: boolean;
  /** Requests per key. */
  perKey: RateLimiter;
  /** Failed authentications per client address: bounds store reads for made-up keys. */
  failures: RateLimiter;
}

/** One route of the app and what it needs, as registered. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
}

const registries = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route registered on `app` (HEAD twins included) and the access it needs. */
export function routeTable(app: FastifyInstance): readonly RouteEntry[] {
  return registries.get(app) ?? [];
}

/** The bearer scheme, as the OpenAPI document names it. */
export const SECURITY_SCHEME = 'apiKey';

/**
 * Access control for the whole app; install it before any route is registered. Each route says
 * what it needs (`config.access`); routes that do not need `admin`, except `/docs` (the
 * OpenAPI UI, open). A request needs `Authorization: Bearer <key>` whose scope grants that
 * access, except: `open` routes; and while no usable key exists (protected mode), requests
 * without a key from loopback clients. No, unknown, revoked or expired key: 401 with
 * `WWW-Authenticate`; a key without the scope: 403; too many requests for a key (or failed
 * attempts from one address): 429 with `Retry-After`.
 */
export function installAccessControl(app: FastifyInstance, options: AccessControlOptions): void {
  const routes: RouteEntry[] = [];
  registries.set(app, routes);
  const log = app.log.child({ component: 'access' });

  app.addHook('onRoute', (route) => {
    const access: RouteAccess = route.config?.access ?? (route.url.startsWith('/docs') ? 'open' : 'admin');
    route.config = { ...route.config, access };
    if (route.schema) {
      route.schema = { ...route.schema, security: access === 'open' ? [] : [{ [SECURITY_SCHEME]: [] }] };
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method: String(method), url: route.url, access });
  });

  const refuse = (reply: FastifyReply, status: 401 | 403 | 429 | 503, code: string, message: string) => {
    if (status === 401) {
      reply.header(
        'www-authenticate',
        code === 'missing_key'
          ? 'Bearer realm="guardian"'
          : // Header values are ASCII, without quotes inside the quoted string.
            `Bearer realm="guardian", error="invalid_token", error_description="${message.replace(/[^\x20-\x7e]|"/g, '')}"`,
      );
    }
    return reply.code(status).send(body(status, code, message));
  };

  app.addHook('onRequest', async (request, reply) => {
    // A route that does not exist needs a key too (any scope): which routes exist is not public.
    const access: RouteAccess | 'any' = request.is404
      ? 'any'
      : (request.routeOptions.config.access ?? 'admin');
    if (access === 'open') return;
    if (options.authOff) {
      request.principal = { kind: 'unauthenticated' };
      return;
    }
    const header = request.headers.authorization;
    if (header === undefined && !request.is404 && request.routeOptions.config.grantedBy?.(request)) {
      request.principal = { kind: 'signed-link' };
      return;
    }
    try {
      if (header === undefined) {
        if (
          isLoopbackAddress(request.socket.remoteAddress) &&
          !(await options.authenticator.anyKeyDefined())
        ) {
          request.principal = { kind: 'loopback' };
          return;
        }
        return refuse(reply, 401, 'missing_key', 'an API key is needed: Authorization: Bearer <key>');
      }
      const token = /^Bearer +(\S+)\s*$/i.exec(header)?.[1];
      const outcome = token ? await options.authenticator.authenticate(token) : undefined;
      if (!outcome?.ok) {
        const wait = options.failures.take(request.socket.remoteAddress ?? '?', options.clock.now());
        if (wait > 0) {
          reply.header('retry-after', String(wait));
          return refuse(reply, 429, 'rate_limited', 'too many failed authentications from this address');
        }
        const reason = outcome?.reason ?? 'malformed';
        return refuse(reply, 401, `key_${reason}`, KEY_PROBLEMS[reason]);
      }
      const { key } = outcome;
      const wait = options.perKey.take(key.id, options.clock.now());
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        return refuse(reply, 429, 'rate_limited', `too many requests for key ${key.id}`);
      }
      if (access !== 'any' && !grants(key.scope, access)) {
        return refuse(reply, 403, 'forbidden', `key ${key.id} has scope ${key.scope}; this needs ${access}`);
      }
      request.principal = { kind: 'key', key };
    } catch (err) {
      // The key store does not answer: nobody can be checked, so nobody gets in, for now.
      log.warn({ error: errorMessage(err) }, 'API key check failed: store unavailable');
      reply.header('retry-after', '5');
      return refuse(reply, 503, 'auth_unavailable', 'API keys cannot be checked right now; retry');
    }
  });
}

const KEY_PROBLEMS: Readonly<Record<'malformed' | 'unknown' | 'revoked' | 'expired', string>> = {
  malformed: 'the Authorization header must be "Bearer <key>" with a Guardian key (gdn_...)',
  unknown: 'unknown API key',
  revoked: 'this API key has been revoked',
  expired: 'this API key has expired',
};

/**
 * Who acts, for the timeline: a key's holder is its name (a `by` in the body is not trusted
 * then); without a key (loopback in protected mode, or authentication off) the body's `by` names
 * them and is required.
 */
export function actorOf(request: FastifyRequest, by: string | undefined, field: string): Actor {
  const principal = request.principal;
  if (principal?.kind === 'key') return { id: principal.key.name, keyId: principal.key.id, via: 'api' };
  const who = by?.trim();
  if (!who) {
    throw new GuardianError(
      'invalid_request',
      `${field} must name who acts (or send an API key: its name is used)`,
    );
  }
  return { id: who, via: 'api' };
}
