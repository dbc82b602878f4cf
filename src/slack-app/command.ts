import { parseDuration } from '../config/duration.ts';
import type { Incident, Severity } from '../core/index.ts';
import { createSilence, endSilence } from '../incidents/actions.ts';
import { checkSilenceMatchers, describeSilence } from '../incidents/silences.ts';
import type { Actor, Delivery } from '../incidents/store.ts';
import { escapeMrkdwn, truncate } from '../notify/block-kit.ts';
import { renderIncidentMessage } from '../notify/template.ts';
import type { CommandOrigin, EphemeralReply, InteractionContext } from './context.ts';

const MAX_SILENCE_MS = 30 * 86_400_000;
const MIN_SILENCE_MS = 60_000;
const LIST_LIMIT = 20;
/** Pages of open incidents `list` looks through for the ones posted in its channel. */
const LIST_PAGES = 5;

const USAGE = [
  '*Guardian*',
  '`/guardian list`: open and acknowledged incidents posted in this channel',
  '`/guardian show <incident id>`: one incident posted in this channel, with its timeline',
  '`/guardian silence <kind|entity> <duration>`: stop posting new incidents of a kind (`spot_interruption`) or touching an entity (`host:10.0.3.17`, `*` globs) for a while (`2h`, `1d`)',
  '`/guardian silences`: active silences',
  '`/guardian unsilence <silence id>`: end a silence',
].join('\n');

const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  low: ':large_yellow_circle:',
  info: ':large_blue_circle:',
};

/**
 * `/guardian <text>` for `actor`, typed in `origin.channelId`: the answer, shown only to them.
 * `silence` and `unsilence` change things: only responders may (see {@link SlackAuthorizer});
 * `list` and `show` reveal only incidents posted in the channel the command is typed in.
 */
export async function handleCommand(
  ctx: InteractionContext,
  text: string,
  actor: Actor,
  origin: CommandOrigin,
): Promise<EphemeralReply> {
  const [sub = 'help', ...args] = text.trim().split(/\s+/).filter(Boolean);
  const refusal = ctx.authorizer?.workspace(origin);
  if (refusal) return { text: refusal };
  switch (sub.toLowerCase()) {
    case 'list':
      return list(ctx, origin.channelId);
    case 'show':
      return show(ctx, args[0], origin.channelId);
    case 'silence':
      return (await notResponder(ctx, origin)) ?? silence(ctx, args, actor);
    case 'silences':
      return silences(ctx);
    case 'unsilence':
      return (await notResponder(ctx, origin)) ?? unsilence(ctx, args[0], actor);
    default:
      return { text: USAGE };
  }
}

async function notResponder(
  ctx: InteractionContext,
  origin: CommandOrigin,
): Promise<EphemeralReply | undefined> {
  const refusal = await ctx.authorizer?.responder(origin);
  return refusal ? { text: refusal } : undefined;
}

/** Whether the delivery says the incident was posted in `channelId` (one not posted yet is in no channel). */
const postedIn = (delivery: Delivery | null | undefined, channelId: string) =>
  Boolean(delivery?.thread?.ts) && delivery?.thread?.channel === channelId;

async function list(ctx: InteractionContext, channelId: string): Promise<EphemeralReply> {
  const pages = await Promise.all(
    (['open', 'acknowledged'] as const).map(async (status) => {
      const found: Incident[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < LIST_PAGES; page++) {
        const result = await ctx.store.list({ status, limit: 100, ...(cursor ? { cursor } : {}) });
        const delivered = await ctx.store.deliveries(result.incidents.map((i) => i.id));
        found.push(...result.incidents.filter((i) => postedIn(delivered.get(i.id), channelId)));
        if (!result.nextCursor) return { found, more: false };
        cursor = result.nextCursor;
      }
      return { found, more: true };
    }),
  );
  const incidents = pages.flatMap((p) => p.found);
  let more = pages.some((p) => p.more);
  incidents.sort((a, b) => b.openedAt - a.openedAt);
  if (incidents.length === 0) return { text: ':white_check_mark: No open incidents in this channel.' };
  const now = ctx.clock.now();
  const lines = incidents.slice(0, LIST_LIMIT).map((i) => listLine(i, now));
  more ||= incidents.length > LIST_LIMIT;
  const text = `*${incidents.length > LIST_LIMIT ? `${LIST_LIMIT}+` : incidents.length} open incidents in this channel*\n${lines.join('\n')}${more ? '\n_…and more_' : ''}`;
  return {
    text: truncate(text, 2900),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, 2900) } }],
  };
}

function listLine(i: Incident, now: number): string {
  const age = Math.max(0, Math.round((now - i.openedAt) / 60_000));
  const ack = i.status === 'acknowledged' ? ' · acknowledged' : '';
  return `${SEVERITY_EMOJI[i.severity]} \`${i.id}\` ${escapeMrkdwn(truncate(i.title, 120))} · ${i.severity} · ${age < 120 ? `${age}m` : `${Math.round(age / 60)}h`} old${ack}`;
}

