/**
 * Masks secrets and personal data in text before it leaves the process (signal evidence, entity
 * keys, Slack messages, LLM prompts, exports). Each rule keeps enough context to stay readable
 * (`password=[REDACTED]`, `postgres://etl:[REDACTED]@db:5432`) and replaces only the secret.
 * Redacting twice gives the same text as redacting once.
 *
 * Three general principles rather than one rule per vendor:
 *
 * - a value after a key whose name says it is secret (`password=`, `X-Amz-Signature=`,
 *   `"clientSecret": "…"`, `AccountKey=`, `--token x`);
 * - the userinfo of a URL (`scheme://user:password@host`, the password may hold `@`);
 * - tokens whose prefix says what they are (`ghp_`, `sk_live_`, `AIza`, `glpat-`, `xapp-`, `npm_`,
 *   JWTs, AWS key ids), and credentials in the headers and options that carry them
 *   (`Authorization:`, `Cookie:`, `Bearer …`, `Basic <user:pass in base64>`, `curl -u user:pass`).
 *
 * Every rule runs in time linear in the text: a regular expression here starts with a literal
 * (never with a repeated character class that the engine would retry from every position), has
 * no nested quantifier, and what needs to look around (a key's name before `=`, an e-mail's local
 * part before `@`, a URL's userinfo after `://`) is scanned by hand, each character at most a
 * constant number of times.
 */

import type { Evidence } from '../core/index.ts';

const MASK = '[REDACTED]';

/** A rule: rewrites the whole text, in linear time. */
interface Rule {
  readonly name: string;
  readonly apply: (text: string) => string;
}

type Replacer = (match: string, ...groups: string[]) => string;

/** A rule that is one regular expression (anchored on a literal, no nested quantifier). */
function pattern(name: string, re: RegExp, replace: Replacer): Rule {
  return { name, apply: (text) => text.replace(re, replace as (m: string, ...g: string[]) => string) };
}

/**
 * Key names whose value is a secret. Matched on its own, at the end of the key's name (`password`,
 * `db_password`, `clientSecret`, `X-Amz-Signature`, `SharedAccessKey`), never as a word inside
 * another (`secretary`, `tokenizer`).
 */
const SECRET_NAME = `(?:pass(?:word|wd|phrase)|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|account[_-]?key|private[_-]?key|credentials?|signature|sig)(?:[_.-]?(?:key|value|string))?(?![A-Za-z0-9])`;

/** A secret name followed by `=`/`:` (with quotes and spaces around) or by spaces (a command-line option). */
const SECRET_KEY = new RegExp(String.raw`${SECRET_NAME}(?:(["']?[ \t]*[:=][ \t]*)|([ \t]+))`, 'gi');

