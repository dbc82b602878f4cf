/**
 * The part of LogQL Guardian's Loki stand-in understands: a stream selector (`=`, `!=`, `=~`,
 * `!~`) followed by line filters (`|=`, `!=`, `|~`, `!~`). Enough for the queries Guardian sends;
 * anything else is a parse error, as Loki would answer for a query it cannot run.
 */
export interface LogQuery {
  readonly matchers: readonly { name: string; op: '=' | '!=' | '=~' | '!~'; value: string }[];
  readonly filters: readonly { op: '|=' | '!=' | '|~' | '!~'; value: string }[];
}

export class LogQLParseError extends Error {}

export function parseLogQuery(query: string): LogQuery {
  const text = query.trim();
  if (!text.startsWith('{'))
    throw new LogQLParseError(`parse error at line 1, col 1: syntax error: unexpected input, expecting {`);
  const close = findClosingBrace(text);
  const selector = text.slice(1, close);
  const matchers: { name: string; op: '=' | '!=' | '=~' | '!~'; value: string }[] = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)\s*(,|$)/y;
  let pos = 0;
  while (pos < selector.length) {
    re.lastIndex = pos;
    const m = re.exec(selector);
    if (!m)
      throw new LogQLParseError(`parse error at line 1, col ${pos + 2}: syntax error in stream selector`);
    matchers.push({ name: m[1]!, op: m[2] as '=', value: unquote(m[3]!) });
    pos = re.lastIndex;
  }
  if (matchers.length === 0)
    throw new LogQLParseError(
      'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  const filters: { op: '|=' | '!=' | '|~' | '!~'; value: string }[] = [];
  const rest = text.slice(close + 1);
  const fre = /\s*(\|=|!=|\|~|!~)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)\s*/y;
  let fpos = 0;
  while (fpos < rest.length) {
    fre.lastIndex = fpos;
    const m = fre.exec(rest);
    if (!m) {
      if (rest.slice(fpos).trim() === '') break;
      throw new LogQLParseError(
        `parse error at line 1, col ${close + 2 + fpos}: syntax error: unexpected ${JSON.stringify(rest.slice(fpos, fpos + 10))}`,
      );
    }
    filters.push({ op: m[1] as '|=', value: unquote(m[2]!) });
    fpos = fre.lastIndex;
  }
  return { matchers, filters };
}

/** A compiled query: does a stream match, does a line pass the filters. */
export function compileLogQuery(q: LogQuery): {
  stream: (labels: Record<string, string>) => boolean;
  line: (line: string) => boolean;
} {
  const ms = q.matchers.map((m) => {
    if (m.op === '=') return (l: Record<string, string>) => (l[m.name] ?? '') === m.value;
    if (m.op === '!=') return (l: Record<string, string>) => (l[m.name] ?? '') !== m.value;
    const re = goRegex(m.value, true);
    return m.op === '=~'
      ? (l: Record<string, string>) => re.test(l[m.name] ?? '')
      : (l: Record<string, string>) => !re.test(l[m.name] ?? '');
  });
  const fs = q.filters.map((f) => {
    if (f.op === '|=') return (line: string) => line.includes(f.value);
    if (f.op === '!=') return (line: string) => !line.includes(f.value);
    const re = goRegex(f.value);
    return f.op === '|~' ? (line: string) => re.test(line) : (line: string) => !re.test(line);
  });
  return { stream: (l) => ms.every((m) => m(l)), line: (line) => fs.every((f) => f(line)) };
}

/**
 * A LogQL regex: Go's RE2 `(?i)` prefix, which JavaScript only takes as a flag; label matchers are
 * anchored at both ends, line filters are not. A pattern that does not compile is Loki's parse error
 * (HTTP 400), not a server fault.
 */
function goRegex(source: string, anchored = false): RegExp {
  const insensitive = source.startsWith('(?i)');
  const body = insensitive ? source.slice(4) : source;
  try {
    return new RegExp(anchored ? `^(?:${body})$` : body, insensitive ? 'i' : '');
  } catch (err) {
    throw new LogQLParseError(`parse error : error parsing regexp: ${(err as Error).message}`);
  }
}

function findClosingBrace(text: string): number {
  let inString: string | null = null;
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\' && inString === '"') i++;
      else if (c === inString) inString = null;
    } else if (c === '"' || c === '`') inString = c;
    else if (c === '}') return i;
  }
  throw new LogQLParseError('parse error : syntax error: unexpected $end, expecting } or ,');
}

function unquote(s: string): string {
  if (s.startsWith('`')) return s.slice(1, -1);
  return JSON.parse(s) as string;
}
