/** One point of a series: epoch ms and value. */
export interface HistoryPoint {
  readonly t: number;
  readonly v: number;
}

export interface SeriesHistoryOptions {
  /** Series kept at most; one not written lately makes room for a new one. @defaultValue 20000 */
  maxSeries?: number;
  /** Points kept per series, the newest. @defaultValue 120 */
  pointsPerSeries?: number;
}

/** Slots are allocated in chunks, so a quiet Guardian does not hold the whole budget. */
const CHUNK = 1024;

interface Chunk {
  /** Seconds since the epoch (a chart needs no finer time), P per slot. */
  readonly times: Uint32Array;
  readonly values: Float32Array;
  /** Per slot: index of the next write, points kept, written since the clock hand passed. */
  readonly next: Uint16Array;
  readonly count: Uint16Array;
  readonly touched: Uint8Array;
}

/**
 * The recent points of each metric series, so a chart can show a departure in its context. Bounded
 * twice: a fixed number of points per series (rings in typed-array slabs, about 1 KB a series, no
 * allocation per point) and a fixed number of series. When full, a new series takes the slot of
 * one not written since the clock hand last passed it (the CLOCK approximation of least recently
 * used), so a flood of new series costs stale series' history, never unbounded memory, and a
 * point costs one map lookup.
 */
export class SeriesHistory {
  readonly #slots = new Map<string, number>();
  /** Which series holds each slot, to forget it when the slot is taken. */
  readonly #owners: string[] = [];
  readonly #chunks: Chunk[] = [];
  readonly #maxSeries: number;
  readonly #points: number;
  #hand = 0;
  #evicted = 0;

  constructor(options: SeriesHistoryOptions = {}) {
    this.#maxSeries = Math.max(1, options.maxSeries ?? 20_000);
    this.#points = Math.min(65_535, Math.max(2, options.pointsPerSeries ?? 120));
  }

  /** Records a point; a point older than the series' newest is ignored (a replayed batch). */
  record(series: string, t: number, v: number): void {
    let slot = this.#slots.get(series);
    const seconds = Math.max(0, Math.floor(t / 1000));
    let chunk: Chunk;
    let at: number;
    if (slot === undefined) {
      slot = this.#owners.length < this.#maxSeries ? this.#grow() : this.#evict();
      this.#owners[slot] = series;
      this.#slots.set(series, slot);
      chunk = this.#chunks[Math.floor(slot / CHUNK)]!;
      at = slot % CHUNK;
      // A new series starts without a second chance: a flood of one-point series takes its own
      // slots back before it takes those of series that keep reporting.
      chunk.touched[at] = 0;
      chunk.next[at] = 0;
      chunk.count[at] = 0;
    } else {
      chunk = this.#chunks[Math.floor(slot / CHUNK)]!;
      at = slot % CHUNK;
      chunk.touched[at] = 1;
      const last = (chunk.next[at]! + this.#points - 1) % this.#points;
      if (chunk.count[at]! > 0 && seconds < chunk.times[at * this.#points + last]!) return;
    }
    const i = at * this.#points + chunk.next[at]!;
    chunk.times[i] = seconds;
    chunk.values[i] = v;
    chunk.next[at] = (chunk.next[at]! + 1) % this.#points;
    if (chunk.count[at]! < this.#points) chunk.count[at]!++;
  }

  /** The series' kept points, oldest first (times to the second); empty when it has none. */
  points(series: string): HistoryPoint[] {
    const slot = this.#slots.get(series);
    if (slot === undefined) return [];
    const chunk = this.#chunks[Math.floor(slot / CHUNK)]!;
    const at = slot % CHUNK;
    const count = chunk.count[at]!;
    const start = (chunk.next[at]! - count + this.#points) % this.#points;
    const out: HistoryPoint[] = [];
    for (let k = 0; k < count; k++) {
      const i = at * this.#points + ((start + k) % this.#points);
      out.push({ t: chunk.times[i]! * 1000, v: chunk.values[i]! });
    }
    return out;
  }

  /** Series with a history now. */
  get size(): number {
    return this.#slots.size;
  }

  /** Series whose history was dropped to make room, since the start. */
  get evicted(): number {
    return this.#evicted;
  }

  #grow(): number {
    const slot = this.#owners.length;
    if (slot % CHUNK === 0) {
      const n = Math.min(CHUNK, this.#maxSeries - slot);
      this.#chunks.push({
        times: new Uint32Array(n * this.#points),
        values: new Float32Array(n * this.#points),
        next: new Uint16Array(n),
        count: new Uint16Array(n),
        touched: new Uint8Array(n),
      });
    }
    this.#owners.push('');
    return slot;
  }

  /** Advances the clock hand to a slot not written since it last passed, and frees it. */
  #evict(): number {
    for (;;) {
      const slot = this.#hand;
      this.#hand = (this.#hand + 1) % this.#owners.length;
      const chunk = this.#chunks[Math.floor(slot / CHUNK)]!;
      if (chunk.touched[slot % CHUNK]) {
        chunk.touched[slot % CHUNK] = 0;
        continue;
      }
      this.#slots.delete(this.#owners[slot]!);
      this.#evicted++;
      return slot;
    }
  }
}
