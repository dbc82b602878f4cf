import type { GuardianConfig } from '../config/schema.ts';
import { type Clock, ConfigError } from '../core/index.ts';
import type { IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createSlackApp } from './plugin.ts';
import { SlackAuthorizer, slackGroupMembers } from './responders.ts';

export interface SlackAppFromConfigOptions {
  config: Pick<GuardianConfig, 'slack'>;
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  /** Queues the update of an incident's Slack message after an action. */
  requestUpdate: (incidentId: string) => Promise<void>;
  incidentUrl?: (incidentId: string) => string;
}

/**
 * The Slack app (buttons, `/guardian`) served on the API's port, when a signing secret is
 * configured; `undefined` otherwise.
 */
export function slackAppFromConfig(
  options: SlackAppFromConfigOptions,
): ReturnType<typeof createSlackApp> | undefined {
  const { config, clock, logger } = options;
  if (!config.slack.signingSecret) return undefined;
  return createSlackApp({
    authorizer: slackAuthorizer(config, clock, logger),
    signingSecret: config.slack.signingSecret,
    store: options.store,
    clock,
    logger,
    requestUpdate: options.requestUpdate,
    ...(options.incidentUrl ? { incidentUrl: options.incidentUrl } : {}),
  });
}

/** Who may act from Slack; warns when anyone may, and refuses user groups without a token. */
function slackAuthorizer(
  config: Pick<GuardianConfig, 'slack'>,
  clock: Clock,
  logger: Logger,
): SlackAuthorizer {
  const { responders, teams, token, apiUrl, groupMembersTtl } = config.slack;
  const groups = responders.filter((id) => id.startsWith('S'));
  if (groups.length > 0 && !token) {
    throw new ConfigError(
      'slack.responders',
      `names user groups (${groups.join(', ')}) but SLACK_BOT_TOKEN is not set: their members cannot be looked up`,
    );
  }
  if (responders.length === 0) {
    logger.warn(
      'slack.responders (SLACK_RESPONDERS) is empty: any member of the workspace can resolve and silence incidents from Slack',
    );
  }
  if (teams.length === 0) {
    logger.warn(
      'slack.teams (SLACK_TEAM_IDS) is empty: requests from any workspace the Slack app is installed in are taken',
    );
  }
  return new SlackAuthorizer({
    responders,
    teams,
    clock,
    logger: logger.child({ component: 'slack-authorization' }),
    groupMembersTtlMs: groupMembersTtl,
    ...(groups.length > 0 && token
      ? { groupMembers: slackGroupMembers({ token, ...(apiUrl ? { apiUrl } : {}), logger }) }
      : {}),
  });
}
