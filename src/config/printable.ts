import { redact } from '../logs/redact.ts';

/** Config fields whose whole value is a secret (`slack.token`, `llm.apiKey`, `loki.password`…). */
const SECRET_FIELD = /token|secret|password|key/i;

/**
 * The configuration as JSON fit to print (`guardian config`): every field named like a secret is
 * `***`, and every other string is redacted as log text is, so a password inside a URL
 * (`REDIS_URL=redis://:pw@cache:6379`, a DSN) or a token pasted into another field is masked too.
 */
export function printableConfig(config: unknown): string {
  return JSON.stringify(
    config,
    (key, value) => {
      if (SECRET_FIELD.test(key) && value !== undefined && value !== null && value !== '') return '***';
      return typeof value === 'string' ? redact(value) : value;
    },
    2,
  );
}
