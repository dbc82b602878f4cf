import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.ts';
import { printableConfig } from './printable.ts';

describe('printableConfig', () => {
  it('masks secret fields and passwords inside URLs', () => {
    const config = loadConfig({
      env: {
        REDIS_URL: 'redis://:pw-in-redis@cache:6379',
        SLACK_BOT_TOKEN: 'xoxb-123456789012-abcdefghijkl',
        SLACK_SIGNING_SECRET: 'signing-secret-value',
        ANTHROPIC_API_KEY: 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz',
        AIRFLOW_URL: 'http://admin:airflow-pass@airflow:8080',
        AIRFLOW_PASSWORD: 'airflow-password-value',
        LOKI_URL: 'http://loki:3100',
        LOKI_BEARER_TOKEN: 'loki-bearer-value',
        DYNAMODB_ENDPOINT: 'http://ddb-user:ddb-pass@dynamo:8000',
      },
    });
    const printed = printableConfig(config);
    for (const secret of [
      'pw-in-redis',
      'abcdefghijkl',
      'signing-secret-value',
      'abcdefghijklmnopqrstuvwxyz',
      'airflow-pass',
      'airflow-password-value',
      'loki-bearer-value',
      'ddb-pass',
    ])
      expect(printed).not.toContain(secret);
    // What is not secret stays readable.
    expect(printed).toContain('redis://:[REDACTED]@cache:6379');
    expect(printed).toContain('http://loki:3100');
    expect(JSON.parse(printed).queue.redisUrl).toBe('redis://:[REDACTED]@cache:6379');
  });
});
