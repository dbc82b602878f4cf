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
  /**
   * While the store does not answer, what was last read from it is still trusted this long (the
   * store is tried again every `cacheMs`): an outage of DynamoDB must not lock out the exporters
   * and the on-call engineer. A key cannot be revoked during the outage anyway (revoking writes to
   * the store). Past it, requests get 503. @defaultValue 3600000 (1 h)
   */
  staleIfErrorMs?: number;
  /** Told when the store failed and what was last read is used instead. */
  onStale?: (error: unknown) => void;
}

/** A value read from the store: `at` when it was last tried, `readAt` when last read. */
interface Cached<T> {
  value: T;
  at: number;
  readAt: number;
}

/** How long key lookups are cached by default: the most a revoked key keeps working. */
export const KEY_CACHE_MS = 10_000;

/** How long what was last read is trusted while the store does not answer, by default. */
export const KEY_STALE_IF_ERROR_MS = 3_600_000;

/**
 * Checks presented API keys against the store, with a short cache so a request costs no store
 * read most of the time. The cache is bounded; unknown ids are cached too, so a stream of made-up
 * keys costs one read per id per `cacheMs` at most (and the rate limit on failures bounds that).
 * When the store fails, what was read before is used for up to `staleIfErrorMs`.
 */
export class Authenticator {
  readonly #store: AuthenticatorOptions['store'];
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #maxEntries: number;
  readonly #staleMs: number;
  readonly #onStale: ((error: unknown) => void) | undefined;
  readonly #records = new Map<string, Cached<ApiKeyRecord | null>>();
  #anyKey: Cached<boolean> | undefined;
  /** Store reads in flight, by key id ('' for the any-key check): one at a time each. */
  readonly #reading = new Map<string, Promise<unknown>>();
  /** Bumped by `forget()`: a read begun before it must not bring back what was forgotten. */
  #generation = 0;

  constructor(options: AuthenticatorOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#cacheMs = options.cacheMs ?? KEY_CACHE_MS;
    this.#maxEntries = options.cacheMaxEntries ?? 10_000;
    this.#staleMs = options.staleIfErrorMs ?? KEY_STALE_IF_ERROR_MS;
    this.#onStale = options.onStale;
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
    const cached = await this.#fresh(
      '',
      this.#anyKey,
      now,
      async () => (await this.#store.listApiKeys()).some((k) => !keyUnusable(k, now)),
      (c) => {
        this.#anyKey = c;
      },
    );
    return cached.value;
  }

  /** Key ids remembered now (known and unknown), at most `cacheMaxEntries`. */
  get cacheSize(): number {
    return this.#records.size;
  }

  /** Forgets what was cached (a key was just created or revoked in this process). */
  forget(): void {
    this.#records.clear();
    this.#anyKey = undefined;
    this.#reading.clear();
    this.#generation++;
  }

  async #record(id: string, now: number): Promise<ApiKeyRecord | null> {
    const cached = await this.#fresh(
      id,
      this.#records.get(id),
      now,
      () => this.#store.getApiKey(id),
      (c) => {
        this.#records.delete(id);
        if (this.#records.size >= this.#maxEntries) this.#records.delete(this.#records.keys().next().value!);
        this.#records.set(id, c);
      },
    );
    return cached.value;
  }

  /**
   * `cached` while it is fresh; else read again (one read per key at a time), and `keep` what was
   * read. If the read fails, or takes longer than {@link STALE_WAIT_MS} (a store that does not
   * answer), a value read less than `staleIfErrorMs` ago is used and the store tried again after
   * `cacheMs`; without one the error is thrown.
   */
  async #fresh<T>(
    key: string,
    cached: Cached<T> | undefined,
    now: number,
    read: () => Promise<T>,
    keep: (c: Cached<T>) => void,
  ): Promise<Cached<T>> {
    if (cached && now - cached.at < this.#cacheMs) return cached;
    let pending = this.#reading.get(key) as Promise<T> | undefined;
    if (!pending) {
      const generation = this.#generation;
      const reading = read();
      pending = reading;
      this.#reading.set(key, reading);
      // What the read brings is kept even when nobody waits for it any more.
      reading.then(
        (value) => {
          if (generation !== this.#generation) return;
          const at = this.#clock.now();
          keep({ value, at, readAt: at });
        },
        () => {},
      );
      void reading
        .finally(() => {
          if (this.#reading.get(key) === reading) this.#reading.delete(key);
        })
        .catch(() => {});
    }
    const usable = cached && now - cached.readAt < this.#staleMs ? cached : undefined;
    try {
      const value = usable ? await within(pending, STALE_WAIT_MS) : await pending;
      return { value, at: now, readAt: now };
    } catch (err) {
      if (!usable) throw err;
      this.#onStale?.(err);
      usable.at = now;
      return usable;
    }
  }
}

/** How long a request waits for the store before what was read before is used instead. */
const STALE_WAIT_MS = 1000;

/** `promise`, or a rejection after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the key store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
