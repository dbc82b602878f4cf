import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BEDROCK_ACTIONS,
  INDEX_ACTIONS,
  METRICS_SIDECAR_ACTIONS,
  TABLE_ACTIONS,
  TABLE_MANAGEMENT_ACTIONS,
} from '../../deploy/task-permissions.ts';
import { type AwsCall, awsCallsIn, guardianAwsCalls } from '../support/aws-calls.ts';
import { resourcesOf, synthGuardian, type Template } from '../support/ecs-template.ts';

const root = path.resolve(import.meta.dirname, '../..');

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every IAM statement of the template: `[policy or role id, statement]`. */
function allStatements(template: Template): [string, Statement][] {
  const out: [string, Statement][] = [];
  for (const [id, p] of resourcesOf(template, 'AWS::IAM::Policy')) {
    for (const s of (p.PolicyDocument as { Statement: Statement[] }).Statement) out.push([id, s]);
  }
  for (const [id, r] of resourcesOf(template, 'AWS::IAM::Role')) {
    for (const inline of (r.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []) {
      for (const s of inline.PolicyDocument.Statement) out.push([id, s]);
    }
  }
  return out;
}

/** The statements attached to the role a task definition names under `key` (TaskRoleArn, ExecutionRoleArn). */
function roleStatements(template: Template, key: 'TaskRoleArn' | 'ExecutionRoleArn'): Statement[] {
  const [[, task]] = resourcesOf(template, 'AWS::ECS::TaskDefinition') as [[string, Record<string, unknown>]];
  const roleId = (task[key] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statements: Statement[] = [];
  for (const [, p] of resourcesOf(template, 'AWS::IAM::Policy')) {
    if (!list(p.Roles as unknown[]).some((r) => (r as { Ref?: string }).Ref === roleId)) continue;
    statements.push(...(p.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  const role = template.Resources[roleId]!.Properties!;
  expect(role.ManagedPolicyArns, `${key} has no managed policies`).toBeUndefined();
  expect(role.Policies, `${key} has no inline policies besides the attached ones`).toBeUndefined();
  return statements;
}

/** What a task-role resource is: the table, one of its indexes, Bedrock, the metrics log group. */
function resourceClass(template: Template, resource: unknown): string {
  const [tableId] = resourcesOf(template, 'AWS::DynamoDB::Table')[0]!;
  const text = JSON.stringify(resource);
  const tableArn = JSON.stringify({ 'Fn::GetAtt': [tableId, 'Arn'] });
  if (text === tableArn) return 'table';
  const index = /"\/index\/([^"]+)"/.exec(text)?.[1];
  if (index && text.includes(tableArn)) return `index ${index}`;
  if (text.includes(':bedrock:')) return 'bedrock';
  const group = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0];
  if (group && template.Resources[group]?.Type === 'AWS::Logs::LogGroup') return `log group ${group}`;
  return `unknown ${text}`;
}

describe('the task role allows exactly the AWS calls Guardian makes', () => {
  let template: Template;
  let calls: AwsCall[];
  beforeAll(() => {
    template = synthGuardian();
    calls = guardianAwsCalls(root);
  }, 120_000);

  it('finds the calls in the code (the store and the Bedrock drafter)', () => {
    const actions = new Set(calls.map((c) => c.action));
    expect([...actions].filter((a) => a.startsWith('dynamodb:')).length).toBeGreaterThan(3);
    expect(actions).toContain('bedrock:InvokeModel');
    const get = calls.find((c) => c.action === 'dynamodb:GetItem')!;
    expect(get.file).toBe(path.join('src', 'incidents', 'dynamo-store.ts'));
    expect(get.via).toBe('GetCommand (@aws-sdk/lib-dynamodb)');
  });

  it('grants each call the code makes, and nothing the code does not make', () => {
    const statements = roleStatements(template, 'TaskRoleArn');
    const allowed = new Map<string, Set<string>>();
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const r of list(s.Resource)) {
        const cls = resourceClass(template, r);
        for (const a of list(s.Action)) allowed.set(cls, (allowed.get(cls) ?? new Set()).add(a));
      }
    }
    const management = new Set<string>(TABLE_MANAGEMENT_ACTIONS);
    const [, task] = resourcesOf(template, 'AWS::ECS::TaskDefinition')[0]!;
    const env = (
      task.ContainerDefinitions as { Name: string; Environment?: { Name: string; Value: unknown }[] }[]
    )
      .find((c) => c.Name === 'guardian')!
      .Environment!.find((e) => e.Name === 'GUARDIAN_CREATE_TABLE');
    // The store makes the table-management calls only when it creates its own table.
    expect(env?.Value).toBe('false');

    const indexes = [...allowed.keys()].filter((k) => k.startsWith('index '));
    expect(indexes.length).toBeGreaterThan(0);
    const needed = new Map<string, { call: AwsCall; list: string }[]>();
    const need = (cls: string, call: AwsCall, listName: string) =>
      needed.set(cls, [...(needed.get(cls) ?? []), { call, list: listName }]);
    for (const call of calls) {
      if (call.action.startsWith('dynamodb:')) {
        if (management.has(call.action)) continue;
        need('table', call, 'TABLE_ACTIONS');
        if (call.onIndex) for (const index of indexes) need(index, call, 'INDEX_ACTIONS');
      } else if (call.action.startsWith('bedrock:')) {
        need('bedrock', call, 'BEDROCK_ACTIONS');
      } else {
        need(`a resource of ${call.action.split(':')[0]}`, call, 'a new statement');
      }
    }

    const problems: string[] = [];
    for (const [cls, wanted] of needed) {
      for (const { call, list: listName } of wanted) {
        if (!allowed.get(cls)?.has(call.action)) {
          problems.push(
            `the code sends ${call.action} (${call.via} in ${call.file}) but the task role does not allow it on ${cls}: add '${call.action}' to ${listName} in deploy/task-permissions.ts`,
          );
        }
      }
    }
    for (const [cls, actions] of allowed) {
      if (cls.startsWith('log group ')) continue;
      for (const action of actions) {
        if (!needed.get(cls)?.some((n) => n.call.action === action)) {
          const listName =
            cls === 'table' ? 'TABLE_ACTIONS' : cls === 'bedrock' ? 'BEDROCK_ACTIONS' : 'INDEX_ACTIONS';
          problems.push(
            `the task role allows ${action} on ${cls} but no code sends it: remove '${action}' from ${listName} in deploy/task-permissions.ts`,
          );
        }
      }
    }
    expect([...new Set(problems)]).toEqual([]);
    // Every excluded management call is one the code really makes (the list is not a hiding place).
    for (const action of TABLE_MANAGEMENT_ACTIONS) expect(calls.map((c) => c.action)).toContain(action);
    expect(new Set([...TABLE_ACTIONS, ...INDEX_ACTIONS, ...BEDROCK_ACTIONS]).size).toBeGreaterThan(0);
  });

  it("gives the metrics sidecar its log group's writes only", () => {
    const sidecar = roleStatements(template, 'TaskRoleArn').filter((s) =>
      list(s.Resource).some((r) => resourceClass(template, r).startsWith('log group ')),
    );
    expect(sidecar).toHaveLength(1);
    expect(list(sidecar[0]!.Action).sort()).toEqual([...METRICS_SIDECAR_ACTIONS].sort());
    expect(list(sidecar[0]!.Resource)).toHaveLength(1);
    const group = resourceClass(template, list(sidecar[0]!.Resource)[0]).slice('log group '.length);
    const [, task] = resourcesOf(template, 'AWS::ECS::TaskDefinition')[0]!;
    const metrics = (task.ContainerDefinitions as { Name: string; Environment: { Value: unknown }[] }[]).find(
      (c) => c.Name === 'metrics',
    )!;
    // The collector writes to that group and no other.
    expect(JSON.stringify(metrics.Environment)).toContain(JSON.stringify({ Ref: group }).slice(1, -1));
  });

  it('lets Bedrock be invoked on the configured model only', () => {
    const bedrock = (t: Template) =>
      roleStatements(t, 'TaskRoleArn')
        .filter((s) => list(s.Action).some((a) => a.startsWith('bedrock:')))
        .flatMap((s) => list(s.Resource).map((r) => JSON.stringify(r)));
    const profile = bedrock(template);
    expect(profile.length).toBeGreaterThan(0);
    for (const r of profile) expect(r).toContain('anthropic.claude-haiku-4-5-20251001-v1:0');
    const other = bedrock(synthGuardian({ bedrockModel: 'anthropic.claude-sonnet-4-5-20250929-v1:0' }));
    expect(other).toHaveLength(1);
    expect(other[0]).toContain(':bedrock:');
    expect(other[0]).toContain('::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(() => synthGuardian({ bedrockModel: 'anthropic.*' })).toThrow(
      /bedrockModel: "anthropic\.\*" is not one model/,
    );
  });

  it('has no IAM statement whose action or resource is *, anywhere in the template', () => {
    for (const [id, s] of allStatements(template)) {
      for (const a of list(s.Action)) expect(a, `${id} ${s.Sid ?? ''}`).not.toContain('*');
      for (const r of list(s.Resource)) expect(r, `${id} ${s.Sid ?? ''}`).not.toBe('*');
    }
  });

  it('lets the execution role read the named secrets and nothing else of Secrets Manager', () => {
    const [, task] = resourcesOf(template, 'AWS::ECS::TaskDefinition')[0]!;
    const valueFrom = (task.ContainerDefinitions as { Secrets?: { ValueFrom: unknown }[] }[])
      .flatMap((c) => c.Secrets ?? [])
      .map((s) => JSON.stringify(s.ValueFrom))
      .sort();
    const readable = roleStatements(template, 'ExecutionRoleArn')
      .filter((s) => list(s.Action).some((a) => a.startsWith('secretsmanager:')))
      .flatMap((s) => {
        expect(list(s.Action).sort()).toEqual([
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
        ]);
        return list(s.Resource).map((r) => JSON.stringify(r));
      })
      .sort();
    expect(readable).toEqual(valueFrom);
    const others = roleStatements(template, 'ExecutionRoleArn').flatMap((s) => list(s.Action));
    for (const a of others)
      expect(a).toMatch(
        /^(secretsmanager:(GetSecretValue|DescribeSecret)|logs:(CreateLogStream|PutLogEvents))$/,
      );
  });
});

