import type { Clock } from '../core/index.ts';
import type { IncidentStore } from '../incidents/store.ts';
import { type ApiKeyRecord, keyUnusable, parseApiKey, secretMatches } from './api-key.ts';

/** The outcome of presenting a key. */
export type Authentication =
  | { readonly ok: true; readonly key: ApiKeyRecord }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

export interface AuthenticatorOptions {
  store: Pick<IncidentStore, 'getApiKey' | 'listApiKeys'>;
  clock: Clock;
  /**
   * How long a key record (or its absence) read from the store is trusted: a key revoked on any
   * replica stops working everywhere within this time. @defaultValue 10000 (10 s)
   */
  cacheMs?: number;
  /** Key ids remembered (known and unknown). @defaultValue 10000 */
  cacheMaxEntries?: number;
}

/** How long key lookups are cached by default: the most a revoked key keeps working. */
export const KEY_CACHE_MS = 10_000;

/**
 * Checks presented API keys against the store, with a short cache so a request costs no store
 * read most of the time. The cache is bounded; unknown ids are cached too, so a stream of made-up
 * keys costs one read per id per `cacheMs` at most (and the rate limit on failures bounds that).
 */
export class Authenticator {
  readonly #store: AuthenticatorOptions['store'];
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #maxEntries: number;
  readonly #records = new Map<string, { record: ApiKeyRecord | null; at: number }>();
  #anyKey: { value: boolean; at: number } | undefined;

  constructor(options: AuthenticatorOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#cacheMs = options.cacheMs ?? KEY_CACHE_MS;
    this.#maxEntries = options.cacheMaxEntries ?? 10_000;
  }

  /** Checks a presented key (the text after `Bearer `). */
  async authenticate(presented: string): Promise<Authentication> {
    const parsed = parseApiKey(presented);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const now = this.#clock.now();
    const record = await this.#record(parsed.id, now);
    if (!record || !secretMatches(record, parsed.secret)) return { ok: false, reason: 'unknown' };
    const unusable = keyUnusable(record, now);
    if (unusable) return { ok: false, reason: unusable };
    return { ok: true, key: record };
  }

  /** Whether any usable key exists (protected mode applies while none does). Cached like keys. */
  async anyKeyDefined(): Promise<boolean> {
    const now = this.#clock.now();
    if (this.#anyKey && now - this.#anyKey.at < this.#cacheMs) return this.#anyKey.value;
    const keys = await this.#store.listApiKeys();
    const value = keys.some((k) => !keyUnusable(k, now));
    this.#anyKey = { value, at: now };
    return value;
  }

  /** Key ids remembered now (known and unknown), at most `cacheMaxEntries`. */
  get cacheSize(): number {
    return this.#records.size;
  }

  /** Forgets what was cached (a key was just created or revoked in this process). */
  forget(): void {
    this.#records.clear();
    this.#anyKey = undefined;
  }

  async #record(id: string, now: number): Promise<ApiKeyRecord | null> {
    const cached = this.#records.get(id);
    if (cached && now - cached.at < this.#cacheMs) return cached.record;
    const record = await this.#store.getApiKey(id);
    this.#records.delete(id);
    if (this.#records.size >= this.#maxEntries) this.#records.delete(this.#records.keys().next().value!);
    this.#records.set(id, { record, at: now });
    return record;
  }
}
