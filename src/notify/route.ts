import type { Incident } from '../core/index.ts';
import { compileGlob } from '../incidents/glob.ts';
import type { MatchedPlaybook } from '../playbooks/match.ts';

/** Where incidents go when no playbook names a channel. */
export interface RoutingOptions {
  /** The channel of last resort (`SLACK_CHANNEL`). */
  defaultChannel: string;
  /** DAG id (`*` glob) → channel, first match wins. */
  dags?: readonly { readonly dag: string; readonly channel: string }[];
  /** DAG owner → channel (needs {@link RoutingOptions.dagInfo}). */
  owners?: Readonly<Record<string, string>>;
  /** DAG tag → channel (needs {@link RoutingOptions.dagInfo}). */
  tags?: Readonly<Record<string, string>>;
  /**
   * Owners and tags of a DAG, when Guardian can look them up (from Airflow, cached by the caller):
   * null or undefined for a DAG it does not know; throws (or rejects) when it cannot answer now,
   * and routing then goes on without owners and tags.
   */
  dagInfo?: (dagId: string) => DagOwnersAndTags | null | undefined | Promise<DagOwnersAndTags | null>;
}

/** What routing by owner and tag needs to know about a DAG. */
export interface DagOwnersAndTags {
  readonly owners: readonly string[];
  readonly tags: readonly string[];
}

export interface Route {
  readonly channel: string;
  /** Why this channel (`playbook spot-loss`, `dag nightly_*`, `default`). */
  readonly reason: string;
}

/**
 * The channel for an incident: the best matching playbook's team channel; else the first DAG
 * mapping that matches one of its DAGs (by id, then owner, then tag); else the default channel.
 * DAG owners and tags are looked up only when routing gets that far; a lookup that fails skips the
 * owner and tag rules of that DAG (never the notification), and the route's reason says why.
 */
export async function routeIncident(
  incident: Incident,
  playbooks: readonly MatchedPlaybook[],
  options: RoutingOptions,
): Promise<Route> {
  const owned = playbooks.find((p) => p.playbook.owner.slack_channel && !p.playbook.match.fallback);
  if (owned?.playbook.owner.slack_channel) {
    return { channel: owned.playbook.owner.slack_channel, reason: `playbook ${owned.playbook.id}` };
  }
  const dags = dagsOf(incident);
  for (const rule of options.dags ?? []) {
    const glob = compileGlob(rule.dag);
    const dag = dags.find((d) => glob.test(d));
    if (dag) return { channel: rule.channel, reason: `dag ${rule.dag}` };
  }
  const skipped: string[] = [];
  const byOwnerOrTag = Object.keys(options.owners ?? {}).length + Object.keys(options.tags ?? {}).length > 0;
  if (options.dagInfo && byOwnerOrTag) {
    for (const dag of dags) {
      let info: DagOwnersAndTags | null | undefined;
      try {
        info = await options.dagInfo(dag);
      } catch (err) {
        skipped.push(`${dag}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (!info) continue;
      const owner = info.owners.find((o) => options.owners?.[o]);
      if (owner) return { channel: options.owners![owner]!, reason: `owner ${owner} of ${dag}` };
      const tag = info.tags.find((t) => options.tags?.[t]);
      if (tag) return { channel: options.tags![tag]!, reason: `tag ${tag} of ${dag}` };
    }
  }
  if (skipped.length > 0) {
    return {
      channel: options.defaultChannel,
      reason: `default (owner/tag rules skipped, DAG lookup failed: ${skipped.join('; ')})`,
    };
  }
  return { channel: options.defaultChannel, reason: 'default' };
}

/** DAG ids the incident touches: its impact's, else those in its entity keys. */
export function dagsOf(incident: Incident): string[] {
  const dags = new Set(incident.impact?.dags ?? []);
  for (const e of incident.entities) {
    const m = /^airflow:(?:dag|dagrun|task):([^/]+)/.exec(e);
    if (m) dags.add(m[1]!);
  }
  return [...dags].sort();
}
