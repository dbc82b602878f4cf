import { parseDuration } from '../config/duration.ts';
import {
  ActionRefusedError,
  applyLifecycleAction,
  type LifecycleAction,
  silenceIncident,
} from '../incidents/actions.ts';
import { describeSilence } from '../incidents/silences.ts';
import type { Actor } from '../incidents/store.ts';
import { ACTION_IDS } from '../notify/template.ts';
import type { EphemeralReply, InteractionContext } from './context.ts';

/** One element of a `block_actions` payload's `actions`. */
export interface BlockAction {
  readonly action_id: string;
  readonly block_id?: string;
  readonly value?: string;
  readonly selected_option?: { readonly value?: string };
  readonly type?: string;
}

type Handler = (ctx: InteractionContext, action: BlockAction, actor: Actor) => Promise<EphemeralReply | null>;

const lifecycle =
  (kind: LifecycleAction): Handler =>
  async (ctx, action, actor) => {
    const incidentId = action.value ?? '';
    const outcome = await applyLifecycleAction(ctx.store, {
      incidentId,
      action: kind,
      actor,
      now: ctx.clock.now(),
    });
    // Always refresh the message: a double click finds it already up to date, and that is cheap.
    await ctx.requestUpdate(incidentId);
    return outcome.changed ? null : { text: `Nothing to do: ${outcome.message}.` };
  };

const silence: Handler = async (ctx, action, actor) => {
  const [incidentId = '', duration = ''] = (action.selected_option?.value ?? '').split('|');
  const durationMs = parseDuration(duration);
  if (!incidentId || durationMs === undefined || durationMs <= 0) {
    return { text: `That silence option is not one Guardian offers (${duration || 'empty'}).` };
  }
  const { silence: created } = await silenceIncident(ctx.store, {
    incidentId,
    durationMs,
    actor,
    now: ctx.clock.now(),
  });
  await ctx.requestUpdate(incidentId);
  return {
    text: `Silenced ${describeSilence(created)} until ${new Date(created.expiresAt).toISOString()}: new matching incidents are recorded, not posted. Undo with \`/guardian unsilence ${created.id}\`.`,
  };
};

/** Runbook buttons are links: Slack still tells the app about the click; there is nothing to do. */
const linkClicked: Handler = async () => null;

/** Action id → handler. Runbook buttons carry a numbered suffix. */
const ROUTES: ReadonlyMap<string, Handler> = new Map([
  [ACTION_IDS.acknowledge, lifecycle('acknowledge')],
  [ACTION_IDS.resolve, lifecycle('resolve')],
  [ACTION_IDS.reopen, lifecycle('reopen')],
  [ACTION_IDS.silence, silence],
]);

/**
 * Runs one block action for `actor`. Returns what to tell them privately, or null when the
 * updated message says it all. Unknown action ids are answered, not thrown: a message posted by
 * an older Guardian may carry buttons this one no longer has.
 */
export async function handleBlockAction(
  ctx: InteractionContext,
  action: BlockAction,
  actor: Actor,
): Promise<EphemeralReply | null> {
  const handler =
    ROUTES.get(action.action_id) ??
    (action.action_id.startsWith(`${ACTION_IDS.runbook}_`) ? linkClicked : undefined);
  if (!handler) return { text: `Guardian does not know the action ${action.action_id.slice(0, 100)}.` };
  try {
    return await handler(ctx, action, actor);
  } catch (err) {
    if (err instanceof ActionRefusedError) return { text: err.message };
    throw err;
  }
}
