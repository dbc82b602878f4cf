import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/index.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { createLogChannel } from './log.ts';

const t0 = Date.parse('2026-03-02T02:00:00Z');

describe('log channel', () => {
  it('keeps what it would have sent, oldest first, with increasing Slack-like ts, bounded', async () => {
    const clock = new ManualClock(t0);
    const channel = createLogChannel({ logger: silentLogger(), clock, capacity: 3 });
    expect(channel.kind).toBe('log');
    const post = await channel.post('#a', { text: 'one', blocks: [] });
    expect(post).toEqual({ channel: '#a', ts: '1772416800.000000' });
    const reply = await channel.reply('#a', post.ts, { text: 'two', blocks: [] });
    expect(reply.ts).toBe('1772416800.000001');
    await clock.advanceBy(1500);
    expect(await channel.update('#a', post.ts, { text: 'three', blocks: [{ type: 'divider' }] })).toEqual(
      post,
    );
    const four = await channel.post('#a', { text: 'four', blocks: [] });
    expect(four.ts).toBe('1772416801.500000');
    expect(channel.messages()).toEqual([
      { method: 'reply', channel: '#a', ts: reply.ts, threadTs: post.ts, text: 'two', blocks: [], at: t0 },
      {
        method: 'update',
        channel: '#a',
        ts: post.ts,
        text: 'three',
        blocks: [{ type: 'divider' }],
        at: t0 + 1500,
      },
      { method: 'post', channel: '#a', ts: four.ts, text: 'four', blocks: [], at: t0 + 1500 },
    ]);
  });

  it('finds a thread reply again by its metadata, in its own thread only', async () => {
    const clock = new ManualClock(t0);
    const channel = createLogChannel({ logger: silentLogger(), clock });
    const post = await channel.post('#a', { text: 'post', blocks: [] });
    const other = await channel.post('#a', { text: 'other', blocks: [] });
    const metadata = { event_type: 'guardian_incident_reply', event_payload: { reply_id: 'rpl_1' } };
    const reply = await channel.reply('#a', post.ts, { text: 'reply', blocks: [], metadata });
    await channel.reply('#a', other.ts, { text: 'elsewhere', blocks: [], metadata });
    const query = { eventType: 'guardian_incident_reply', key: 'reply_id', value: 'rpl_1', since: t0 };
    expect(await channel.findReply('#a', post.ts, query)).toEqual(reply);
    expect(await channel.findReply('#a', post.ts, { ...query, value: 'rpl_2' })).toBeNull();
    expect(await channel.findReply('#a', post.ts, { ...query, since: t0 + 1 })).toBeNull();
    expect(await channel.findReply('#b', post.ts, query)).toBeNull();
  });

  it('keeps 1000 messages by default and gives unique ts on a clock that does not move', async () => {
    const channel = createLogChannel({ logger: silentLogger(), clock: new ManualClock(t0) });
    for (let i = 0; i < 1005; i++) await channel.post('#a', { text: `m${i}`, blocks: [] });
    const kept = channel.messages();
    expect(kept).toHaveLength(1000);
    expect(kept[0]!.text).toBe('m5');
    expect(new Set(kept.map((m) => m.ts)).size).toBe(1000);
    // A copy: callers cannot empty the outbox.
    (kept as unknown[]).length = 0;
    expect(channel.messages()).toHaveLength(1000);
  });

  it('logs channel, ts, thread_ts and text of each message', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const channel = createLogChannel({ logger: pino({ level: 'info' }, sink), clock: new ManualClock(t0) });
    const post = await channel.post('#a', { text: '[OPEN] disk full', blocks: [] });
    await channel.reply('#a', post.ts, { text: 'resolved', blocks: [] });
    expect(lines.map((l) => l.slack)).toEqual([
      { method: 'post', channel: '#a', ts: post.ts, text: '[OPEN] disk full' },
      { method: 'reply', channel: '#a', ts: '1772416800.000001', thread_ts: post.ts, text: 'resolved' },
    ]);
  });
});
