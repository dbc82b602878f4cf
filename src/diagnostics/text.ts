import { redact, withoutInvisible } from '../logs/redact.ts';

/** Longest line kept of any diagnostic. */
export const MAX_LINE = 300;

/**
 * Lines fit to show and to give the LLM: redacted, control characters out, each cut to
 * {@link MAX_LINE}, and all of them within `maxChars` — keeping the end of a log (where the
 * failure is) or the start of anything else.
 */
export function fitLines(lines: readonly string[], maxChars: number, keep: 'head' | 'tail'): string[] {
  const clean = lines
    .flatMap((l) => l.split('\n'))
    .map((l) => cut(redact(withoutInvisible(l)).trimEnd(), MAX_LINE));
  const ordered = keep === 'tail' ? [...clean].reverse() : clean;
  const out: string[] = [];
  let used = 0;
  for (const line of ordered) {
    if (used + line.length + 1 > maxChars) {
      const dropped = clean.length - out.length;
      out.push(`… ${dropped} more line${dropped === 1 ? '' : 's'} not shown`);
      break;
    }
    out.push(line);
    used += line.length + 1;
  }
  return keep === 'tail' ? out.reverse() : out;
}

/** A short, redacted reason or label. */
export function shortText(text: string, max = 200): string {
  return cut(redact(withoutInvisible(text)).replace(/\s+/g, ' ').trim(), max);
}

export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
