import { WebClient } from '@slack/web-api';
import { type Clock, errorMessage } from '../core/index.ts';
import { toDependencyError } from '../notify/channels/slack.ts';
import type { Logger } from '../telemetry/logger.ts';
import { boltLogger } from './bolt-logger.ts';

/** Who may act from Slack, and from which workspaces. */
export interface SlackAuthorizationOptions {
  /** Slack user ids (`U…`, `W…`) and user-group ids (`S…`) allowed to act. Empty: anyone. */
  responders: readonly string[];
  /** Accepted workspaces or Enterprise Grid organisations (`T…`, `E…`). Empty: any. */
  teams: readonly string[];
  /** A user group's members (`usergroups.users.list`); needed when `responders` names groups. */
  groupMembers?: (groupId: string) => Promise<readonly string[]>;
  clock: Clock;
  logger: Logger;
  /** How long a group's members are remembered. @defaultValue 300000 (5 min) */
  groupMembersTtlMs?: number;
}

/** Where a Slack interaction comes from. */
export interface SlackRequester {
  readonly userId: string;
  readonly teamId?: string | undefined;
  readonly enterpriseId?: string | undefined;
}

/** A refusal for the person (shown only to them), or undefined when they may go on. */
export type Refusal = string | undefined;

/**
 * Decides who may do what from Slack. Workspaces: a request from a team (or Enterprise Grid
 * organisation) not in `teams` is refused outright. Responders: only the listed users, and members
 * of the listed user groups, may change anything (acknowledge, resolve, reopen, silence,
 * unsilence). Group members are looked up with `usergroups.users.list` and remembered for a few
 * minutes; when Slack cannot answer, the last known members are used, and with none known the
 * request is refused (never let through on a failure).
 */
export class SlackAuthorizer {
  readonly #o: SlackAuthorizationOptions;
  readonly #users: ReadonlySet<string>;
  readonly #groups: readonly string[];
  readonly #ttlMs: number;
  readonly #members = new Map<string, { users: ReadonlySet<string>; at: number }>();

  constructor(options: SlackAuthorizationOptions) {
    this.#o = options;
    this.#users = new Set(options.responders.filter((id) => !id.startsWith('S')));
    this.#groups = options.responders.filter((id) => id.startsWith('S'));
    this.#ttlMs = options.groupMembersTtlMs ?? 300_000;
    if (this.#groups.length > 0 && !options.groupMembers) {
      throw new TypeError('responders name user groups, but no way to look up their members was given');
    }
  }

  /** Whether anyone at all is restricted (for the startup warning). */
  get restrictsResponders(): boolean {
    return this.#o.responders.length > 0;
  }

  get restrictsTeams(): boolean {
    return this.#o.teams.length > 0;
  }

  /** Refuses requests from workspaces not accepted. */
  workspace(requester: SlackRequester): Refusal {
    const { teams } = this.#o;
    if (teams.length === 0) return undefined;
    if (
      (requester.teamId && teams.includes(requester.teamId)) ||
      (requester.enterpriseId && teams.includes(requester.enterpriseId))
    ) {
      return undefined;
    }
    this.#o.logger.warn(
      { user: requester.userId, team: requester.teamId },
      'Slack request from a workspace not accepted',
    );
    return 'Guardian does not take requests from this workspace.';
  }

  /** Refuses people who are not responders from changing anything. */
  async responder(requester: SlackRequester): Promise<Refusal> {
    const workspace = this.workspace(requester);
    if (workspace) return workspace;
    if (!this.restrictsResponders || this.#users.has(requester.userId)) return undefined;
    let unknown = false;
    for (const group of this.#groups) {
      const members = await this.#groupMembers(group);
      if (members === undefined) unknown = true;
      else if (members.has(requester.userId)) return undefined;
    }
    this.#o.logger.warn(
      { user: requester.userId, unknownGroups: unknown },
      'Slack action refused: not a responder',
    );
    return unknown
      ? 'Guardian cannot check right now whether you are a responder (Slack did not answer); nothing was changed. Try again in a moment.'
      : 'Only Guardian responders can do that; nothing was changed. Ask an admin to add you (slack.responders).';
  }

  async #groupMembers(group: string): Promise<ReadonlySet<string> | undefined> {
    const now = this.#o.clock.now();
    const cached = this.#members.get(group);
    if (cached && now - cached.at < this.#ttlMs) return cached.users;
    try {
      const users = new Set(await this.#o.groupMembers!(group));
      this.#members.set(group, { users, at: now });
      return users;
    } catch (err) {
      this.#o.logger.warn(
        { group, error: errorMessage(err), stale: Boolean(cached) },
        'could not list user group members',
      );
      return cached?.users;
    }
  }
}

/** `usergroups.users.list` through Slack's Web API client (needs the `usergroups:read` scope). */
export function slackGroupMembers(options: {
  token: string;
  apiUrl?: string;
  logger: Logger;
  /** @defaultValue 3000 */
  timeoutMs?: number;
}): (groupId: string) => Promise<readonly string[]> {
  const client = new WebClient(options.token, {
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: options.timeoutMs ?? 3000,
    logger: boltLogger(options.logger),
  });
  return async (usergroup) => {
    try {
      const result = await client.usergroups.users.list({ usergroup });
      return result.users ?? [];
    } catch (err) {
      throw toDependencyError('usergroups.users.list', err, options.token);
    }
  };
}
