import type { AttributeMatcher } from '../src/config/schema.ts';

/** A compiled set of attribute matchers: all must hold. */
export type SeriesMatcher = (attributes: Readonly<Record<string, string>>) => boolean;

/** Compiles `{ key: "v" | { regex } | { not } }` once, so matching a point costs no allocation. */
export function compileMatchers(match: Readonly<Record<string, AttributeMatcher>>): SeriesMatcher {
  const tests: ((attrs: Readonly<Record<string, string>>) => boolean)[] = [];
  for (const [key, m] of Object.entries(match)) {
    if (typeof m === 'string') tests.push((a) => a[key] === m);
    else if ('regex' in m) {
      const re = new RegExp(`^(?:${m.regex})$`);
      tests.push((a) => a[key] !== undefined && re.test(a[key]));
    } else tests.push((a) => a[key] !== m.not);
  }
  if (tests.length === 0) return () => true;
  return (attrs) => {
    for (const t of tests) if (!t(attrs)) return false;
    return true;
  };
}

/** Entities a metric series belongs to, from well-known resource attributes. */
export function seriesRelations(attributes: Readonly<Record<string, string>>): string[] {
  const host = attributes['host.name'] ?? attributes['host.id'] ?? attributes.host;
  return host ? [`host:${host}`] : [];
}
