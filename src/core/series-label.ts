/**
 * Resource attributes that name what a series measures, the default of
 * `otlp.identifyingAttributes`: the service, where it runs, and the unit of deployment that
 * survives a restart (function, container, ECS task family, Kubernetes workload). Never the
 * attributes a restart changes (`service.instance.id`, `process.pid`, `telemetry.*`, `host.id`
 * of a fresh container): a restarted exporter must continue its series, as every metrics backend
 * treats it (Prometheus keeps such attributes apart in `target_info`).
 */
export const DEFAULT_IDENTIFYING_ATTRIBUTES: readonly string[] = [
  'service.name',
  'service.namespace',
  'deployment.environment',
  'deployment.environment.name',
  'host.name',
  'cloud.region',
  'faas.name',
  'container.name',
  'aws.ecs.task.family',
  'aws.ecs.cluster.arn',
  'k8s.cluster.name',
  'k8s.namespace.name',
  'k8s.deployment.name',
  'k8s.statefulset.name',
  'k8s.daemonset.name',
  'k8s.cronjob.name',
  'k8s.container.name',
];

/** Attributes a human name leaves out: they say where, not what, and a title has no room. */
const NOT_IN_LABEL =
  /^(service\.(name|namespace|version|instance\.id)|deployment\.|cloud\.|telemetry\.|process\.|os\.|host\.(id|arch|type|image)|aws\.ecs\.cluster\.arn|k8s\.cluster\.name)/;

/** Longest human name of a series; a title adds a few words ("stopped reporting") and stays ≤ 100. */
export const SERIES_LABEL_MAX = 72;

/**
 * A series named for a human, `ingest.rows of lambda-ingestion on web-vitals-crm`: the metric,
 * the service, then the values of the point attributes and of the place it runs (host, function,
 * container). Keys are left out (a value reads on its own); so are attributes that only say
 * where (region, namespace) or that a restart changes. At most {@link SERIES_LABEL_MAX}
 * characters.
 */
export function seriesLabel(
  name: string,
  resource: Readonly<Record<string, string>>,
  point: Readonly<Record<string, string>> = {},
): string {
  const service = resource['service.name'] ?? point['service.name'];
  const values: string[] = [];
  const add = (attrs: Readonly<Record<string, string>>) => {
    for (const k of Object.keys(attrs).sort()) {
      const v = attrs[k]!;
      if (NOT_IN_LABEL.test(k) || v === '' || v === service || values.includes(v)) continue;
      values.push(v);
    }
  };
  add(point);
  add(resource);
  let label = service ? `${name} of ${service}` : name;
  if (label.length > SERIES_LABEL_MAX) return `${label.slice(0, SERIES_LABEL_MAX - 1)}…`;
  // Whole values only: a value cut in the middle could be a secret that redaction, which runs on
  // the title later, no longer recognises.
  for (const [i, v] of values.entries()) {
    const next = `${label}${i === 0 ? ' on ' : ', '}${v}`;
    if (next.length > SERIES_LABEL_MAX - 2) return `${label} …`;
    label = next;
  }
  return label;
}
