import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/index.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { createLogChannel } from './log.ts';

describe('log channel', () => {
  it('keeps what it would have sent, with increasing Slack-like ts, bounded', async () => {
    const clock = new ManualClock(Date.parse('2026-03-02T02:00:00Z'));
    const channel = createLogChannel({ logger: silentLogger(), clock, capacity: 3 });
    const post = await channel.post('#a', { text: 'one', blocks: [] });
    expect(post).toEqual({ channel: '#a', ts: '1772416800.000000' });
    const reply = await channel.reply('#a', post.ts, { text: 'two', blocks: [] });
    expect(Number(reply.ts)).toBeGreaterThan(Number(post.ts));
    expect(await channel.update('#a', post.ts, { text: 'three', blocks: [] })).toEqual(post);
    await channel.post('#a', { text: 'four', blocks: [] });
    expect(channel.messages().map((m) => [m.method, m.text])).toEqual([
      ['reply', 'two'],
      ['update', 'three'],
      ['post', 'four'],
    ]);
    expect(channel.messages()[0]!.threadTs).toBe(post.ts);
  });
});