async function show(
  ctx: InteractionContext,
  id: string | undefined,
  channelId: string,
): Promise<EphemeralReply> {
  if (!id) return { text: 'Usage: `/guardian show <incident id>`' };
  const incident = await ctx.store.get(id);
  // The same answer whether it does not exist or was posted elsewhere: its existence is not told.
  if (!incident || !postedIn(await ctx.store.getDelivery(id), channelId)) {
    return { text: `No incident ${escapeMrkdwn(truncate(id, 100))} in this channel.` };
  }
  const message = renderIncidentMessage(incident, ctx.incidentUrl ? { incidentUrl: ctx.incidentUrl } : {});
  const timeline = await ctx.store.timeline(id, { newest: 8 });
  const lines = timeline.map(
    (e) =>
      `• ${new Date(e.at).toISOString().slice(11, 19)} ${e.type}: ${escapeMrkdwn(truncate(e.text, 200))}${e.actor ? ` (${escapeMrkdwn(e.actor.name ?? e.actor.id)})` : ''}`,
  );
  const blocks = [...message.blocks];
  if (lines.length > 0 && blocks.length < 49) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*Timeline*\n${lines.join('\n')}`, 2900) },
    });
  }
  return { text: message.text, blocks };
}

async function silence(
  ctx: InteractionContext,
  args: readonly string[],
  actor: Actor,
): Promise<EphemeralReply> {
  const [matcher, duration] = args;
  if (!matcher || !duration || args.length !== 2) {
    return {
      text: 'Usage: `/guardian silence <kind|entity> <duration>`, e.g. `/guardian silence spot_interruption 2h`',
    };
  }
  const ms = parseDuration(duration);
  if (ms === undefined || ms < MIN_SILENCE_MS || ms > MAX_SILENCE_MS) {
    return {
      text: `"${escapeMrkdwn(truncate(duration, 40))}" is not a duration between 1m and 30d (e.g. 30m, 2h, 1d).`,
    };
  }
  // Entity keys always have a `kind:` prefix; incident kinds never do.
  const refusal = checkSilenceMatchers(matcher.includes(':') ? { entity: matcher } : { kind: matcher });
  if (refusal) {
    return {
      text: `Not silenced: the ${refusal.field === 'matcher' ? 'matcher' : refusal.field} ${escapeMrkdwn(truncate(refusal.message, 300))}.`,
    };
  }
  const created = await createSilence(ctx.store, { matcher, durationMs: ms, actor, now: ctx.clock.now() });
  return {
    text: `:no_bell: Silenced ${escapeMrkdwn(describeSilence(created))} until ${new Date(created.expiresAt).toISOString()} (\`${created.id}\`). New matching incidents are recorded but not posted.`,
  };
}

/** Silences one `/guardian silences` reply reads, at most. */
const SILENCES_SHOWN = 30;
/** Characters of silence lines in one reply, under Slack's 3,000 for a text block. */
const REPLY_BUDGET = 2_800;

async function silences(ctx: InteractionContext): Promise<EphemeralReply> {
  // One page: what a Slack reply can show, however many silences there are.
  const { silences: active, nextCursor } = await ctx.store.silencesPage(ctx.clock.now(), {
    limit: SILENCES_SHOWN,
  });
  if (active.length === 0) return { text: 'No active silences.' };
  const lines = active.map(
    (s) =>
      `• \`${s.id}\` ${escapeMrkdwn(describeSilence(s))} until ${new Date(s.expiresAt).toISOString()} · by ${escapeMrkdwn(s.createdBy.name ?? s.createdBy.id)}${s.createdBy.via === 'slack' ? ` (<@${s.createdBy.id}>)` : ''}${s.reason ? ` · ${escapeMrkdwn(truncate(s.reason, 200))}` : ''} · ${s.suppressed ?? 0} signals suppressed`,
  );
  // Whole lines only, as many as fit in one reply; the API lists the rest.
  let text = '*Active silences*';
  let shown = 0;
  for (const line of lines) {
    if (text.length + line.length + 1 > REPLY_BUDGET) break;
    text += `\n${line}`;
    shown++;
  }
  if (shown < lines.length || nextCursor) text += '\n…and more: `GET /api/v1/silences` lists them all.';
  return { text };
}

async function unsilence(
  ctx: InteractionContext,
  id: string | undefined,
  actor: Actor,
): Promise<EphemeralReply> {
  if (!id) return { text: 'Usage: `/guardian unsilence <silence id>`' };
  const ended = await endSilence(ctx.store, { silenceId: id, actor, now: ctx.clock.now() });
  if (!ended) return { text: `No silence ${escapeMrkdwn(truncate(id, 100))}.` };
  ctx.logger.info({ silence: id, by: actor.id }, 'silence ended from Slack');
  return { text: `Silence \`${ended.id}\` (${escapeMrkdwn(describeSilence(ended))}) ended.` };
}
