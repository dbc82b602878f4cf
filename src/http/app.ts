import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from 'fastify';
import { Authenticator } from '../auth/authenticator.ts';
import { RateLimiter } from '../auth/rate-limit.ts';
import { type Clock, systemClock } from '../core/index.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { type AccessControlOptions, installAccessControl, SECURITY_SCHEME } from './access.ts';
import { installErrorHandler } from './errors.ts';
import { type HealthRoutesOptions, healthRoutes } from './routes/health.ts';
import { incidentRoutes } from './routes/incidents.ts';
import { type MessageRoutesOptions, messageRoutes } from './routes/messages.ts';
import { type PageRoutesOptions, pageRoutes } from './routes/pages.ts';
import { silenceRoutes } from './routes/silences.ts';
import { LinkSigner } from './signed-links.ts';

export interface HttpAppOptions {
  logger: Logger;
  store: IncidentStore;
  health: HealthRoutesOptions;
  outbox: MessageRoutesOptions['outbox'];
  /** Registers more plugins (the OTLP receiver) inside the app, before it is ready. */
  plugins?: (app: FastifyInstance) => Promise<void>;
  /** The Slack app (`POST /slack/events`), when a signing secret is configured. */
  slackApp?: { readonly plugin: FastifyPluginAsync };
  /** "Now" for silences and actions. @defaultValue the wall clock */
  clock?: Clock;
  /** Brings an incident's Slack message up to date after an action taken through the API. */
  requestUpdate?: (incidentId: string) => Promise<void>;
  /**
   * The incident pages' charts and link signer. @defaultValue no charts, links signed with a
   * random secret of this process
   */
  pages?: Omit<PageRoutesOptions, 'store' | 'clock'>;
  /**
   * Who may call what. @defaultValue API keys from `store` (cached 10 s), protected
   * mode while none exists, {@link DEFAULT_KEY_RATE} per key
   */
  access?: Partial<AccessControlOptions>;
  /**
   * How long a request's headers, and the whole request, may take to arrive; past it the
   * request is answered 408 and its connection closed. @defaultValue 10 s and 60 s
   */
  timeouts?: RequestTimeouts;
}

/** How long a request's headers, and the whole request (headers and body), may take to arrive. */
export interface RequestTimeouts {
  readonly headersMs: number;
  readonly requestMs: number;
}

/** How often Node checks requests against their timeouts (its default, 30 s, would let them run 30 s late). */
const TIMEOUT_CHECK_MS = 1000;

/** A fastify app with Guardian's error catalogue and access control, before any route. */
function baseApp(
  logger: Logger,
  access: AccessControlOptions,
  timeouts: RequestTimeouts = { headersMs: 10_000, requestMs: 60_000 },
): FastifyInstance {
  const app: FastifyInstance = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the app's type the default one.
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request log lines would flood the log at OTLP ingest rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: false,
    // A slow upload cannot hold a connection and its memory for ever (nor can slow headers).
    requestTimeout: timeouts.requestMs,
    http: {
      headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs),
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  });
  installErrorHandler(app);
  // Before any route: every route registered after this is classified and checked.
  installAccessControl(app, access);
  return app;
}

export interface IngestAppOptions {
  logger: Logger;
  health: HealthRoutesOptions;
  /** The same access control as the main app (one key cache, one rate limit per key). */
  access: AccessControlOptions;
  /** Registers the OTLP receiver. */
  plugins: (app: FastifyInstance) => Promise<void>;
  /** As the main app's. @defaultValue 10 s and 60 s */
  timeouts?: RequestTimeouts;
}

/**
 * The ingest-only app (`GUARDIAN_OTLP_PORT`): `/healthz`, `/readyz` and what `plugins` registers
 * (`POST /v1/metrics`), so a security group can open ingest to metric pushers without the API.
 */
export async function createIngestApp(options: IngestAppOptions): Promise<FastifyInstance> {
  const app = baseApp(options.logger, options.access, options.timeouts);
  await app.register(healthRoutes, options.health);
  await options.plugins(app);
  return app;
}

/** Requests per second a key may make, and its burst. */
export const DEFAULT_KEY_RATE = { rate: 50, burst: 200 } as const;
/** Failed authentications per second from one address, and the burst. */
const FAILED_AUTH_RATE = { rate: 2, burst: 20 } as const;

/** Access control as {@link createHttpApp} sets it up when not told otherwise. */
export function defaultAccess(
  store: IncidentStore,
  clock: Clock,
  over: Partial<AccessControlOptions> = {},
): AccessControlOptions {
  return {
    authenticator: over.authenticator ?? new Authenticator({ store, clock }),
    clock,
    authOff: over.authOff ?? false,
    perKey: over.perKey ?? new RateLimiter(DEFAULT_KEY_RATE),
    failures: over.failures ?? new RateLimiter(FAILED_AUTH_RATE),
  };
}

/** Guardian's HTTP surface: one fastify app, one plugin per resource, OpenAPI at `/docs`. */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const clock = options.clock ?? systemClock;
  const app = baseApp(options.logger, defaultAccess(options.store, clock, options.access), options.timeouts);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Guardian',
        version: '0.1.0',
        description:
          'Incident history, lifecycle and silences, and the health of Guardian, the first on-call engineer of the data platform. Requests carry `Authorization: Bearer <key>` (create keys with `guardian keys create`): scope `read` for GETs under /api/v1, `write` for silences and actions, `ingest` for OTLP, `admin` for all. While no key exists, only clients on the same machine are answered without one. See docs/security.md.',
      },
      components: {
        securitySchemes: {
          [SECURITY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A Guardian API key (gdn_…), from `guardian keys create --name NAME --scope read|write|ingest|admin`',
          },
        },
      },
      security: [{ [SECURITY_SCHEME]: [] }],
      tags: [
        { name: 'incidents', description: 'Incident history and lifecycle' },
        { name: 'silences', description: 'Muting new incidents for a while' },
        { name: 'messages', description: 'Slack messages kept locally' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(healthRoutes, options.health);
  await app.register(incidentRoutes, {
    store: options.store,
    clock,
    ...(options.requestUpdate ? { requestUpdate: options.requestUpdate } : {}),
  });
  await app.register(silenceRoutes, { store: options.store, clock });
  await app.register(messageRoutes, { outbox: options.outbox });
  await app.register(pageRoutes, {
    store: options.store,
    clock,
    ...(options.pages ?? { signer: new LinkSigner(undefined) }),
  });
  // Encapsulated: its raw-body content-type parser applies to /slack/events only.
  if (options.slackApp) await app.register(options.slackApp.plugin);
  if (options.plugins) await options.plugins(app);
  return app;
}
