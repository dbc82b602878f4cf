/**
 * Fallback redaction for text sent to the LLM, until `src/logs/redact.ts` (shared with the log
 * pipeline) exists; switch the import in `prompt.ts` to it then. Masks what must never leave
 * Guardian: credentials (AWS keys, bearer/basic auth, Slack and Anthropic tokens, JWTs, passwords
 * and secrets in key=value or JSON), credentials in URLs, e-mail addresses and private keys.
 */
const RULES: readonly (readonly [RegExp, string])[] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[private key]'],
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, '[aws access key]'],
  [/\bxox[abposr]-[A-Za-z0-9-]{8,}/g, '[slack token]'],
  [/\bsk-ant-[A-Za-z0-9_-]{8,}/g, '[anthropic key]'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[jwt]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [redacted]'],
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi, '$1[redacted]@'],
  [
    /("?(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|authorization|credentials?)"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;}&]+)/gi,
    '$1[redacted]',
  ],
  [/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, '[email]'],
];

/** `text` with secrets and personal data masked. Idempotent. */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}
