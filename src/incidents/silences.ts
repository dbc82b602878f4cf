import type { Incident } from '../core/index.ts';
import { compileGlob, type Glob } from './glob.ts';
import type { IncidentStore, Silence } from './store.ts';

/**
 * What a silence may be: narrow enough that it cannot mute everything by mistake (or on purpose),
 * and cheap to evaluate. Entity keys are `<kind>:<id>` (`host:10.0.4.161`, `spark:worker:w-1`).
 */
export const SILENCE_LIMITS = {
  /** Most `*` in an entity glob. */
  maxStars: 8,
  /**
   * Fewest literal (non-`*`) characters after the entity kind's `:` — `host:*` and `host:1*` name
   * no host in particular.
   */
  minLiteralAfterKind: 3,
  /** Longest entity glob and kind. */
  maxEntityLength: 500,
  maxKindLength: 200,
} as const;

/** Why a silence's matchers are refused: the field and a sentence for the person who asked. */
export interface SilenceRefusal {
  readonly field: 'kind' | 'entity' | 'matcher';
  readonly message: string;
}

/**
 * Checks the matchers a person gives a silence (API, `/guardian silence`). Refuses a silence with
 * no matcher, a kind with `*` (kinds match exactly: a `*` kind would read as "every kind"), and an
 * entity glob that is match-all or over-broad: one that does not start with a literal entity kind
 * and `:` (`*:*`, `*host*`), has fewer than {@link SILENCE_LIMITS.minLiteralAfterKind} literal
 * characters after it (`host:*`), or more than {@link SILENCE_LIMITS.maxStars} stars.
 */
export function checkSilenceMatchers(matchers: {
  kind?: string;
  entity?: string;
}): SilenceRefusal | undefined {
  const { kind, entity } = matchers;
  if (!kind && !entity) {
    return {
      field: 'matcher',
      message: 'a silence needs a kind or an entity (with neither it matches nothing)',
    };
  }
  if (kind !== undefined) {
    if (kind.length > SILENCE_LIMITS.maxKindLength) {
      return { field: 'kind', message: `is longer than ${SILENCE_LIMITS.maxKindLength} characters` };
    }
    if (kind.includes('*')) {
      return {
        field: 'kind',
        message: 'is matched exactly: `*` is not allowed in a kind (name one, e.g. spot_interruption)',
      };
    }
    if (/\s/.test(kind)) return { field: 'kind', message: 'must not contain spaces' };
  }
  if (entity !== undefined) {
    if (entity.length > SILENCE_LIMITS.maxEntityLength) {
      return { field: 'entity', message: `is longer than ${SILENCE_LIMITS.maxEntityLength} characters` };
    }
    const glob = compileGlob(entity);
    if (glob.stars > SILENCE_LIMITS.maxStars) {
      return {
        field: 'entity',
        message: `has ${glob.stars} stars; at most ${SILENCE_LIMITS.maxStars} are allowed`,
      };
    }
    const kindPrefix = /^[a-z][a-z0-9_.-]*:/i.exec(entity)?.[0];
    if (!kindPrefix) {
      return {
        field: 'entity',
        message:
          'matches every entity or too many: it must start with an entity kind and `:` (host:10.0.4.*)',
      };
    }
    const literalAfterKind = entity.slice(kindPrefix.length).replaceAll('*', '').length;
    if (literalAfterKind < SILENCE_LIMITS.minLiteralAfterKind) {
      return {
        field: 'entity',
        message: `is too broad: name the ${kindPrefix.slice(0, -1)} with at least ${SILENCE_LIMITS.minLiteralAfterKind} characters besides \`*\` after "${kindPrefix}"`,
      };
    }
  }
  return undefined;
}

/**
 * Whether `silence` covers `incident`: every matcher the silence has must hold. `kind` matches the
 * root-cause kind, a signal's kind or a signal's error class; `entity` (a `*` glob) matches the
 * root-cause entity or any entity the incident touches. A silence with no matcher covers nothing,
 * so a malformed one can never mute everything.
 */
export function silenceMatches(silence: Silence, incident: Incident): boolean {
  return matcherOf(silence)(incident);
}

/** The first active silence (at `now`) that covers the incident, if any. */
export function findSilence(
  silences: readonly Silence[],
  incident: Incident,
  now: number,
): Silence | undefined {
  return silences.find((s) => s.expiresAt > now && s.createdAt <= now && silenceMatches(s, incident));
}

/**
 * The active silences (at `now`) that cover the incident, read a page at a time
 * ({@link IncidentStore.silencePages}): memory holds a page and the `max` kept, whatever the
 * number of silences, and the event loop runs between pages. The earliest created (then smallest
 * id) first, as {@link findSilence} on the whole list would find them.
 */
export async function coveringSilences(
  pages: AsyncIterable<readonly Silence[]>,
  incident: Incident,
  now: number,
  max: number,
): Promise<Silence[]> {
  let kept: Silence[] = [];
  const trim = () => {
    kept.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    kept = kept.slice(0, max);
  };
  for await (const page of pages) {
    for (const s of page)
      if (s.expiresAt > now && s.createdAt <= now && silenceMatches(s, incident)) kept.push(s);
    if (kept.length > max) trim();
  }
  trim();
  return kept;
}

/** The silence that mutes the incident now, if any: {@link coveringSilences}' first. */
export async function findActiveSilence(
  pages: AsyncIterable<readonly Silence[]>,
  incident: Incident,
  now: number,
): Promise<Silence | undefined> {
  return (await coveringSilences(pages, incident, now, 1))[0];
}

/** Compiled entity globs, by silence id: a silence is evaluated against many incidents. */
const compiled = new Map<string, Glob>();
const COMPILED_MAX = 1000;

function matcherOf(silence: Silence): (incident: Incident) => boolean {
  if (!silence.kind && !silence.entity) return () => false;
  let glob: Glob | undefined;
  if (silence.entity) {
    glob = compiled.get(silence.entity);
    if (!glob) {
      glob = compileGlob(silence.entity);
      if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
      compiled.set(silence.entity, glob);
    }
  }
  return (incident) => {
    if (silence.kind) {
      const kind = silence.kind;
      const kindHolds =
        incident.rootCause?.kind === kind ||
        incident.signals.some((s) => s.kind === kind || s.errorClass === kind);
      if (!kindHolds) return false;
    }
    if (glob) {
      const g = glob;
      const entities = incident.rootCause
        ? [incident.rootCause.entity, ...incident.entities]
        : incident.entities;
      if (!entities.some((e) => g.test(e))) return false;
    }
    return true;
  };
}

/** What a silence covers, for people: `kind spot_interruption on host:10.0.3.17`. */
export function describeSilence(silence: Pick<Silence, 'kind' | 'entity'>): string {
  const parts: string[] = [];
  if (silence.kind) parts.push(`kind ${silence.kind}`);
  if (silence.entity) parts.push(`${parts.length ? 'on ' : 'entity '}${silence.entity}`);
  return parts.join(' ') || 'nothing';
}
