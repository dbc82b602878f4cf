import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { guardianStackFromContext } from '../../deploy/stack-from-context.ts';

/** A CloudFormation template, as far as the deploy tests read it. */
export interface Template {
  Parameters?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown }>;
  Outputs?: Record<string, unknown>;
}

/**
 * Synthesises Guardian's stack in this process, as `npm run -s synth:ecs` does, with the CDK
 * context given; with `nag`, cdk-nag's AwsSolutions checks run on it and any unacknowledged
 * finding makes synthesis throw. `extend` adds to the stack before synthesis (tests of the checks).
 */
export function synthGuardian(
  context: Record<string, string> = {},
  options: { nag?: boolean; extend?: (stack: Stack) => void } = {},
): Template {
  const outdir = mkdtempSync(path.join(tmpdir(), 'guardian-cdk-'));
  try {
    const app = new App({ outdir, context });
    const stack = guardianStackFromContext(app);
    options.extend?.(stack);
    if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    const artifact = assembly.getStackArtifact(stack.artifactId);
    return JSON.parse(readFileSync(path.join(outdir, artifact.templateFile), 'utf8')) as Template;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The resources of one type: `[logicalId, properties]`. */
export function resourcesOf(template: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}
