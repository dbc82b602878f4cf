// `npm run -s synth:ecs`: synthesises Guardian's stack offline (no AWS account, no network) and
// prints its CloudFormation template (JSON) to stdout. Context as for cdk: `-c key=value`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { App } from 'aws-cdk-lib';
import { guardianStackFromContext } from './stack-from-context.ts';

const { values } = parseArgs({ options: { context: { type: 'string', short: 'c', multiple: true } } });
const context: Record<string, string> = {};
for (const pair of values.context ?? []) {
  const eq = pair.indexOf('=');
  if (eq <= 0) {
    process.stderr.write(`synth: -c ${pair}: expected key=value\n`);
    process.exit(2);
  }
  context[pair.slice(0, eq)] = pair.slice(eq + 1);
}

const outdir = mkdtempSync(path.join(tmpdir(), 'guardian-cdk-'));
try {
  const app = new App({ outdir, context });
  const stack = guardianStackFromContext(app);
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(stack.artifactId);
  process.stdout.write(readFileSync(path.join(outdir, artifact.templateFile), 'utf8'));
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
