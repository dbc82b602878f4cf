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

/** What a control does for `actor`: a private answer, or null. */
export type Handler = (
  ctx: InteractionContext,
  action: BlockAction,
  actor: Actor,
) => Promise<EphemeralReply | null>;

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

/** The controls on an incident's message, and what each does. */
export interface BlockActionRoute {
  /** The `action_id` the control carries (runbook buttons carry a numbered suffix). */
  readonly actionId: string | RegExp;
  readonly handle: Handler;
  /** Whether it changes something: only responders may use it. */
  readonly acts: boolean;
}

/** Action id → handler: one Bolt action listener each. */
export const BLOCK_ACTION_ROUTES: readonly BlockActionRoute[] = [
  { actionId: ACTION_IDS.acknowledge, handle: lifecycle('acknowledge'), acts: true },
  { actionId: ACTION_IDS.resolve, handle: lifecycle('resolve'), acts: true },
  { actionId: ACTION_IDS.reopen, handle: lifecycle('reopen'), acts: true },
  { actionId: ACTION_IDS.silence, handle: silence, acts: true },
  { actionId: new RegExp(`^${ACTION_IDS.runbook}_`), handle: linkClicked, acts: false },
];

/** Whether one of {@link BLOCK_ACTION_ROUTES} takes `actionId`. */
export function isRoutedAction(actionId: string): boolean {
  return BLOCK_ACTION_ROUTES.some((r) =>
    typeof r.actionId === 'string' ? r.actionId === actionId : r.actionId.test(actionId),
  );
}

/**
 * Answers an action no route takes, rather than ignoring it: a message posted by an older Guardian
 * may carry controls this one no longer has.
 */
export const unknownAction: Handler = async (_ctx, action) => ({
  text: `Guardian does not know the action ${action.action_id.slice(0, 100)}.`,
});

/**
 * Runs `handle` for one block action by `actor`. Returns what to tell them privately, or null when
 * the updated message says it all; a refused action (already resolved, no such incident) is such
 * an answer, not an error.
 */
export async function runBlockAction(
  ctx: InteractionContext,
  handle: Handler,
  action: BlockAction,
  actor: Actor,
): Promise<EphemeralReply | null> {
  try {
    return await handle(ctx, action, actor);
  } catch (err) {
    if (err instanceof ActionRefusedError) return { text: err.message };
    throw err;
  }
}