/** Character-class tables (ASCII): a regular expression per character would cost more than the scan. */
function charTable(chars: string): Uint8Array {
  const table = new Uint8Array(128);
  for (const c of chars) table[c.charCodeAt(0)] = 1;
  return table;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const KEY_CHAR = charTable(`${ALNUM}_.-`);
const LOCAL_PART = charTable(`${ALNUM}._%+-`);
const DOMAIN_CHAR = charTable(`${ALNUM}-`);
const B64URL = charTable(`${ALNUM}_-`);
const SCHEME_CHAR = charTable(`${ALNUM}+.-`);

/** Whether the character at `i` is in `table` (false past the end and above ASCII). */
function isIn(table: Uint8Array, text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c < 128 && table[c] === 1;
}
const NO_SECRET = /^(?:\*+|<[^>]*>|null|none|true|false|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*)$/i;

/**
 * `name=value`, `"name": "value"`, `name: value`, `--name value` where the name ends with a secret
 * name. The name is found by the regular expression; its beginning is found by scanning back over
 * key characters, which cannot cross an `=`, `:` or space, so no character is scanned twice.
 */
function redactSecretValues(text: string): string {
  SECRET_KEY.lastIndex = 0;
  let out = '';
  let copied = 0;
  for (let m = SECRET_KEY.exec(text); m; m = SECRET_KEY.exec(text)) {
    let start = m.index;
    while (start > copied && isIn(KEY_CHAR, text, start - 1)) start--;
    const before = start > 0 ? text[start - 1]! : '';
    const valueStart = m.index + m[0].length;
    const option = m[2] !== undefined;
    // `/oauth/token: refused` names an endpoint; `password authentication failed` is prose.
    const isKey = option ? text[start] === '-' && (before === '' || /[\s"'=]/.test(before)) : before !== '/';
    if (!isKey) {
      SECRET_KEY.lastIndex = m.index + 1;
      continue;
    }
    const valueEnd = endOfValue(text, valueStart);
    const value = text.slice(valueStart, valueEnd);
    if (valueEnd > valueStart && !isPlaceholder(value)) {
      out += text.slice(copied, valueStart) + quoteLike(value);
      copied = valueEnd;
    }
    SECRET_KEY.lastIndex = Math.max(valueEnd, m.index + 1);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Where a value that starts at `from` ends: its closing quote or brace, or the first separator. */
function endOfValue(text: string, from: number): number {
  const open = text[from];
  if (open === '"' || open === "'") {
    const close = text.indexOf(open, from + 1);
    const line = text.indexOf('\n', from + 1);
    if (close >= 0 && (line < 0 || close < line)) return close + 1;
    return line < 0 ? text.length : line;
  }
  if (open === '$' && text[from + 1] === '{') {
    const close = text.indexOf('}', from);
    if (close >= 0) return close + 1;
  }
  let i = from;
  while (i < text.length && !VALUE_END.has(text.charCodeAt(i))) i++;
  return i;
}

const VALUE_END = new Set([...' \t\r\n\v\f,;&"\'}]'].map((c) => c.charCodeAt(0)));

/** A value that is already masked, or says there is none: nothing to hide. */
function isPlaceholder(value: string): boolean {
  const v = value.length >= 2 && (value[0] === '"' || value[0] === "'") ? value.slice(1, -1) : value;
  return v === '' || v.startsWith('[REDACTED') || NO_SECRET.test(v);
}

/** Keeps the quotes of a quoted value so the text stays well-formed (JSON stays JSON). */
function quoteLike(value: string): string {
  const q = value[0];
  return (q === '"' || q === "'") && value.endsWith(q) && value.length >= 2 ? `${q}${MASK}${q}` : MASK;
}

/** Characters that end a URL's authority (`scheme://authority/path`). */
const AUTHORITY_END = new Set([...' \t\r\n\v\f/?#"\'<>`'].map((c) => c.charCodeAt(0)));

/**
 * `scheme://user:password@host`: the password is masked. The userinfo ends at the authority's
 * *last* `@`, so a password holding `@` (`etl:p@ss@db`) is masked whole.
 */
function redactUrlPasswords(text: string): string {
  let out = '';
  let copied = 0;
  for (let at = text.indexOf('://'); at >= 0; at = text.indexOf('://', at + 3)) {
    if (at === 0 || !isIn(SCHEME_CHAR, text, at - 1)) continue;
    const from = at + 3;
    let end = from;
    let lastAt = -1;
    let colon = -1;
    while (end < text.length && !AUTHORITY_END.has(text.charCodeAt(end))) {
      const c = text.charCodeAt(end);
      if (c === 64) lastAt = end;
      else if (c === 58 && colon < 0) colon = end;
      end++;
    }
    if (lastAt < 0 || colon < 0 || colon > lastAt) continue;
    const secret = text.slice(colon + 1, lastAt);
    if (secret === '' || secret === MASK) continue;
    out += `${text.slice(copied, colon + 1)}${MASK}`;
    copied = lastAt;
    at = end - 3;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** E-mail addresses, found from their `@`: the local part before it, a dotted domain after. */
function redactEmails(text: string): string {
  let out = '';
  let copied = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > copied && isIn(LOCAL_PART, text, start - 1)) start--;
    if (start === at) continue;
    // The domain: labels of [A-Za-z0-9-] joined by single dots, ending with a 2+ letter label.
    let end = at + 1;
    let lastDot = -1;
    let domainEnd = -1;
    while (end < text.length) {
      if (isIn(DOMAIN_CHAR, text, end)) {
        end++;
        continue;
      }
      if (text[end] === '.' && end > at + 1 && end !== lastDot + 1 && isIn(DOMAIN_CHAR, text, end + 1)) {
        lastDot = end;
        end++;
        continue;
      }
      break;
    }
    if (lastDot > 0 && /^[A-Za-z]{2,}$/.test(text.slice(lastDot + 1, end))) domainEnd = end;
    if (domainEnd < 0) continue;
    out += `${text.slice(copied, start)}[REDACTED EMAIL]`;
    copied = domainEnd;
    at = domainEnd - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * JSON web tokens, `eyJ<header>.eyJ<payload>.<signature>`, found from their `eyJ`. A run of
 * base64url characters that is not followed by `.eyJ` is skipped whole, so it is scanned once.
 */
function redactJwts(text: string): string {
  let out = '';
  let copied = 0;
  for (let at = text.indexOf('eyJ'); at >= 0; at = text.indexOf('eyJ', at + 1)) {
    if (at > 0 && isIn(B64URL, text, at - 1) && text[at - 1] !== '-') continue;
    const header = runEnd(text, at);
    if (header - at < 8 || text[header] !== '.' || !text.startsWith('eyJ', header + 1)) {
      at = header - 1;
      continue;
    }
    const payload = runEnd(text, header + 1);
    if (payload - header - 1 < 8 || text[payload] !== '.') {
      at = payload - 1;
      continue;
    }
    const end = runEnd(text, payload + 1);
    out += `${text.slice(copied, at)}${MASK}`;
    copied = end;
    at = end - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function runEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && isIn(B64URL, text, i)) i++;
  return i;
}

/** Base64 of `user:password`, the credential of HTTP basic authentication. */
function isBasicCredential(b64: string): boolean {
  if (b64.length % 4 === 1) return false;
  const decoded = Buffer.from(b64, 'base64').toString('latin1');
  return /^[\x20-\x7e]+$/.test(decoded) && decoded.indexOf(':') > 0;
}

/**
 * Known token prefixes, each followed by the token's body: Slack (`xoxb-`, `xapp-`), GitHub
 * (`ghp_`, `github_pat_`), GitLab (`glpat-`), npm (`npm_`), Stripe (`sk_live_`, `rk_test_`,
 * `whsec_`), Anthropic/OpenAI (`sk-`, `sk-ant-`), Google API keys (`AIza`), Hugging Face
 * (`hf_`), PyPI (`pypi-`), DigitalOcean (`dop_v1_`), Shopify (`shpat_`), SendGrid (`SG.`).
 */
const PREFIXED_TOKEN = new RegExp(
  [
    String.raw`\bxox[abposre]-[A-Za-z0-9-]{8,}`,
    String.raw`\bxapp-[A-Za-z0-9-]{8,}`,
    String.raw`\bgh[pousr]_[A-Za-z0-9]{20,}`,
    String.raw`\bgithub_pat_[A-Za-z0-9_]{20,}`,
    String.raw`\bgl(?:pat|dt|rt|ptt|cbt|soat)-[A-Za-z0-9_-]{20,}`,
    String.raw`\bnpm_[A-Za-z0-9]{30,}`,
    String.raw`\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}`,
    String.raw`\bwhsec_[A-Za-z0-9+/=]{20,}`,
    String.raw`\bsk-(?:ant-)?[A-Za-z0-9_-]{20,}`,
    String.raw`\bAIza[0-9A-Za-z_-]{35}`,
    String.raw`\bhf_[A-Za-z0-9]{30,}`,
    String.raw`\bpypi-[A-Za-z0-9_-]{40,}`,
    String.raw`\bdop_v1_[a-f0-9]{64}`,
    String.raw`\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}`,
    String.raw`\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`,
  ].join('|'),
  'g',
);

/** Applied in order: specific shapes first, so the generic `key=value` rule sees them masked. */
const RULES: readonly Rule[] = [
  pattern(
    'private key block',
    /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]{0,40}PRIVATE KEY-----|$)/g,
    () => '[REDACTED PRIVATE KEY]',
  ),
  { name: 'JWT', apply: redactJwts },
  { name: 'password in a URL', apply: redactUrlPasswords },
  pattern(
    'Authorization header',
    /\b((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:Bearer|Basic|Token|Digest|Negotiate|AWS4-HMAC-SHA256)[ \t]+)?)([^\s"',;]+)/gi,
    (m, head, value) => (value.startsWith('[REDACTED') ? m : `${head}${MASK}`),
  ),
  pattern(
    'Cookie header',
    /\b((?:set-)?cookie["']?[ \t]*[:=][ \t]*)("[^"\n]*"|'[^'\n]*'|[^\n"']+)/gi,
    (m, head, value) =>
      value.startsWith('[REDACTED') || isPlaceholder(value) ? m : `${head}${quoteLike(value)}`,
  ),
  pattern('bearer token', /\b(Bearer[ \t]+)([A-Za-z0-9._~+/=-]{8,})/gi, (m, head, value) =>
    value.startsWith('[REDACTED') ? m : `${head}${MASK}`,
  ),
  pattern(
    'basic credentials',
    /\b(Basic[ \t]+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/g,
    (m, head, value) => (isBasicCredential(value) ? `${head}${MASK}` : m),
  ),
  pattern(
    'user:password option',
    /(?<![\w-])(-u|--user)([ \t]+|=)(["']?)([^\s:"'@]+):([^\s"']+)/g,
    (m, flag, sep, quote, user, pass) =>
      pass.startsWith('[REDACTED') ? m : `${flag}${sep}${quote}${user}:${MASK}`,
  ),
  pattern(
    'Slack webhook',
    /(https:\/\/hooks\.slack\.com\/(?:services|workflows)\/)[A-Za-z0-9/_-]+/g,
    (_m, head) => `${head}${MASK}`,
  ),
  pattern('prefixed token', PREFIXED_TOKEN, () => MASK),
  pattern(
    'AWS access key id',
    /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
    () => '[REDACTED AWS KEY ID]',
  ),
  { name: 'secret key=value', apply: redactSecretValues },
  { name: 'email address', apply: redactEmails },
];

/** Redacting a cut text also looks this far past the cut, so a secret that starts before it is seen whole. */
const MARGIN = 1024;

/** `text` with secrets and e-mail addresses masked. */
export function redact(text: string): string {
  let out = text;
  for (const rule of RULES) out = rule.apply(out);
  return out;
}

/**
 * The first `max` characters of `text`, redacted, with an ellipsis when cut. Only a margin past
 * `max` is redacted (not the whole text), so the cost does not depend on how long the text is,
 * and a secret that starts before the cut is seen whole before being cut.
 */
export function redactCut(text: string, max: number): string {
  const margin = max + MARGIN;
  const clean = redact(text.length > margin ? text.slice(0, margin) : text);
  return clean.length <= max ? clean : `${clean.slice(0, Math.max(0, max - 1))}…`;
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
