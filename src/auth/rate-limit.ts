/**
 * Token buckets by key, in bounded memory: at most `maxKeys` buckets; when full, the bucket used
 * least recently is dropped (it would have been full again anyway, unless it was being drained at
 * that very moment, which only lets its owner start over with a full burst).
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  /** key → bucket; Map order is recency order (a touched bucket is moved to the end). */
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * @param options.rate - tokens added per second
   * @param options.burst - bucket size: requests allowed at once after a quiet spell
   * @param options.maxKeys - buckets kept @defaultValue 10000
   */
  constructor(options: { rate: number; burst: number; maxKeys?: number }) {
    this.#rate = options.rate;
    this.#burst = options.burst;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  /** Takes one token for `key` at `now` (epoch ms): 0 when granted, else seconds to wait (≥ 1). */
  take(key: string, now: number): number {
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
      bucket.at = now;
    } else {
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
      bucket = { tokens: this.#burst, at: now };
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }

  /** Buckets held now (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }
}
