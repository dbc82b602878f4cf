import { App, LogLevel, type RespondArguments, type RespondFn } from '@slack/bolt';
import type { FastifyPluginAsync } from 'fastify';
import { errorMessage } from '../core/index.ts';
import {
  BLOCK_ACTION_ROUTES,
  type BlockAction,
  type Handler,
  isRoutedAction,
  runBlockAction,
  unknownAction,
} from './block-actions.ts';
import { boltLogger } from './bolt-logger.ts';
import { handleCommand } from './command.ts';
import { type EphemeralReply, type InteractionContext, slackActor } from './context.ts';
import { FastifyReceiver } from './receiver.ts';

export interface SlackAppOptions extends InteractionContext {
  /** `SLACK_SIGNING_SECRET`: every request must carry its signature. Never logged. */
  signingSecret: string;
  /**
   * How long `/guardian` may work before Slack gets its answer (Slack wants one within 3 s); work
   * still running then finishes in the background and answers through `response_url`.
   * @defaultValue 2500
   */
  ackWithinMs?: number;
  /**
   * Posts to a `response_url` (Bolt's `respond`); tests may record instead. Bolt's Web API client
   * would use it too, but it has no token and makes no call.
   * @defaultValue fetch
   */
  fetch?: typeof fetch;
}

/** The Slack app: a fastify plugin to register, and its background work to wait for. */
export interface SlackApp {
  /** Registers `POST /slack/events`; register it once, at the root or under a prefix. */
  readonly plugin: FastifyPluginAsync;
  /** Resolves once work that outlived its request (answered via `response_url`) has finished. */
  settled(): Promise<void>;
}

/** How long a `response_url` post may take. */
const RESPOND_TIMEOUT_MS = 5000;

/**
 * Guardian's Slack app: a Bolt app (`@slack/bolt`) served as `POST /slack/events` on the service's
 * own HTTP port through {@link FastifyReceiver}, which checks Slack's signature and hands events to
 * Bolt. The Acknowledge / Resolve / Silence / Reopen controls are Bolt action listeners (one per
 * action id, from the routing table in `block-actions.ts`), `/guardian` a command listener.
 *
 * Action listeners acknowledge at once and then do the work; the message itself is updated by the
 * notifier (`requestUpdate`), and a private answer, when there is one, goes through `response_url`.
 * `/guardian` answers in its acknowledgement when it is done within `ackWithinMs`, else it
 * acknowledges with "Working on it…" and answers through `response_url` when done.
 *
 * Bolt has no token: Guardian posts through its notifier, so the app makes no Slack API call,
 * neither at construction (no `auth.test`) nor later; Bolt's log lines go to Guardian's logger,
 * warnings and errors only.
 */
