import type { EntityKey, LogObservation, Severity, Signal } from '../core/index.ts';
import type { DetectorContext } from '../detection/engine.ts';
import { quote } from './entries.ts';
import { redact } from './redact.ts';

/** A template new on a stream, as a firing condition: what it says, how often, examples. */
export interface NewTemplate {
  readonly fingerprint: string;
  readonly templateId: string;
  readonly stream: EntityKey;
  readonly name: string;
  readonly related: EntityKey[];
  readonly firstSeen: number;
  template: string;
  lastSeen: number;
  count: number;
  readonly examples: string[];
}

/** What kind of novelty a detector reports, and how it titles it. */
export interface NoveltyKind {
  readonly kind: string;
  readonly detector: string;
  readonly severity: Severity;
  /** `New error in`, `New in`: followed by the stream's name and the template. */
  readonly title: string;
}

/**
 * The new templates a detector has fired and not yet resolved, least recently seen first (bounded
 * by `maxFiring`): an entry of one of them counts towards it, and one not seen again on its stream
 * for `quietMs` resolves.
 */
export class FiringTemplates {
  readonly #what: NoveltyKind;
  readonly #quietMs: number;
  readonly #maxFiring: number;
  readonly #maxExamples: number;
  readonly #firing = new Map<string, NewTemplate>();

  constructor(what: NoveltyKind, limits: { quietMs: number; maxFiring: number; maxExamples: number }) {
    this.#what = what;
    this.#quietMs = limits.quietMs;
    this.#maxFiring = Math.max(1, limits.maxFiring);
    this.#maxExamples = Math.max(1, limits.maxExamples);
  }

  get size(): number {
    return this.#firing.size;
  }

  /** Whether another one may fire. */
  get full(): boolean {
    return this.#firing.size >= this.#maxFiring;
  }

  values(): IterableIterator<NewTemplate> {
    return this.#firing.values();
  }

  /** Counts an entry of a template already firing on its stream; false when it is not firing. */
  repeat(fingerprint: string, template: string, obs: LogObservation): boolean {
    const known = this.#firing.get(fingerprint);
    if (!known) return false;
    this.#firing.delete(fingerprint);
    this.#firing.set(fingerprint, known);
    known.count++;
    known.template = redact(template);
    if (obs.time > known.lastSeen) known.lastSeen = obs.time;
    if (known.examples.length < this.#maxExamples) known.examples.push(quote(obs.line));
    return true;
  }

  /** A template new on the stream of `obs`: fires. */
  fire(
    ids: { fingerprint: string; templateId: string; template: string },
    about: { name: string; related: EntityKey[] },
    obs: LogObservation,
    ctx: DetectorContext,
  ): void {
    const entry: NewTemplate = {
      ...ids,
      template: redact(ids.template),
      stream: obs.stream,
      ...about,
      firstSeen: obs.time,
      lastSeen: obs.time,
      count: 1,
      examples: [quote(obs.line)],
    };
    this.#firing.set(entry.fingerprint, entry);
    ctx.emit(this.signal(entry, 'firing', obs.time));
  }

  /** Takes back one saved condition (from a snapshot), while there is room. */
  restore(t: NewTemplate): void {
    if (this.#firing.has(t.fingerprint) || this.full) return;
    this.#firing.set(t.fingerprint, { ...t, related: [...t.related], examples: [...t.examples] });
  }

  /** Resolves the templates not seen again for `quietMs`. */
  resolveQuiet(now: number, ctx: DetectorContext): void {
    for (const t of this.#firing.values()) {
      if (now - t.lastSeen < this.#quietMs) break;
      this.#firing.delete(t.fingerprint);
      ctx.emit(this.signal(t, 'resolved', t.lastSeen + this.#quietMs));
    }
  }

  signal(t: NewTemplate, status: Signal['status'], time: number): Signal {
    const shown = withoutLeadingWildcards(t.template);
    const template = shown.length > 120 ? `${shown.slice(0, 119)}…` : shown;
    return {
      fingerprint: t.fingerprint,
      kind: this.#what.kind,
      status,
      entity: t.stream,
      related: [...t.related],
      time,
      severity: this.#what.severity,
      title: `${this.#what.title} ${t.name}: ${template}`,
      detector: this.#what.detector,
      evidence: [
        { kind: 'text', label: 'template', text: t.template },
        { kind: 'log', label: 'examples', lines: [...t.examples] },
        { kind: 'value', label: 'entries', value: t.count },
      ],
    };
  }
}

/** A token made only of wildcards and the separators of a timestamp: `<*>/<*>/<*>`, `[<*>]`, `<*>:<*>,<*>`. */
const WILDCARD_TOKEN = /^[[(+-]?<\*>(?:[-/:.,T+]*<\*>)*[-/:.,Z]*[\])]?:?$/;

/**
 * The template as a title: without the wildcards a line's timestamp leaves at its start, which
 * would otherwise fill the title before what the line says (`<*>/<*>/<*> <*>:<*>:<*> ERROR …`
 * reads `ERROR …`). A bare `<*>` goes only after such a token (`<*> tasks failed` keeps its count);
 * a template that is nothing but wildcards is kept whole.
 */
export function withoutLeadingWildcards(template: string): string {
  const tokens = template.split(' ');
  let i = 0;
  while (i < tokens.length && WILDCARD_TOKEN.test(tokens[i]!) && (i > 0 || tokens[i] !== '<*>')) i++;
  return i === 0 || i === tokens.length ? template : tokens.slice(i).join(' ');
}
