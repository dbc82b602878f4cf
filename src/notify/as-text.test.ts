import { describe, expect, it } from 'vitest';
import { blocksAsText } from './as-text.ts';

describe('blocksAsText', () => {
  it('shows headers, sections, fields, context, links and buttons as text', () => {
    const text = blocksAsText([
      { type: 'header', text: { type: 'plain_text', text: 'HIGH · Spot worker lost' } },
      { type: 'section', text: { type: 'mrkdwn', text: 'See <https://runbooks/spot|the runbook>' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Status* open' },
          { type: 'mrkdwn', text: '*Severity* high' },
        ],
      },
      { type: 'divider' },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: 'inc_1' },
          { type: 'plain_text', text: '02:21 UTC' },
        ],
      },
      {
        type: 'actions',
        elements: [
          { type: 'button', text: { type: 'plain_text', text: 'Acknowledge' } },
          { type: 'button', text: { type: 'plain_text', text: 'Resolve' } },
          { type: 'static_select', placeholder: { type: 'plain_text', text: 'Silence…' }, options: [] },
        ],
      },
      { type: 'image', image_url: 'x', alt_text: 'ignored' },
    ]);
    expect(text.split('\n')).toEqual([
      '*HIGH · Spot worker lost*',
      'See the runbook <https://runbooks/spot>',
      '*Status* open   *Severity* high',
      '---',
      '(inc_1 · 02:21 UTC)',
      '[Acknowledge] [Resolve] [Silence…]',
    ]);
  });

  it('shows what Slack shows for its escapes, not the escapes', () => {
    const text = blocksAsText([
      { type: 'section', text: { type: 'mrkdwn', text: 'template: ```&lt;*&gt; WARN &amp; done```' } },
    ]);
    expect(text).toBe('template: ```<*> WARN & done```');
  });
});
