/**
 * Masks secrets and personal data in text before it leaves the process (signal evidence, Slack
 * messages, LLM prompts, exports). Each rule keeps enough context to stay readable
 * (`password=[REDACTED]`, `postgres://etl:[REDACTED]@db:5432`) and replaces only the secret.
 * Redacting twice gives the same text as redacting once.
 */

import type { Evidence } from '../core/index.ts';

const MASK = '[REDACTED]';

interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replace: (match: string, ...groups: string[]) => string;
}

/** Key names whose value is a secret (`password`, `db_password`, `api_key`, `clientSecret`…). */
const SECRET_KEY =
  '[A-Za-z0-9_.-]*(?:pass(?:word|wd|phrase)|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?)(?:[_.-]?(?:key|value|string))?(?![A-Za-z0-9])';

/** Applied in order: specific shapes first, so the generic `key=value` rule sees them masked. */
const RULES: readonly Rule[] = [
  {
    name: 'private key block',
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    replace: () => `[REDACTED PRIVATE KEY]`,
  },
  {
    name: 'JWT',
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
    replace: () => MASK,
  },
  {
    name: 'password in a URL',
    pattern: /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@?#]+:)([^\s@/?#]+)@/g,
    replace: (_m, head) => `${head}${MASK}@`,
  },
  {
    name: 'Authorization header',
    pattern:
      /\b(authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:Bearer|Basic|Token|Digest|Negotiate|AWS4-HMAC-SHA256)[ \t]+)?)([^\s"',;]+)/gi,
    replace: (_m, head) => `${head}${MASK}`,
  },
  {
    name: 'bearer token',
    pattern: /\b(Bearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi,
    replace: (_m, head) => `${head}${MASK}`,
  },
  {
    name: 'Slack token',
    pattern: /\bxox[abposre]-[A-Za-z0-9-]{8,}/g,
    replace: () => MASK,
  },
  {
    name: 'Slack webhook',
    pattern: /(https:\/\/hooks\.slack\.com\/(?:services|workflows)\/)[A-Za-z0-9/_-]+/g,
    replace: (_m, head) => `${head}${MASK}`,
  },
  {
    name: 'GitHub / Anthropic / OpenAI token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-(?:ant-)?[A-Za-z0-9_-]{20,})/g,
    replace: () => MASK,
  },
  {
    name: 'AWS access key id',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
    replace: () => '[REDACTED AWS KEY ID]',
  },
  {
    name: 'AWS secret access key',
    pattern:
      /\b((?:aws_?)?secret_?access_?key["']?[ \t]*[:=][ \t]*["']?|aws_?secret["']?[ \t]*[:=][ \t]*["']?)([A-Za-z0-9/+=]{30,})/gi,
    replace: (_m, head) => `${head}${MASK}`,
  },
  {
    name: 'secret key=value',
    pattern: new RegExp(
      // A URL's path segment (`/oauth/token: connection refused`) names an endpoint, not a key.
      String.raw`(["']?(?<!/)\b${SECRET_KEY}["']?[ \t]*[:=][ \t]*)("[^"\n]*"|'[^'\n]*'|\$\{[^}\n]*\}|[^\s,;&"'}\]]+)`,
      'gi',
    ),
    replace: (m, head, value) => (isPlaceholder(value) ? m : `${head}${quoteLike(value)}`),
  },
  {
    name: 'email address',
    pattern: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g,
    replace: () => '[REDACTED EMAIL]',
  },
];

/** A value that is already masked, or says there is none: nothing to hide. */
function isPlaceholder(value: string): boolean {
  const v = value.replace(/^["']|["']$/g, '');
  return (
    v === '' || v.startsWith('[REDACTED') || /^(?:\*+|<[^>]*>|null|none|true|false|\$\{[^}]*\})$/i.test(v)
  );
}

/** Keeps the quotes of a quoted value so the text stays well-formed (JSON stays JSON). */
function quoteLike(value: string): string {
  const q = value[0];
  return q === '"' || q === "'" ? `${q}${MASK}${q}` : MASK;
}

/** `text` with secrets and e-mail addresses masked. */
export function redact(text: string): string {
  let out = text;
  for (const rule of RULES)
    out = out.replace(rule.pattern, rule.replace as (m: string, ...g: string[]) => string);
  return out;
}

/** Evidence with its texts, log lines, labels and link URLs redacted. */
export function redactEvidence(e: Evidence): Evidence {
  switch (e.kind) {
    case 'text':
      return { ...e, label: redact(e.label), text: redact(e.text) };
    case 'log':
      return { ...e, label: redact(e.label), lines: e.lines.map(redact) };
    case 'link':
      return { ...e, label: redact(e.label), url: redact(e.url) };
    default:
      return { ...e, label: redact(e.label) };
  }
}

/** Names of the rules, in the order they apply (documentation and tests). */
export const REDACTION_RULES: readonly string[] = RULES.map((r) => r.name);

/** Without control characters (tab and newline kept) and the bidirectional overrides that disguise text. */
export function withoutInvisible(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const control = (c < 0x20 && c !== 0x09 && c !== 0x0a) || c === 0x7f;
    const bidi = (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    if (!control && !bidi) out += ch;
  }
  return out;
}
