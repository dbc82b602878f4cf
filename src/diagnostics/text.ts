import { redactCut, withoutInvisible } from '../logs/redact.ts';

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
    // Cut before redacting: a 10 MB line costs what a short one does.
    .map((l) => redactCut(withoutInvisible(head(l, MAX_LINE)).trimEnd(), MAX_LINE));
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
  return cut(
    redactCut(withoutInvisible(head(text, max)), max)
      .replace(/\s+/g, ' ')
      .trim(),
    max,
  );
}

/**
 * The start of `text`, with room past `max` for invisible characters to drop and for a secret
 * that starts before the cut to be seen whole by the redactor.
 */
function head(text: string, max: number): string {
  const room = 2 * max + 1024;
  return text.length > room ? text.slice(0, room) : text;
}

export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
