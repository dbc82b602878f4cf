import type { Clock } from '../core/index.ts';
import type { Actor, IncidentStore } from '../incidents/store.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { SlackAuthorizer, SlackRequester } from './responders.ts';

/** What every Slack interaction handler gets. */
export interface InteractionContext {
  readonly store: IncidentStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Asks the notifier to bring the incident's Slack message (and thread) up to date. */
  readonly requestUpdate: (incidentId: string) => Promise<void>;
  /** Link to an incident in Guardian, for replies. */
  readonly incidentUrl?: (id: string) => string;
  /** Who may act, from which workspaces. Without it, anyone who reaches the app may. */
  readonly authorizer?: SlackAuthorizer;
}

/** Where a slash command was typed, and by whom. */
export interface CommandOrigin extends SlackRequester {
  /** The channel it was typed in: `show` and `list` reveal only incidents posted there. */
  readonly channelId: string;
}

/** An ephemeral answer to the person who clicked or typed. */
export interface EphemeralReply {
  readonly text: string;
  readonly blocks?: readonly Record<string, unknown>[];
}

/** The Slack user behind an interaction, as the timeline records them. */
export function slackActor(
  user: { id?: unknown; username?: unknown; name?: unknown } | undefined,
): Actor | undefined {
  if (!user || typeof user.id !== 'string' || !/^[UW][A-Z0-9]{2,30}$/.test(user.id)) return undefined;
  const name =
    typeof user.username === 'string' ? user.username : typeof user.name === 'string' ? user.name : undefined;
  return { id: user.id, ...(name ? { name } : {}), via: 'slack' };
}
