/**
 * The one notion of "now" in Guardian. In service mode it is the wall clock; in replay and in
 * tests it is a virtual clock that the caller advances. Nothing else reads `Date.now()` or sets
 * its own timers for pipeline logic.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Runs `fn` once, `delayMs` after now. The returned handle cancels it. Errors thrown by `fn`
   * (sync or async) are the caller's to handle inside `fn`: a timer never crashes the process.
   */
  setTimer(delayMs: number, fn: () => unknown): TimerHandle;
}

export interface TimerHandle {
  cancel(): void;
}

/** Repeats `fn` every `intervalMs` on `clock`, waiting for an async run to finish before the next. */
export function every(clock: Clock, intervalMs: number, fn: () => unknown): TimerHandle {
  let current: TimerHandle | undefined;
  let stopped = false;
  const schedule = () => {
    current = clock.setTimer(intervalMs, async () => {
      try {
        await fn();
      } finally {
        if (!stopped) schedule();
      }
    });
  };
  schedule();
  return {
    cancel() {
      stopped = true;
      current?.cancel();
    },
  };
}

/**
 * The longest delay Node's `setTimeout` takes (2^31 − 1 ms, 24.8 days); a longer one fires at
 * once, with a warning. Longer delays are waited for in steps of at most this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    // Due at a point in time, re-armed until then: a 30-day silence waits 30 days, not 1 ms.
    const due = Date.now() + Math.max(0, delayMs);
    let t: NodeJS.Timeout;
    const arm = () => {
      const left = due - Date.now();
      t = setTimeout(
        () => (Date.now() >= due ? void fn() : arm()),
        Math.min(Math.max(0, left), MAX_TIMER_MS),
      );
      t.unref();
    };
    arm();
    return { cancel: () => clearTimeout(t) };
  },
};

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => unknown;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. `advanceTo` runs every timer due up to the target time in
 * time order (ties in creation order), awaiting each one, so async work started by a timer finishes
 * before virtual time moves past it.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: PendingTimer[] = [];

  constructor(start: number | string | Date = 0) {
    this.#now = typeof start === 'number' ? start : new Date(start).getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, fn: () => unknown): TimerHandle {
    const timer: PendingTimer = {
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      fn,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward to `target`, running due timers on the way. */
  async advanceTo(target: number): Promise<void> {
    if (target < this.#now) throw new RangeError(`cannot move the clock back from ${this.#now} to ${target}`);
    for (;;) {
      const next = this.#nextDue(target);
      if (!next) break;
      this.#now = Math.max(this.#now, next.at);
      this.#timers.splice(this.#timers.indexOf(next), 1);
      await next.fn();
    }
    this.#now = target;
  }

  async advanceBy(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  /** Timers still waiting (for tests and diagnostics). */
  pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  #nextDue(target: number): PendingTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    let best: PendingTimer | undefined;
    for (const t of this.#timers) {
      if (t.at > target) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The UTC time of day as evidence lines give it: `02:07:00Z`. */
export function timeOfDay(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`;
}
