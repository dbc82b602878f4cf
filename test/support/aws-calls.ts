import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One AWS call the code makes, as the IAM action that authorises it. */
export interface AwsCall {
  /** IAM action, e.g. `dynamodb:PutItem`. */
  action: string;
  /** What in the code sends it, e.g. `PutCommand` (`@aws-sdk/lib-dynamodb`). */
  via: string;
  /** Repository-relative file. */
  file: string;
  /** Whether the call may name a secondary index (a DynamoDB Query with `IndexName`). */
  onIndex: boolean;
}

/** The IAM service prefix of each AWS SDK v3 package whose commands map by name (`XxxCommand` → `Xxx`). */
const SDK_SERVICES: Record<string, string> = {
  'client-dynamodb': 'dynamodb',
  'client-bedrock-runtime': 'bedrock',
  'client-secrets-manager': 'secretsmanager',
  'client-s3': 's3',
  'client-sqs': 'sqs',
  'client-sns': 'sns',
  'client-cloudwatch': 'cloudwatch',
  'client-cloudwatch-logs': 'logs',
};

/** DynamoDB client commands whose IAM action differs from the command's name. */
const DYNAMODB_RENAMED: Record<string, string[]> = {
  // Transactions are authorised item by item: see transactionItemActions.
  TransactGetItems: ['GetItem'],
};

/** The document client's commands (`@aws-sdk/lib-dynamodb`) → DynamoDB's IAM actions. */
const DOCUMENT_CLIENT: Record<string, string[]> = {
  Get: ['GetItem'],
  Put: ['PutItem'],
  Update: ['UpdateItem'],
  Delete: ['DeleteItem'],
  Query: ['Query'],
  Scan: ['Scan'],
  BatchGet: ['BatchGetItem'],
  BatchWrite: ['BatchWriteItem'],
  TransactGet: ['GetItem'],
};

/**
 * The item actions a transaction in `source` needs: DynamoDB has no `TransactWriteItems` IAM
 * action, it checks `PutItem`, `UpdateItem`, `DeleteItem` and `ConditionCheckItem` per item.
 */
function transactionItemActions(source: string): string[] {
  const kinds: Record<string, string> = {
    Put: 'PutItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    ConditionCheck: 'ConditionCheckItem',
  };
  const found = [...source.matchAll(/\b(Put|Update|Delete|ConditionCheck)\s*:\s*\{/g)].map(
    (m) => kinds[m[1]!]!,
  );
  return [...new Set(found)];
}

/** Identifiers a file imports from each module: `{ '@aws-sdk/lib-dynamodb': ['GetCommand', …] }`. */
function imports(source: string): Map<string, string[]> {
  const byModule = new Map<string, string[]>();
  for (const m of source.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
    const names = m[1]!
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n && !n.startsWith('type '))
      .map((n) =>
        n
          .split(/\s+as\s+/)
          .pop()!
          .trim(),
      );
    byModule.set(m[2]!, [...(byModule.get(m[2]!) ?? []), ...names]);
  }
  return byModule;
}

/**
 * The AWS calls one source file makes: every `new XxxCommand(` (and `paginateXxx(`) of an
 * `@aws-sdk/*` package it imports, as IAM actions; and Claude on Bedrock's Messages calls when
 * `bedrock` is set (the drafter takes the Bedrock client without importing its SDK).
 * Throws, naming the package or command, when it does not know the IAM action.
 */
export function awsCallsIn(file: string, source: string, options: { bedrock: boolean }): AwsCall[] {
  const calls: AwsCall[] = [];
  const onIndex = /\bIndexName\b/.test(source);
  for (const [module, names] of imports(source)) {
    const pkg = /^@aws-sdk\/(.+)$/.exec(module)?.[1];
    if (!pkg) continue;
    for (const name of names) {
      const command = /^(\w+)Command$/.exec(name)?.[1];
      const sent =
        command &&
        (new RegExp(`new\\s+${name}\\s*\\(`).test(source) ||
          new RegExp(`\\bpaginate${command}\\s*\\(`).test(source));
      if (!command || !sent) continue;
      let actions: string[];
      if (pkg === 'lib-dynamodb') {
        if (command === 'TransactWrite') actions = transactionItemActions(source);
        else if (DOCUMENT_CLIENT[command]) actions = DOCUMENT_CLIENT[command]!;
        else
          throw new Error(`${file}: no IAM action known for ${name} of ${module}: add it to DOCUMENT_CLIENT`);
        actions = actions.map((a) => `dynamodb:${a}`);
      } else {
        const service = SDK_SERVICES[pkg];
        if (!service) throw new Error(`${file}: no IAM service known for ${module}: add it to SDK_SERVICES`);
        if (service === 'dynamodb' && command === 'TransactWriteItems')
          actions = transactionItemActions(source);
        else if (service === 'dynamodb' && DYNAMODB_RENAMED[command]) actions = DYNAMODB_RENAMED[command]!;
        else if (service === 'bedrock' && /^Converse/.test(command))
          actions = [command === 'ConverseStream' ? 'InvokeModelWithResponseStream' : 'InvokeModel'];
        else actions = [command];
        actions = actions.map((a) => `${service}:${a}`);
      }
      for (const action of actions) {
        calls.push({
          action,
          via: `${name} (${module})`,
          file,
          onIndex: onIndex && action === 'dynamodb:Query',
        });
      }
    }
  }
  if (options.bedrock) {
    // The Anthropic SDK's Messages API, which @anthropic-ai/bedrock-sdk sends as Bedrock Runtime calls.
    const messages: [RegExp, string][] = [
      [/\.messages\.create\s*\(/, 'bedrock:InvokeModel'],
      [
        /\.messages\.stream\s*\(|\.messages\.create\s*\([^)]*\bstream\s*:\s*true\b/,
        'bedrock:InvokeModelWithResponseStream',
      ],
      [/\.messages\.countTokens\s*\(/, 'bedrock:CountTokens'],
    ];
    for (const [pattern, action] of messages) {
      if (pattern.test(source))
        calls.push({ action, via: 'Messages API (@anthropic-ai/bedrock-sdk)', file, onIndex: false });
    }
  }
  return calls;
}

/** Every non-test TypeScript file under `dirs` (repository-relative). */
function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(rel);
    }
  };
  for (const dir of dirs) walk(dir);
  return files.sort();
}

/** The AWS calls Guardian's runtime code (`src/`, `bin/`, `detectors/`) makes. */
export function guardianAwsCalls(root: string): AwsCall[] {
  const files = sourceFiles(root, ['src', 'bin', 'detectors']).map((file) => ({
    file,
    source: readFileSync(path.join(root, file), 'utf8'),
  }));
  const bedrock = files.some(
    (f) => /from '@anthropic-ai\/bedrock-sdk'/.test(f.source) && /new\s+AnthropicBedrock\s*\(/.test(f.source),
  );
  return files.flatMap((f) => awsCallsIn(f.file, f.source, { bedrock }));
}
