import type { SlackBlock } from './channel.ts';

/** Slack's Block Kit limits for messages (docs.slack.dev, Block Kit reference). */
export const BLOCK_KIT = {
  blocksPerMessage: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  blockId: 255,
  actionId: 255,
  /** Not documented per block: messages fail with `msg_blocks_too_long` near 13k characters. */
  messageChars: 12_000,
  /** `text` is truncated by Slack at 40,000 characters; stay well below. */
  fallbackText: 3000,
} as const;

const KNOWN_TYPES = new Set([
  'section',
  'header',
  'context',
  'divider',
  'actions',
  'rich_text',
  'image',
  'markdown',
]);

interface TextObject {
  type?: string;
  text?: unknown;
}

/** The problems Slack would reject `blocks` for; empty when they are valid. */
export function validateBlocks(blocks: readonly unknown[]): string[] {
  const problems: string[] = [];
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  if (blocks.length > BLOCK_KIT.blocksPerMessage)
    problems.push(`${blocks.length} blocks (max ${BLOCK_KIT.blocksPerMessage})`);
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  blocks.forEach((raw, i) => {
    const at = `blocks[${i}]`;
    if (!raw || typeof raw !== 'object') {
      problems.push(`${at} must be an object`);
      return;
    }
    const b = raw as Record<string, unknown>;
    if (typeof b.type !== 'string' || !KNOWN_TYPES.has(b.type))
      problems.push(`${at}.type ${JSON.stringify(b.type)} is not a block type`);
    if (b.block_id !== undefined) {
      const id = String(b.block_id);
      if (id.length > BLOCK_KIT.blockId) problems.push(`${at}.block_id longer than ${BLOCK_KIT.blockId}`);
      if (blockIds.has(id)) problems.push(`${at}.block_id ${id} is not unique`);
      blockIds.add(id);
    }
    switch (b.type) {
      case 'header': {
        const t = b.text as TextObject | undefined;
        if (t?.type !== 'plain_text') problems.push(`${at}.text must be plain_text`);
        checkText(t, 1, BLOCK_KIT.headerText, `${at}.text`, problems);
        break;
      }
      case 'section': {
        if (b.text === undefined && b.fields === undefined) problems.push(`${at} needs text or fields`);
        if (b.text !== undefined)
          checkText(b.text as TextObject, 1, BLOCK_KIT.sectionText, `${at}.text`, problems);
        if (b.fields !== undefined) {
          const fields = b.fields as unknown[];
          if (!Array.isArray(fields) || fields.length > BLOCK_KIT.sectionFields) {
            problems.push(`${at}.fields: at most ${BLOCK_KIT.sectionFields}`);
          } else
            fields.forEach((f, j) =>
              checkText(f as TextObject, 1, BLOCK_KIT.fieldText, `${at}.fields[${j}]`, problems),
            );
        }
        break;
      }
      case 'context': {
        const elements = b.elements as unknown[];
        if (!Array.isArray(elements) || elements.length < 1 || elements.length > BLOCK_KIT.contextElements) {
          problems.push(`${at}.elements: 1 to ${BLOCK_KIT.contextElements}`);
        } else
          elements.forEach((e, j) =>
            checkText(e as TextObject, 1, BLOCK_KIT.sectionText, `${at}.elements[${j}]`, problems),
          );
        break;
      }
      case 'actions': {
        const elements = b.elements as Record<string, unknown>[];
        if (!Array.isArray(elements) || elements.length < 1 || elements.length > BLOCK_KIT.actionsElements) {
          problems.push(`${at}.elements: 1 to ${BLOCK_KIT.actionsElements}`);
          break;
        }
        elements.forEach((e, j) => {
          const where = `${at}.elements[${j}]`;
          if (e.type === 'button') {
            checkText(e.text as TextObject, 1, BLOCK_KIT.buttonText, `${where}.text`, problems);
            if (typeof e.value === 'string' && e.value.length > BLOCK_KIT.buttonValue)
              problems.push(`${where}.value too long`);
            if (typeof e.url === 'string' && e.url.length > BLOCK_KIT.buttonUrl)
              problems.push(`${where}.url too long`);
          }
          if (e.action_id !== undefined) {
            const id = String(e.action_id);
            if (id.length > BLOCK_KIT.actionId)
              problems.push(`${where}.action_id longer than ${BLOCK_KIT.actionId}`);
            if (actionIds.has(id)) problems.push(`${where}.action_id ${id} is not unique`);
            actionIds.add(id);
          }
        });
        break;
      }
      default:
        break;
    }
  });
  const total = JSON.stringify(blocks).length;
  if (total > BLOCK_KIT.messageChars + 2000)
    problems.push(`blocks total ${total} characters (msg_blocks_too_long)`);
  return problems;
}

function checkText(
  t: TextObject | undefined,
  min: number,
  max: number,
  at: string,
  problems: string[],
): void {
  if (!t || typeof t !== 'object' || (t.type !== 'plain_text' && t.type !== 'mrkdwn')) {
    problems.push(`${at} must be a plain_text or mrkdwn text object`);
    return;
  }
  if (typeof t.text !== 'string' || t.text.length < min || t.text.length > max) {
    problems.push(`${at}.text must be ${min} to ${max} characters`);
  }
}

/** Cuts `text` to `max` characters, marking the cut with `…`. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

export type { SlackBlock };
