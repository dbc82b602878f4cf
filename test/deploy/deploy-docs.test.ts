import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INDEX_ACTIONS, TABLE_ACTIONS, TABLE_MANAGEMENT_ACTIONS } from '../../deploy/task-permissions.ts';
import { SECRET_SETTINGS, SETTING_NAMES } from '../../src/config/load.ts';
import { tableDefinition } from '../../src/incidents/dynamo-table.ts';

const root = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(root, 'docs', 'deploy-ecs.md'), 'utf8');

/** The docs' settings table: setting → its kind cell. */
function settingsTable(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|\s*(.+?)\s*\|$/gm)) rows.set(m[1]!, m[2]!);
  return rows;
}

describe('docs/deploy-ecs.md', () => {
  it('lists every setting Guardian reads, the secret ones as secrets and no other', () => {
    const rows = settingsTable();
    expect([...rows.keys()].sort()).toEqual([...SETTING_NAMES].sort());
    for (const [name, kind] of rows) {
      expect(kind.startsWith('**secret**'), name).toBe((SECRET_SETTINGS as readonly string[]).includes(name));
    }
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
