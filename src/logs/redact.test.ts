import { describe, expect, it } from 'vitest';
import { REDACTION_RULES, redact } from './redact.ts';

describe('redact', () => {
  it.each([
    ['AWS access key id', 'using AKIAIOSFODNN7EXAMPLE for s3', 'using [REDACTED AWS KEY ID] for s3'],
    ['AWS temporary key id', 'key=ASIAY34FZKBOKMUTVV7A', 'key=[REDACTED AWS KEY ID]'],
    [
      'AWS secret key in key=value form',
      'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY region=eu-west-1',
      'aws_secret_access_key=[REDACTED] region=eu-west-1',
    ],
    [
      'AWS secret key in JSON',
      '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}',
      '{"SecretAccessKey": "[REDACTED]"}',
    ],
    [
      'password in a URL',
      'connecting to postgresql://airflow:s3cr3t!@db.internal:5432/airflow',
      'connecting to postgresql://airflow:[REDACTED]@db.internal:5432/airflow',
    ],
    ['Authorization header', 'Authorization: Bearer abc.def-ghi_123', 'Authorization: Bearer [REDACTED]'],
    ['basic auth header', '-H "Authorization: Basic dXNlcjpwYXNz"', '-H "Authorization: Basic [REDACTED]"'],
    ['bearer token in text', 'retrying with bearer 0123456789abcdefXYZ', 'retrying with bearer [REDACTED]'],
    [
      'JWT',
      'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok',
      'token [REDACTED] ok',
    ],
    [
      'Slack bot token',
      'SLACK_BOT_TOKEN xoxb-123456789012-1234567890123-AbCdEfGhIjKl',
      'SLACK_BOT_TOKEN [REDACTED]',
    ],
    [
      'Slack webhook',
      'posting to https://hooks.slack.com/services/T000/B000/XXXXXXXX',
      'posting to https://hooks.slack.com/services/[REDACTED]',
    ],
    ['password=', 'login user=etl password=hunter2 ok', 'login user=etl password=[REDACTED] ok'],
    ['token=', 'GET /export?token=abc123&page=2', 'GET /export?token=[REDACTED]&page=2'],
    ['secret: in YAML', 'client_secret: "sup3r"', 'client_secret: "[REDACTED]"'],
    ['api_key=', "api_key='k-123' x-api-key: zz9", "api_key='[REDACTED]' x-api-key: [REDACTED]"],
    ['e-mail address', 'notify ops.team+alerts@example.co.uk now', 'notify [REDACTED EMAIL] now'],
    [
      'private key block',
      'key: -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done',
      'key: [REDACTED PRIVATE KEY] done',
    ],
  ])('%s', (_rule, text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  it.each([
    'Task 45 in stage 52732.0 failed 1 times; aborting job',
    'Executing with tokens: 1 tokens and 0 secret keys for NM use',
    'tests passed: 5, password authentication failed for user "etl"',
    'Connecting to driver: spark://CoarseGrainedScheduler@10.10.34.11:48069',
    'Error writing History Event: org.apache.hadoop.mapreduce.jobhistory.Event@7317849d',
    'see http://wiki.apache.org/hadoop/NoRouteToHost for details',
    'secretary=bob tokenizer=bert',
    'POST https://login.example.com/oauth2/token: connection refused (attempt 3)',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell-style placeholder, not a template
    'password=[REDACTED] password=******** token=${TOKEN}',
  ])('leaves text without secrets alone: %s', (text) => {
    expect(redact(text)).toBe(text);
  });

  it('is idempotent', () => {
    const text =
      'Authorization: Bearer abcdefgh1234 user ops@example.com url https://u:p4ss@h.example.com AKIAIOSFODNN7EXAMPLE password=x';
    const once = redact(text);
    expect(once).not.toContain('abcdefgh1234');
    expect(once).not.toContain('p4ss');
    expect(redact(once)).toBe(once);
  });

  it('names its rules', () => {
    expect(REDACTION_RULES).toContain('JWT');
    expect(REDACTION_RULES.length).toBeGreaterThanOrEqual(10);
  });
});
