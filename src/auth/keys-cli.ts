import { parseArgs } from 'node:util';
import { parseDuration } from '../config/duration.ts';
import { loadConfig } from '../config/load.ts';
import { errorMessage, systemClock } from '../core/index.ts';
import { openIncidentStore } from '../incidents/open-store.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { createLogger } from '../telemetry/logger.ts';
import { API_KEY_SCOPES, type ApiKeyScope, checkKeyName, generateApiKey, keyUnusable } from './api-key.ts';
import { KEY_CACHE_MS } from './authenticator.ts';

const USAGE = `Usage:
  guardian keys create --name NAME --scope read|write|ingest|admin [--expires 90d] [--json]
  guardian keys list [--json]
  guardian keys revoke ID
Options: -c, --config FILE (or GUARDIAN_CONFIG); the store is the configured one.`;

/** The longest expiry a key may be given. */
const MAX_EXPIRY_MS = 3 * 365 * 86_400_000;

/**
 * `guardian keys …`: API keys in the configured incident store. `create` prints the key once (the
 * store keeps only a salted hash); `list` shows ids, names, scopes and states, never secrets;
 * `revoke` stops a key (every running Guardian notices within the key cache time).
 */
export async function keysCommand(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    return usage(errorMessage(err));
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  const out = process.stdout;

  let request: (store: IncidentStore) => Promise<number>;
  switch (sub) {
    case 'create': {
      const name = values.name?.trim();
      if (!name) return usage('--name is required');
      const nameProblem = checkKeyName(name);
      if (nameProblem) return usage(`--name: ${nameProblem}`);
      const scope = values.scope as ApiKeyScope | undefined;
      if (!scope || !API_KEY_SCOPES.includes(scope))
        return usage(`--scope must be one of ${API_KEY_SCOPES.join(', ')}`);
      let expiresInMs: number | undefined;
      if (values.expires !== undefined) {
        expiresInMs = parseDuration(values.expires);
        if (expiresInMs === undefined || expiresInMs <= 0 || expiresInMs > MAX_EXPIRY_MS) {
          return usage(`--expires "${values.expires}" must be a duration up to 3 years (30d, 90d, 12h…)`);
        }
      }
      if (rest.length > 0) return usage(`unexpected ${rest.join(' ')}`);
      request = async (store) => {
        const { record, key } = generateApiKey({
          name,
          scope,
          now: systemClock.now(),
          ...(expiresInMs !== undefined ? { expiresInMs } : {}),
        });
        if (!(await store.createApiKey(record)))
          throw new Error('a key with this id exists already; try again');
        const expires = record.expiresAt === null ? null : new Date(record.expiresAt).toISOString();
        if (values.json) {
          out.write(`${JSON.stringify({ id: record.id, key, name, scope, expiresAt: expires })}\n`);
        } else {
          out.write(
            `Created key ${record.id} (${name}, scope ${scope}, ${expires ? `expires ${expires}` : 'does not expire'}).\n` +
              `The key is shown this once; store it now:\n\n  ${key}\n\n` +
              'Send it in the header Authorization: Bearer <key>\n',
          );
        }
        return 0;
      };
      break;
    }
    case 'list':
      if (rest.length > 0) return usage(`unexpected ${rest.join(' ')}`);
      request = async (store) => {
        const now = systemClock.now();
        const keys = (await store.listApiKeys()).map((k) => ({
          id: k.id,
          name: k.name,
          scope: k.scope,
          createdAt: new Date(k.createdAt).toISOString(),
          expiresAt: k.expiresAt === null ? null : new Date(k.expiresAt).toISOString(),
          revokedAt: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
          state: keyUnusable(k, now) ?? 'active',
        }));
        if (values.json) out.write(`${JSON.stringify(keys)}\n`);
        else if (keys.length === 0)
          out.write('No API keys: Guardian answers loopback clients only (protected mode).\n');
        else {
          for (const k of keys) {
            out.write(
              `${k.id}  ${k.state.padEnd(7)}  ${k.scope.padEnd(6)}  ${k.name}  created ${k.createdAt}${k.expiresAt ? `  expires ${k.expiresAt}` : ''}\n`,
            );
          }
        }
        return 0;
      };
      break;
    case 'revoke': {
      const [id, ...extra] = rest;
      if (!id || extra.length > 0) return usage('revoke takes one key id');
      request = async (store) => {
        const revoked = await store.revokeApiKey(id, systemClock.now());
        if (!revoked) {
          process.stderr.write(`guardian: no API key ${id}\n`);
          return 1;
        }
        out.write(
          `Revoked ${revoked.id} (${revoked.name}) at ${new Date(revoked.revokedAt!).toISOString()}; running Guardians refuse it within ${KEY_CACHE_MS / 1000} s.\n`,
        );
        return 0;
      };
      break;
    }
    default:
      return usage(sub ? `unknown keys command "${sub}"` : undefined);
  }

  const config = loadConfig(values.config ? { file: values.config } : {});
  const logger = createLogger({ level: 'warn' });
  const inUse = `guardian: the embedded store in ${config.dataDir} is in use by a running Guardian; stop it, manage keys, and start it again\n`;
  if (config.store.kind === 'embedded') {
    // dynalite throws outside any promise when LevelDB is locked by another process.
    process.once('uncaughtException', (err) => {
      process.stderr.write(
        /Database is closed|lock/i.test(errorMessage(err)) ? inUse : `guardian: ${errorMessage(err)}\n`,
      );
      process.exit(1);
    });
  }
  let opened: Awaited<ReturnType<typeof openIncidentStore>>;
  try {
    opened = await openIncidentStore(config, logger);
  } catch (err) {
    const message = errorMessage(err);
    const locked = /lock/i.test(message) && config.store.kind === 'embedded';
    process.stderr.write(locked ? inUse : `guardian: cannot open the incident store: ${message}\n`);
    return 1;
  }
  try {
    return await request(opened.store);
  } finally {
    await opened.close();
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      name: { type: 'string' },
      scope: { type: 'string' },
      expires: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
}

function usage(problem?: string): number {
  process.stderr.write(`${problem ? `guardian keys: ${problem}\n\n` : ''}${USAGE}\n`);
  return 2;
}
