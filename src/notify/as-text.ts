import type { SlackBlock } from './channel.ts';

/**
 * Block Kit as a terminal would show it: headers, sections and fields as text, context lines
 * dimmed into brackets, buttons as `[Label]`, links as `label <url>`, and `&lt;` `&gt;` `&amp;`
 * as the characters Slack shows for them. For the demo, the README and the log; Slack itself
 * renders the blocks.
 */
export function blocksAsText(blocks: readonly SlackBlock[]): string {
  const lines: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'header':
        lines.push(`*${plain(block.text)}*`);
        break;
      case 'section': {
        const text = plain(block.text);
        if (text) lines.push(text);
        const fields = Array.isArray(block.fields) ? block.fields.map(plain).filter(Boolean) : [];
        if (fields.length > 0) lines.push(fields.join('   '));
        const accessory = block.accessory as Record<string, unknown> | undefined;
        if (accessory?.type === 'button') lines.push(`[${plain(accessory.text)}]`);
        break;
      }
      case 'context': {
        const parts = Array.isArray(block.elements) ? block.elements.map(plain).filter(Boolean) : [];
        if (parts.length > 0) lines.push(`(${parts.join(' · ')})`);
        break;
      }
      case 'actions': {
        const buttons = Array.isArray(block.elements)
          ? block.elements.map((e) => {
              const el = e as Record<string, unknown>;
              return `[${plain(el.text ?? el.placeholder)}]`;
            })
          : [];
        if (buttons.length > 0) lines.push(buttons.join(' '));
        break;
      }
      case 'divider':
        lines.push('---');
        break;
      case 'rich_text':
        lines.push(plain(block));
        break;
      default:
        break;
    }
  }
  return lines.join('\n');
}

/** The text of a text object (plain_text or mrkdwn), with Slack links turned into `label <url>`. */
function plain(value: unknown): string {
  if (typeof value === 'string') return links(value);
  if (!value || typeof value !== 'object') return '';
  const o = value as Record<string, unknown>;
  if (typeof o.text === 'string') return links(o.text);
  if (Array.isArray(o.elements)) return o.elements.map(plain).join('');
  return '';
}

/** Slack links as `label <url>`, then Slack's three escapes back to the characters they stand for. */
function links(text: string): string {
  return text
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2 <$1>')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
