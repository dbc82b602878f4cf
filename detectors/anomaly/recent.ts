/** The last few points of a series, oldest first, for a chart beside an anomaly. */
export class RecentPoints {
  readonly #times: Float64Array;
  readonly #values: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#times = new Float64Array(capacity);
    this.#values = new Float64Array(capacity);
  }

  /** Points from `toJSON` (the newest `capacity` of them). */
  static fromJSON(json: { t: readonly number[]; v: readonly number[] }, capacity: number): RecentPoints {
    const recent = new RecentPoints(capacity);
    for (let i = 0; i < json.t.length && i < json.v.length; i++) recent.push(json.t[i]!, json.v[i]!);
    return recent;
  }

  push(time: number, value: number): void {
    this.#times[this.#next] = time;
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#times.length;
    if (this.#count < this.#times.length) this.#count++;
  }

  get size(): number {
    return this.#count;
  }

  /** `{"t":[epoch ms…],"v":[values…]}`, oldest first, values to 6 significant digits. */
  toJSON(): { t: number[]; v: number[] } {
    const t: number[] = [];
    const v: number[] = [];
    const cap = this.#times.length;
    const start = (this.#next - this.#count + cap) % cap;
    for (let i = 0; i < this.#count; i++) {
      const j = (start + i) % cap;
      t.push(this.#times[j]!);
      v.push(Number(this.#values[j]!.toPrecision(6)));
    }
    return { t, v };
  }
}
