import { kv, ProtoWriter } from '../test/support/protobuf-writer.ts';

/**
 * A collector-like `ExportMetricsServiceRequest`: `hosts` resources (Spark workers), each with
 * gauges and cumulative sums over several attribute sets, `pointsPerSeries` points each.
 * Returns the bytes and the number of data points in them.
 */
export function collectorPayload(options: { hosts: number; pointsPerSeries: number; startNanos: bigint }): {
  bytes: Uint8Array;
  points: number;
} {
  let points = 0;
  const w = new ProtoWriter();
  for (let h = 0; h < options.hosts; h++) {
    w.message(1, (rm) =>
      rm
        .message(1, (r) =>
          r
            .message(1, kv('service.name', 'spark-worker'))
            .message(1, kv('host.name', `10.0.${h >> 8}.${h & 255}`))
            .message(1, kv('cloud.region', 'eu-west-1'))
            .message(1, kv('cloud.availability_zone', 'eu-west-1a'))
            .message(1, kv('host.type', 'r6g.4xlarge')),
        )
        .message(2, (sm) => {
          sm.message(1, (scope) =>
            scope.string(
              1,
              'github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver',
            ),
          );
          for (const [name, attr, values] of [
            ['system.memory.utilization', 'state', ['used', 'free', 'cached', 'buffered']],
            ['system.cpu.utilization', 'state', ['user', 'system', 'idle', 'wait']],
          ] as const) {
            sm.message(2, (m) =>
              m
                .string(1, name)
                .string(3, '1')
                .message(5, (g) => {
                  for (const v of values) {
                    for (let p = 0; p < options.pointsPerSeries; p++) {
                      points++;
                      g.message(1, (dp) =>
                        dp
                          .message(7, kv(attr, v))
                          .fixed64(2, options.startNanos)
                          .fixed64(3, options.startNanos + BigInt(p) * 15_000_000_000n)
                          .double(4, Math.random()),
                      );
                    }
                  }
                }),
            );
          }
          sm.message(2, (m) =>
            m
              .string(1, 'system.network.io')
              .string(3, 'By')
              .message(7, (s) => {
                for (const dir of ['receive', 'transmit']) {
                  for (let p = 0; p < options.pointsPerSeries; p++) {
                    points++;
                    s.message(1, (dp) =>
                      dp
                        .message(7, kv('direction', dir))
                        .message(7, kv('device', 'eth0'))
                        .fixed64(2, options.startNanos)
                        .fixed64(3, options.startNanos + BigInt(p) * 15_000_000_000n)
                        .fixed64(6, BigInt(1_000_000 + p * 1000)),
                    );
                  }
                }
                s.varint(2, 2).varint(3, 1);
              }),
          );
        }),
    );
  }
  return { bytes: w.finish(), points };
}
