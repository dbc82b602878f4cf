import type { SlackBlock } from './channel.ts';

/**
 * Slack's Block Kit limits for messages (Block Kit reference, docs.slack.dev). Slack rejects a
 * message that breaks any of them with `invalid_blocks`, so the template renders inside them and
 * the Slack stand-in enforces them.
 */
export const BLOCK_KIT = {
  /** Blocks in one message (modals and Home tabs allow 100; messages 50). */
  blocksPerMessage: 50,
  headerText: 150,
  sectionTextMin: 1,
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
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  placeholderText: 150,
  /**
   * Not a documented limit: messages fail with `msg_blocks_too_long` at around 13k characters of
   * blocks even when every block is within its own limits, so we refuse above this.
   */
  messageChars: 12_000,
  /** Slack truncates `text` at 40,000 characters; a notification line needs far fewer. */
  fallbackText: 3000,
} as const;

/** Block types Slack accepts in messages. Anything else is rejected as `invalid_blocks`. */
export const MESSAGE_BLOCK_TYPES: ReadonlySet<string> = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

type Json = Readonly<Record<string, unknown>>;

/**
 * The problems Slack would reject `blocks` for, as human-readable strings naming the path of the
 * offending block (`blocks[3].text: …`); empty when the blocks are valid.
 */
export function validateBlocks(blocks: readonly unknown[]): string[] {
  const problems: string[] = [];
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  if (blocks.length > BLOCK_KIT.blocksPerMessage) {
    problems.push(`${blocks.length} blocks, at most ${BLOCK_KIT.blocksPerMessage} allowed`);
  }
  const blockIds = new Set<string>();
  const actionIds = new Set<string>();
  const checkActionId = (element: Json, at: string) => {
    if (element.action_id === undefined) return;
    const id = String(element.action_id);
    if (id.length > BLOCK_KIT.actionId) problems.push(`${at}.action_id longer than ${BLOCK_KIT.actionId}`);
    if (actionIds.has(id)) problems.push(`${at}.action_id "${id}" is not unique`);
    actionIds.add(id);
  };

  blocks.forEach((raw, i) => {
    const at = `blocks[${i}]`;
    if (!isObject(raw)) {
      problems.push(`${at} must be an object`);
      return;
    }
    if (typeof raw.type !== 'string' || !MESSAGE_BLOCK_TYPES.has(raw.type)) {
      problems.push(`${at}.type ${JSON.stringify(raw.type)} is not a message block type`);
      return;
    }
    if (raw.block_id !== undefined) {
      const id = String(raw.block_id);
      if (id.length > BLOCK_KIT.blockId) problems.push(`${at}.block_id longer than ${BLOCK_KIT.blockId}`);
      if (blockIds.has(id)) problems.push(`${at}.block_id "${id}" is not unique`);
      blockIds.add(id);
    }
    switch (raw.type) {
      case 'header':
        checkText(raw.text, `${at}.text`, 1, BLOCK_KIT.headerText, problems, 'plain_text');
        break;
      case 'section': {
        if (raw.text === undefined && raw.fields === undefined) problems.push(`${at} needs text or fields`);
        if (raw.text !== undefined) {
          checkText(raw.text, `${at}.text`, BLOCK_KIT.sectionTextMin, BLOCK_KIT.sectionText, problems);
        }
        if (raw.fields !== undefined) {
          if (
            !Array.isArray(raw.fields) ||
            raw.fields.length < 1 ||
            raw.fields.length > BLOCK_KIT.sectionFields
          ) {
            problems.push(`${at}.fields must hold 1 to ${BLOCK_KIT.sectionFields} text objects`);
          } else {
            raw.fields.forEach((f: unknown, j) => {
              checkText(f, `${at}.fields[${j}]`, 1, BLOCK_KIT.fieldText, problems);
            });
          }
        }
        if (isObject(raw.accessory)) checkElement(raw.accessory, `${at}.accessory`, problems, checkActionId);
        break;
      }
      case 'context':
        if (!Array.isArray(raw.elements) || raw.elements.length < 1) {
          problems.push(`${at}.elements must not be empty`);
        } else if (raw.elements.length > BLOCK_KIT.contextElements) {
          problems.push(`${at}.elements: ${raw.elements.length}, at most ${BLOCK_KIT.contextElements}`);
        } else {
          raw.elements.forEach((e: unknown, j) => {
            // Context elements are text objects or images; only text has a length to check.
            if (isObject(e) && e.type === 'image') return;
            checkText(e, `${at}.elements[${j}]`, 1, BLOCK_KIT.sectionText, problems);
          });
        }
        break;
      case 'actions':
        if (!Array.isArray(raw.elements) || raw.elements.length < 1) {
          problems.push(`${at}.elements must not be empty`);
        } else if (raw.elements.length > BLOCK_KIT.actionsElements) {
          problems.push(`${at}.elements: ${raw.elements.length}, at most ${BLOCK_KIT.actionsElements}`);
        } else {
          raw.elements.forEach((e: unknown, j) => {
            if (isObject(e)) checkElement(e, `${at}.elements[${j}]`, problems, checkActionId);
            else problems.push(`${at}.elements[${j}] must be an object`);
          });
        }
        break;
      default:
        break;
    }
  });

  const size = blocksSize(blocks);
  if (size > BLOCK_KIT.messageChars) {
    problems.push(`blocks total ${size} characters, at most ${BLOCK_KIT.messageChars} (msg_blocks_too_long)`);
  }
  return problems;
}

