/**
 * Which resource attributes identify what a series is about, by the naming convention of the
 * OpenTelemetry semantic conventions rather than by a list: an attribute whose last segment is
 * `id`, `name` or `identifier` names the resource it belongs to (`host.name`, `k8s.node.name`,
 * `cloud.account.id`, `db.instance.identifier`, a vendor's `nat_gateway.id`). Two NAT gateways or
 * two database instances exporting the same metric are two series, not one.
 *
 * Left out: the attributes of one *instance* of a process, which a restart or a redeploy changes
 * and which the semantic conventions define as such — `service.instance.id` ("unique for each
 * instance"), the `process.*` and `telemetry.*` namespaces, `host.id` and `host.image.*` (a fresh
 * container or machine image), `container.id` and `container.image.*`, the Kubernetes pod,
 * replica set and job (replaced on every rollout or run), `aws.ecs.task.id` (a new task per
 * start), `deployment.id` (one per deployment) and `os.*` (what the host runs, not which host).
 * A restarted exporter must continue its series, as every metrics backend treats it.
 *
 * Bounded: at most {@link MAX_CONVENTION_ATTRIBUTES} attributes join a key this way (the first
 * by name), and a value longer than {@link MAX_CONVENTION_VALUE} characters never does (a value
 * that long is a payload, not a name), so a resource's attributes cannot multiply its series.
 */
const CONVENTION = /\.(id|name|identifier)$/;

/** Attributes of one instance of a process: a restart or a redeploy changes them. */
const INSTANCE =
  /^(service\.instance\.|process\.|telemetry\.|host\.(id$|image\.)|container\.(id$|image\.)|k8s\.(pod|replicaset|job)\.|aws\.ecs\.task\.id$|deployment\.id$|os\.)/;

/** Most attributes that join a series key by the convention alone. */
export const MAX_CONVENTION_ATTRIBUTES = 8;

/** Longest value of an attribute that joins a series key by the convention. */
export const MAX_CONVENTION_VALUE = 128;

/** Whether the naming convention makes `key` an attribute that identifies its resource. */
export function identifiesByConvention(key: string): boolean {
  return CONVENTION.test(key) && !INSTANCE.test(key);
}
