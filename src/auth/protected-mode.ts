import { ConfigError } from '../core/index.ts';
import { isLoopbackHost } from './loopback.ts';

/** How Guardian will answer requests, decided at startup from where it listens and what keys exist. */
export interface Exposure {
  /** `keys`: every request needs a key; `protected`: no key yet, loopback clients only; `off`. */
  readonly mode: 'keys' | 'protected' | 'off';
  readonly level: 'info' | 'warn';
  /** What to tell the operator at startup. */
  readonly message: string;
}

/**
 * Like Redis's protected mode: with no usable API key, Guardian answers requests without a key
 * only from loopback clients, and refuses to listen on any other address (a {@link ConfigError}
 * naming `host`) unless authentication is explicitly off. Once a key exists, every request needs
 * one, wherever Guardian listens.
 */
export function decideExposure(request: {
  host: string;
  authOff: boolean;
  anyKeyDefined: boolean;
}): Exposure {
  const { host, authOff, anyKeyDefined } = request;
  if (authOff) {
    return {
      mode: 'off',
      level: 'warn',
      message: `authentication is OFF (GUARDIAN_AUTH=off): anyone who can reach ${host} can read incidents, resolve them, silence them and push metrics${anyKeyDefined ? '; the API keys that exist are ignored' : ''}`,
    };
  }
  if (anyKeyDefined) {
    return {
      mode: 'keys',
      level: 'info',
      message: 'API keys are required on every request (except /healthz, /readyz, /docs, /slack/events)',
    };
  }
  if (!isLoopbackHost(host)) {
    throw new ConfigError(
      'host',
      `Guardian would listen on ${host} with no API key defined, so anyone who can reach it could act. Create a key first (guardian keys create --name NAME --scope admin), listen on 127.0.0.1, or set GUARDIAN_AUTH=off to run without authentication`,
    );
  }
  return {
    mode: 'protected',
    level: 'info',
    message: `protected mode: no API key is defined, so only clients on this machine are answered (listening on ${host}); create one with \`guardian keys create --name NAME --scope admin\` before exposing Guardian`,
  };
}
