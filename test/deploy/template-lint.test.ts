import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { aws_ec2 as ec2, type Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthGuardian } from '../support/ecs-template.ts';

const run = promisify(execFile);

/**
 * cfn-lint checks the template may leave out, and why: W3005 is the explicit DependsOn CDK
 * writes from the ECS service to its target groups (the listener rule must exist first), which a
 * Ref already implies for one of them.
 */
const CFN_LINT_IGNORED = ['W3005'];

describe("the ECS stack's template passes the linters", () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'guardian-cfn-lint-'));
    file = path.join(dir, 'guardian.template.json');
    writeFileSync(file, JSON.stringify(synthGuardian()));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('cfn-lint finds no error and no warning', async () => {
    const version = await run('cfn-lint', ['--version']).catch((err: Error) => {
      throw new Error(
        `cfn-lint is not installed (pip install 'cfn-lint==1.51.0', as .ci/run does): ${err.message}`,
      );
    });
    expect(version.stdout).toMatch(/cfn-lint \d+\./);
    const result = await run(
      'cfn-lint',
      ['--format', 'parseable', '--ignore-checks', ...CFN_LINT_IGNORED, '--', file],
      {
        timeout: 120_000,
      },
    ).then(
      (r) => ({ code: 0, out: r.stdout }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({
        code: err.code,
        out: `${err.stdout ?? ''}${err.stderr ?? ''}`,
      }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('cdk-nag (AwsSolutions) has no finding left unacknowledged', () => {
    // Synthesis throws "Validation failed" listing each finding when one is not acknowledged.
    expect(() => synthGuardian({}, { nag: true })).not.toThrow();
  }, 120_000);

  it('cdk-nag does report what the stack does not acknowledge (the check is live)', () => {
    const openDatabase = (stack: Stack) => {
      const vpc = stack.node.findChild('Vpc') as ec2.Vpc;
      const sg = new ec2.SecurityGroup(stack, 'WideOpen', { vpc, description: 'test' });
      sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(5432));
    };
    expect(() => synthGuardian({}, { nag: true, extend: openDatabase })).toThrow(/AwsSolutions-EC23/);
  }, 120_000);
});
