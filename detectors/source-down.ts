import type { Observation, Signal } from '../src/core/index.ts';
import { stableId } from '../src/core/index.ts';
import type { Detector, DetectorContext } from '../src/detection/engine.ts';

export const SOURCE_DOWN_DETECTOR_ID = 'source-down';

/**
 * A source Guardian cannot reach (Airflow API, Spark master, Loki): fires `source.down` on the
 * first failed poll of an outage, resolves on the first poll that works again. While a source is
 * down Guardian is blind to that system, which the on-call engineer must know.
 */
export function createSourceDownDetector(): Detector {
  const down = new Set<string>();
  return {
    id: SOURCE_DOWN_DETECTOR_ID,
    accepts: ['health'],
    observe(obs: Observation, ctx: DetectorContext) {
      if (obs.type !== 'health' || !obs.entity.startsWith('source:')) return;
      if (!obs.healthy && !down.has(obs.entity)) {
        down.add(obs.entity);
        ctx.emit(signal(obs.entity, 'firing', obs.time, obs.reason));
      } else if (obs.healthy && down.delete(obs.entity)) {
        ctx.emit(signal(obs.entity, 'resolved', obs.time, obs.reason));
      }
    },
    size: () => down.size,
  };
}

function signal(entity: string, status: Signal['status'], time: number, reason: string): Signal {
  const name = entity.slice('source:'.length);
  return {
    fingerprint: stableId('src_', entity),
    kind: 'source.down',
    status,
    entity,
    related: [],
    time,
    severity: 'high',
    title: status === 'firing' ? `Guardian cannot reach ${name}` : `Guardian reaches ${name} again`,
    detector: SOURCE_DOWN_DETECTOR_ID,
    evidence: [{ kind: 'text', label: 'reason', text: reason }],
  };
}
