import type { Clock, HealthObservation, Observation, TimerHandle } from '../core/index.ts';
import { errorMessage } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { type PollLease, soleReplica } from './poll-lease.ts';
import type { PollSource } from './source.ts';

export interface PollerOptions {
  sources: readonly PollSource[];
  clock: Clock;
  logger: Logger;
  /** Receives each poll's observations, and the sources' health changes. */
  sink: (observations: Observation[]) => void;
  /**
   * Longest wait between polls of a failing source (exponential backoff from its interval).
   * @defaultValue 5 minutes
   */
  maxBackoffMs?: number;
  /**
   * Whether this replica polls (several replicas: one does). A replica without the lease skips
   * its polls and asks again at the next interval.
   * @defaultValue the sole replica: always polls
   */
  lease?: PollLease;
}

interface SourceState {
  readonly source: PollSource;
  failures: number;
  timer: TimerHandle | undefined;
  running: Promise<void> | undefined;
}

/**
 * Runs every source on its interval, on the injected clock. A source that fails is reported as an
 * unhealthy health observation (the `source-down` detector turns it into a signal), retried with
 * exponential backoff, and reported healthy again when a poll succeeds. A failing source never
 * throws out of here.
 */
export class Poller {
  readonly #o: PollerOptions;
  readonly #states: SourceState[];
  #stopped = false;

  constructor(options: PollerOptions) {
    this.#o = options;
    this.#states = options.sources.map((source) => ({
      source,
      failures: 0,
      timer: undefined,
      running: undefined,
    }));
  }

  /** Polls every source now, then on its interval. */
  start(): void {
    for (const state of this.#states) this.#schedule(state, 0);
  }

  /** Polls one source now and waits for it (tests, replay). */
  async pollNow(id: string): Promise<void> {
    const state = this.#states.find((s) => s.source.id === id);
    if (!state) throw new Error(`no source ${id}`);
    await this.#run(state);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const s of this.#states) s.timer?.cancel();
    await Promise.all(this.#states.map((s) => s.running));
  }

  #schedule(state: SourceState, delayMs: number): void {
    if (this.#stopped) return;
    state.timer?.cancel();
    state.timer = this.#o.clock.setTimer(delayMs, async () => {
      if (await (this.#o.lease ?? soleReplica).hold()) await this.#run(state);
      this.#schedule(state, this.#nextDelay(state));
    });
  }

  #nextDelay(state: SourceState): number {
    const { intervalMs } = state.source;
    if (state.failures === 0) return intervalMs;
    return Math.min(this.#o.maxBackoffMs ?? 300_000, intervalMs * 2 ** (state.failures - 1));
  }

  async #run(state: SourceState): Promise<void> {
    if (state.running) return state.running;
    state.running = (async () => {
      const { source } = state;
      try {
        const observations = await source.poll();
        if (state.failures > 0) {
          this.#o.logger.info({ source: source.id, after: state.failures }, 'source is reachable again');
          observations.unshift(this.#health(state, true, 'poll succeeded'));
        }
        state.failures = 0;
        if (observations.length > 0) this.#o.sink(observations);
      } catch (err) {
        state.failures++;
        const reason = errorMessage(err);
        this.#o.logger.warn({ source: source.id, failures: state.failures, reason }, 'source poll failed');
        // Report once per outage, not on every failed poll.
        if (state.failures === 1) this.#o.sink([this.#health(state, false, reason)]);
      } finally {
        state.running = undefined;
      }
    })();
    return state.running;
  }

  #health(state: SourceState, healthy: boolean, reason: string): HealthObservation {
    return { type: 'health', entity: state.source.entity, time: this.#o.clock.now(), healthy, reason };
  }
}
