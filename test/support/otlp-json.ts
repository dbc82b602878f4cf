/** One gauge point of an OTLP/JSON export request. */
export interface GaugePoint {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly timeMs: number;
  readonly value: number;
}

const attributes = (a: Readonly<Record<string, string>>) =>
  Object.entries(a)
    .map(([key, v]) => `{"key":${JSON.stringify(key)},"value":{"stringValue":${JSON.stringify(v)}}}`)
    .join(',');

/**
 * An OTLP/JSON `ExportMetricsServiceRequest` of gauges, one resource per entry; written as a
 * string directly, since the abuse suite sends millions of points.
 */
export function gaugeRequest(
  resources: readonly {
    readonly resource: Readonly<Record<string, string>>;
    readonly points: readonly GaugePoint[];
  }[],
): string {
  const parts: string[] = [];
  for (const r of resources) {
    const metrics = r.points.map(
      (p) =>
        `{"name":${JSON.stringify(p.name)},"unit":"1","gauge":{"dataPoints":[{"attributes":[${attributes(p.attributes)}],"timeUnixNano":"${BigInt(Math.round(p.timeMs)) * 1_000_000n}","asDouble":${p.value}}]}}`,
    );
    parts.push(
      `{"resource":{"attributes":[${attributes(r.resource)}]},"scopeMetrics":[{"metrics":[${metrics.join(',')}]}]}`,
    );
  }
  return `{"resourceMetrics":[${parts.join(',')}]}`;
}

/** POSTs an OTLP/JSON body; returns the status. */
export async function pushJson(url: string, body: string): Promise<number> {
  const res = await fetch(`${url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}