describe('deriving AWS calls from source', () => {
  it('maps the document client, transactions item by item, and SDK clients to IAM actions', () => {
    const source = `
      import { DeleteCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
      import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
      await doc.send(new DeleteCommand({ TableName, Key }));
      await doc.send(new TransactWriteCommand({ TransactItems: [
        { Put: { TableName, Item } }, { ConditionCheck: { TableName, Key, ConditionExpression } } ] }));
      await runtime.send(new InvokeModelCommand({ modelId }));
    `;
    const actions = awsCallsIn('x.ts', source, { bedrock: false }).map((c) => c.action);
    expect(actions.sort()).toEqual([
      'bedrock:InvokeModel',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:PutItem',
    ]);
  });

  it('ignores imported commands that are never sent, and names what it cannot map', () => {
    expect(
      awsCallsIn('y.ts', "import { ScanCommand } from '@aws-sdk/lib-dynamodb';\nconst t: ScanCommand = x;", {
        bedrock: false,
      }),
    ).toEqual([]);
    expect(() =>
      awsCallsIn(
        'z.ts',
        "import { ListThingsCommand } from '@aws-sdk/client-iot';\nnew ListThingsCommand({});",
        {
          bedrock: false,
        },
      ),
    ).toThrow(/@aws-sdk\/client-iot: add it to SDK_SERVICES/);
  });
});
