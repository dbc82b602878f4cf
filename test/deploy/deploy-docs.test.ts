import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STACK_SETTINGS } from '../../deploy/guardian-stack.ts';
import { INDEX_ACTIONS, TABLE_ACTIONS, TABLE_MANAGEMENT_ACTIONS } from '../../deploy/task-permissions.ts';
import { SECRET_SETTINGS } from '../../src/config/settings.ts';
import { tableDefinition } from '../../src/incidents/dynamo-table.ts';

const root = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(root, 'docs', 'deploy-ecs.md'), 'utf8');

/** The settings named in the first column of the table that follows `heading` in the docs. */
function settingsAfter(heading: string): string[] {
  const section = doc.slice(doc.indexOf(heading));
  const table = /\n((?:\|.*\|\n)+)/.exec(section)![1]!;
  return [...table.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!);
}

describe('docs/deploy-ecs.md', () => {
  it('lists the secret settings and the ones the stack decides, exactly', () => {
    expect(settingsAfter('**Secret** settings').sort()).toEqual([...SECRET_SETTINGS].sort());
    expect(settingsAfter('**Stack** settings').sort()).toEqual([...STACK_SETTINGS].sort());
  });

  it("gives the store's own table layout for creating the table by hand", () => {
    const section = doc.slice(doc.indexOf('## Creating the table by hand'));
    const json = /```json\n([\s\S]*?)\n```/.exec(section)![1]!;
    expect(JSON.parse(json)).toEqual({ ...tableDefinition('guardian'), DeletionProtectionEnabled: true });
  });

  it("names the task role's DynamoDB actions for a hand-made setup", () => {
    const section = doc.slice(doc.indexOf('## Creating the table by hand'), doc.indexOf('## Checks in CI'));
    for (const action of [...TABLE_ACTIONS, ...INDEX_ACTIONS, ...TABLE_MANAGEMENT_ACTIONS]) {
      expect(section, action).toContain(action.replace('dynamodb:', ''));
    }
  });
});
