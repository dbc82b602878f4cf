import { type IncidentChart, incidentCharts } from '../charts/incident-charts.ts';
import { chartPng } from '../charts/png.ts';
import type { SeriesHistory } from '../charts/series-history.ts';
import type { Clock, SlackThread } from '../core/index.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { MessageChannel } from './channel.ts';
import type { NotifyContext } from './notify-context.ts';

/** Timeline events that say a chart is in the thread start with this. */
const CHART_EVENT = 'chart:';

/** What sharing charts needs. */
export interface ThreadChartsOptions {
  /** The recent points of each series. */
  history: SeriesHistory;
  channel: MessageChannel;
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
}

/**
 * A chart of each of an incident's metric series (at most four) in its thread, once: each chart
 * shared is noted in the timeline, and a chart noted there is not shared again.
 */
export class ThreadCharts {
  readonly #o: ThreadChartsOptions;

  constructor(options: ThreadChartsOptions) {
    this.#o = options;
  }

  /** Charts of the incident's series that are not in its thread yet. */
  toShare(context: NotifyContext): IncidentChart[] {
    const charted = new Set(
      context.notes.filter((e) => e.id.startsWith(CHART_EVENT)).map((e) => e.fingerprint ?? ''),
    );
    return incidentCharts(context.incident, this.#o.history).filter((c) => !charted.has(c.fingerprint));
  }

  /**
   * Shares each chart not yet in the thread, then notes it in the timeline. A chart that cannot be
   * drawn or uploaded is logged and left for the next update: a chart never holds up a message. A
   * process that dies between the upload and the note shares that chart again on the next attempt.
   */
  async share(context: NotifyContext, thread: SlackThread): Promise<void> {
    const { incident } = context;
    for (const chart of this.toShare(context)) {
      try {
        const bytes = chartPng(chart.spec);
        await this.#o.channel.uploadFile(thread.channel, thread.ts, {
          filename: `${incident.id}-${chart.fingerprint}.png`,
          title: chart.spec.title,
          altText: `Chart of ${chart.spec.title}`,
          bytes,
        });
        await this.#o.store.appendTimeline(incident.id, [
          {
            id: `${CHART_EVENT}${incident.id}:${chart.fingerprint}`,
            at: this.#o.clock.now(),
            type: 'notified',
            text: `chart shared in the thread: ${chart.spec.title}`.slice(0, 1000),
            fingerprint: chart.fingerprint,
          },
        ]);
      } catch (err) {
        this.#o.logger.warn(
          { err, incidentId: incident.id },
          'chart could not be shared; will try on the next update',
        );
        return;
      }
    }
  }
}
