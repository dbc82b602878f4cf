import type { AttributeMatcher } from '../src/config/schema.ts';
import { DEFAULT_IDENTIFYING_ATTRIBUTES, type MetricObservation, seriesLabel } from '../src/core/index.ts';

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

/** A group of series: a stable key and how to name it for a human (`host 10.0.3.17`). */
export interface SeriesGroup {
  readonly key: string;
  readonly label: string;
}

/** The attributes that name what a series is about, most specific first, for default grouping. */
const GROUP_DEFAULTS: readonly (readonly [label: string, attributes: readonly string[]])[] = [
  ['host', ['host.name', 'host.id', 'host']],
  ['function', ['faas.name']],
  ['service', ['service.name']],
];

/**
 * The group a series belongs to under a rule: by the rule's `groupBy` attributes when it names
 * them, else by the entity the series is about (its host, else its function, else its service).
 */
export function seriesGroup(
  attributes: Readonly<Record<string, string>>,
  groupBy: readonly string[] | undefined,
): SeriesGroup {
  if (groupBy) {
    const parts = groupBy.map((k) => `${k}=${attributes[k] ?? ''}`);
    return { key: parts.join('\u0000'), label: parts.join(', ') };
  }
  for (const [label, keys] of GROUP_DEFAULTS) {
    for (const k of keys) {
      const v = attributes[k];
      if (v) return { key: `${label}\u0000${v}`, label: `${label} ${v}` };
    }
  }
  return { key: '', label: '' };
}

const IDENTIFYING = new Set(DEFAULT_IDENTIFYING_ATTRIBUTES);

/**
 * The series' human name for titles: the one the OTLP receiver gave it, or one made from its
 * attributes (observations built elsewhere, tests), the identifying resource attributes and
 * anything else taken as point attributes.
 */
export function seriesNameOf(obs: Pick<MetricObservation, 'name' | 'attributes' | 'label'>): string {
  if (obs.label) return obs.label;
  const resource: Record<string, string> = {};
  const point: Record<string, string> = {};
  for (const [k, v] of Object.entries(obs.attributes)) {
    if (IDENTIFYING.has(k)) resource[k] = v;
    else if (!/^(service\.instance\.id|telemetry\.|process\.)/.test(k)) point[k] = v;
  }
  return seriesLabel(obs.name, resource, point);
}