export function createSlackApp(options: SlackAppOptions): SlackApp {
  const ackWithinMs = options.ackWithinMs ?? 2500;
  const post = options.fetch ?? fetch;
  const log = options.logger.child({ component: 'slack-app' });

  const receiver = new FastifyReceiver({
    signingSecret: options.signingSecret,
    clock: options.clock,
    logger: log,
  });
  const bolt = new App({
    receiver,
    // An authorization without a token: listeners get a client that is never used, and nothing
    // calls Slack to verify a token.
    authorize: async () => ({}),
    tokenVerificationEnabled: false,
    // No bot identity is known without auth.test, and Guardian listens to no messages.
    ignoreSelf: false,
    convoStore: false,
    clientOptions: {
      fetch: ((url, init) =>
        post(url, {
          ...init,
          signal: init?.signal ?? AbortSignal.timeout(RESPOND_TIMEOUT_MS),
        })) as typeof fetch,
    },
    logger: boltLogger(log.child({ bolt: true })),
    logLevel: LogLevel.WARN,
  });

  /** A private answer through `response_url`; a refusal from Slack is logged, not thrown. */
  async function answer(respond: RespondFn | undefined, url: unknown, reply: EphemeralReply): Promise<void> {
    if (!respond || typeof url !== 'string' || !/^https?:\/\//.test(url)) return;
    try {
      await respond({ ...ephemeral(reply), replace_original: false });
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'could not answer through response_url');
    }
  }

  const actionListener =
    (handle: Handler, acts: boolean) =>
    async (args: {
      ack: () => Promise<void>;
      action: unknown;
      body: {
        user?: unknown;
        response_url?: unknown;
        team?: { id?: unknown } | null;
        enterprise?: { id?: unknown } | null;
      };
      respond?: RespondFn;
      context: Record<string, unknown>;
    }): Promise<void> => {
      await args.ack();
      const actor = slackActor(args.body.user as Parameters<typeof slackActor>[0]);
      const action = args.action as BlockAction;
      if (!actor || typeof action?.action_id !== 'string') return; // the receiver refused these
      const request = args.context.requestId;
      const requester = {
        userId: actor.id,
        teamId: stringOr(args.body.team?.id) ?? stringOr((args.body.user as { team_id?: unknown }).team_id),
        enterpriseId: stringOr(args.body.enterprise?.id),
      };
      const authorizer = options.authorizer;
      const refusal = authorizer
        ? acts
          ? await authorizer.responder(requester)
          : authorizer.workspace(requester)
        : undefined;
      if (refusal) {
        log.info({ action: action.action_id, user: actor.id, request }, 'Slack action refused');
        await answer(args.respond, args.body.response_url, { text: refusal });
        return;
      }
      try {
        const reply = await runBlockAction(options, handle, action, actor);
        log.info({ action: action.action_id, user: actor.id, request }, 'Slack action handled');
        if (reply) await answer(args.respond, args.body.response_url, reply);
      } catch (err) {
        log.error({ err, action: action.action_id, request }, 'Slack action failed');
        await answer(args.respond, args.body.response_url, {
          text: `Guardian could not do that: ${errorMessage(err).slice(0, 200)}`,
        });
      }
    };

  for (const route of BLOCK_ACTION_ROUTES) {
    bolt.action(
      { type: 'block_actions', action_id: route.actionId },
      actionListener(route.handle, route.acts),
    );
  }
  const unrouted = actionListener(unknownAction, false);
  bolt.action({ type: 'block_actions', action_id: /.*/ }, async (args) => {
    if (!isRoutedAction(args.action.action_id)) await unrouted(args);
  });

  bolt.command('/guardian', async ({ ack, command, respond, context }) => {
    const actor = slackActor({ id: command.user_id, username: command.user_name });
    if (!actor) return ack(); // the receiver refused it already
    const origin = {
      userId: actor.id,
      teamId: command.team_id,
      enterpriseId: command.enterprise_id,
      channelId: command.channel_id,
    };
    const work = handleCommand(options, command.text ?? '', actor, origin).catch((err: unknown) => {
      log.error({ err, command: command.command, request: context.requestId }, 'Slack command failed');
      return { text: `Guardian could not do that: ${errorMessage(err).slice(0, 200)}` } as EphemeralReply;
    });
    const result = await withinDeadline(work, ackWithinMs);
    if (result.done) {
      await ack(ephemeral(result.value));
      return;
    }
    await ack({ response_type: 'ephemeral', text: 'Working on it…' });
    await answer(respond, command.response_url, await work);
  });

  bolt.error(async (err) => {
    log.error({ err: errorMessage(err) }, 'Slack app error');
  });

  return { plugin: receiver.plugin, settled: () => receiver.settled() };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/** A command's answer as its acknowledgement: shown only to who typed it. */
function ephemeral(reply: EphemeralReply): RespondArguments {
  return { response_type: 'ephemeral', ...reply } as RespondArguments;
}

/** Waits up to `ms` for `work`; if it is not done by then, it goes on. */
async function withinDeadline<T>(
  work: Promise<T>,
  ms: number,
): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  const result = await Promise.race([work.then((value) => ({ done: true as const, value })), late]);
  clearTimeout(timer);
  return result;
}
