import { describe, expect, it } from 'vitest';
import { REDACTION_RULES, redact, redactCut } from './redact.ts';

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
    ['Stripe live key', 'stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc used', 'stripe key [REDACTED] used'],
    ['Google API key', 'maps?key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY&x=1', 'maps?key=[REDACTED]&x=1'],
    ['Google API key alone', 'using AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY now', 'using [REDACTED] now'],
    ['GitLab token', 'git clone with glpat-xxxxXXXXxxxxXXXX1234 ok', 'git clone with [REDACTED] ok'],
    ['Slack app token', 'SOCKET xapp-1-A0123456789-1234567890123-abcdef0123456789', 'SOCKET [REDACTED]'],
    [
      'npm token',
      '//registry.npmjs.org/:_authToken npm_abcdefghijklmnopqrstuvwxyz0123456789',
      '//registry.npmjs.org/:_authToken [REDACTED]',
    ],
    [
      'Azure connection string',
      'DefaultEndpointsProtocol=https;AccountName=lake;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net',
      'DefaultEndpointsProtocol=https;AccountName=lake;AccountKey=[REDACTED];EndpointSuffix=core.windows.net',
    ],
    ['Cookie header', 'Cookie: session=9f8e7d6c5b4a; theme=dark', 'Cookie: [REDACTED]'],
    ['Set-Cookie header', 'set-cookie: sid=abc123; Path=/; HttpOnly', 'set-cookie: [REDACTED]'],
    ['cookie in JSON', '{"Cookie": "sid=abc123", "x": 1}', '{"Cookie": "[REDACTED]", "x": 1}'],
    ['curl -u', 'curl -u admin:hunter2 https://api', 'curl -u admin:[REDACTED] https://api'],
    ['--user=', 'curl --user=admin:hunter2 x', 'curl --user=admin:[REDACTED] x'],
    ['--password option', 'psql --password s3cr3t --host db', 'psql --password [REDACTED] --host db'],
    ['--token option', 'cli --token abcd1234 run', 'cli --token [REDACTED] run'],
    ['--db-password=', 'run --db-password=abc', 'run --db-password=[REDACTED]'],
    ['bare Basic credentials', 'sent Basic YWRtaW46aHVudGVyMg== upstream', 'sent Basic [REDACTED] upstream'],
    [
      'presigned S3 URL',
      'GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024',
      'GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[REDACTED AWS KEY ID]%2F20260101%2Fus-east-1&X-Amz-Signature=[REDACTED]',
    ],
    [
      'password holding @ in a URL',
      'dsn postgres://etl:p@ss@db:5432/x',
      'dsn postgres://etl:[REDACTED]@db:5432/x',
    ],
    [
      'password in a Redis URL',
      'REDIS_URL=redis://:pw123@cache:6379',
      'REDIS_URL=redis://:[REDACTED]@cache:6379',
    ],
    [
      'Azure SAS signature',
      'https://a.blob.core.windows.net/c?sv=2022&sig=abcDEF123%2B&se=2026',
      'https://a.blob.core.windows.net/c?sv=2022&sig=[REDACTED]&se=2026',
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
    'Basic authentication failed for user etl',
    'ERROR password authentication failed; see --help',
    'spark://Driver@10.0.0.1:7077 and http://host:8080/a@b',
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

  it('masks every secret of a key=value run, whatever follows', () => {
    const out = redact('a=/password=x token=abc,secret=def&pwd=ghi "apiKey": "jkl"');
    for (const secret of ['abc', 'def', 'ghi', 'jkl']) expect(out).not.toContain(secret);
  });
});

describe('redactCut', () => {
  it('cuts, and sees a secret that straddles the cut whole', () => {
    const text = `${'x'.repeat(95)} password=hunter2hunter2 ${'y'.repeat(10_000)}`;
    const out = redactCut(text, 100);
    expect(out).toHaveLength(100);
    expect(out).not.toContain('hunt');
    expect(out.endsWith('…')).toBe(true);
  });
});
