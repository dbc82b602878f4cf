import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * Paths whose values never reach a log line. Secrets are also kept out of log calls in the first
 * place; this is the second fence.
 */
const REDACT = [
  'token',
  'password',
  'secret',
  'authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.authorization',
  '*.apiKey',
  '*.signingSecret',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
];

/** Structured JSON logs on stdout (one object per line). */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'guardian',
    level: options.level ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'guardian' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A logger that drops everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