/** The size of `blocks` as Slack receives them (their JSON), for the undocumented overall cap. */
export function blocksSize(blocks: readonly unknown[]): number {
  return JSON.stringify(blocks).length;
}

/** Cuts `text` to at most `max` characters, marking a cut with `…`. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // Avoid leaving half of a surrogate pair (an emoji) before the ellipsis.
  let end = Math.max(0, max - 1);
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Escapes the three characters Slack's mrkdwn treats as control characters, so that a log line
 * or an entity key is shown as written rather than parsed as a link or mention.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

function checkElement(
  element: Json,
  at: string,
  problems: string[],
  checkActionId: (e: Json, at: string) => void,
) {
  if (element.type === 'button') {
    checkText(element.text, `${at}.text`, 1, BLOCK_KIT.buttonText, problems, 'plain_text');
    if (typeof element.value === 'string' && element.value.length > BLOCK_KIT.buttonValue) {
      problems.push(`${at}.value longer than ${BLOCK_KIT.buttonValue}`);
    }
    if (typeof element.url === 'string' && element.url.length > BLOCK_KIT.buttonUrl) {
      problems.push(`${at}.url longer than ${BLOCK_KIT.buttonUrl}`);
    }
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
      problems.push(`${at}.style must be primary or danger`);
    }
  }
  if (element.type === 'static_select' || element.type === 'overflow') {
    if (element.type === 'static_select') {
      checkText(
        element.placeholder,
        `${at}.placeholder`,
        1,
        BLOCK_KIT.placeholderText,
        problems,
        'plain_text',
      );
    }
    const max = element.type === 'overflow' ? 5 : BLOCK_KIT.selectOptions;
    if (!Array.isArray(element.options) || element.options.length < 1 || element.options.length > max) {
      problems.push(`${at}.options must hold 1 to ${max} options`);
    } else {
      element.options.forEach((o: unknown, j) => {
        const option = isObject(o) ? o : {};
        checkText(option.text, `${at}.options[${j}].text`, 1, BLOCK_KIT.optionText, problems, 'plain_text');
        if (
          typeof option.value !== 'string' ||
          option.value.length < 1 ||
          option.value.length > BLOCK_KIT.optionValue
        ) {
          problems.push(`${at}.options[${j}].value must have 1 to ${BLOCK_KIT.optionValue} characters`);
        }
      });
    }
  }
  checkActionId(element, at);
}

function checkText(
  value: unknown,
  at: string,
  min: number,
  max: number,
  problems: string[],
  only?: 'plain_text',
): void {
  if (!isObject(value) || (value.type !== 'plain_text' && value.type !== 'mrkdwn')) {
    problems.push(`${at} must be a ${only ?? 'plain_text or mrkdwn'} text object`);
    return;
  }
  if (only && value.type !== only) problems.push(`${at} must be ${only}`);
  if (typeof value.text !== 'string') {
    problems.push(`${at}.text must be a string`);
  } else if (value.text.length < min || value.text.length > max) {
    problems.push(`${at}.text has ${value.text.length} characters, must have ${min} to ${max}`);
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type { SlackBlock };
