#!/usr/bin/env node
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { loadConfig } from './config/load.ts';
import { printableConfig } from './config/printable.ts';
import { ConfigError, errorMessage } from './core/index.ts';
import type { DemoArgs, ReplayArgs } from './replay/commands.ts';

/** One command: its help and its own options, so `guardian <command> --help` says what it takes. */
interface Command {
  readonly usage: string;
  readonly summary: string;
  /** Options besides `--config` and `--help`. */
  readonly options?: ParseArgsOptionsConfig;
  /** Commands with subcommands of their own parse the rest of the line themselves. */
  readonly raw?: (argv: string[]) => Promise<number>;
  readonly run?: (
    values: Record<string, string | boolean | undefined>,
    positionals: string[],
  ) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    usage: 'guardian serve [--config FILE]',
    summary:
      'Run the service: OTLP receiver, detectors, correlator, notifier, HTTP API.\n' +
      'Embedded defaults: no AWS, no Redis, no Slack needed.',
    run: async (values) => serve(await load(values), configFile(values).file ?? process.env.GUARDIAN_CONFIG),
  },
  config: {
    usage: 'guardian config [--config FILE]',
    summary: 'Print the effective configuration (secrets masked) and exit.',
    run: async (values) => {
      const config = await load(values);
      process.stdout.write(`${printableConfig(config)}\n`);
      return 0;
    },
  },
  replay: {
    usage: 'guardian replay FILE --out EXPORT.json | --dir DIR --out-dir DIR [--score]',
    summary:
      'Play a scenario (guardian-scenario/1) through the real pipeline in virtual time and write\n' +
      'the incidents export; --dir replays a folder; --score runs ../shared/scenarios/score.py.',
    options: {
      out: { type: 'string' },
      dir: { type: 'string' },
      'out-dir': { type: 'string' },
      score: { type: 'boolean' },
    },
    run: async (values, positionals) =>
      (await import('./replay/commands.ts')).replayCommand(positionals[0], values as ReplayArgs),
  },
  demo: {
    usage: 'guardian demo [--scenario FILE] [--port 8080] [--exit]',
    summary:
      'Replay the shipped scenario (a spot worker reclaimed mid-batch), or any night with\n' +
      '--scenario, print the Slack messages Guardian would have posted, and keep the HTTP API\n' +
      'up (--exit: stop after printing).',
    options: { scenario: { type: 'string' }, port: { type: 'string' }, exit: { type: 'boolean' } },
    run: async (values) => (await import('./replay/commands.ts')).demoCommand(values as DemoArgs),
  },
  logs: {
    usage: 'guardian logs templates --in FILE --out PRED.csv',
    summary: 'Mine log templates from one message per line; write LineId,EventTemplate.',
    raw: async (argv) => (await import('./logs/cli.ts')).logsCommand(argv),
  },
  jobs: {
    usage: 'guardian jobs list [--url URL] [--queue Q] | guardian jobs replay QUEUE ID [--url URL]',
    summary: "List a running Guardian's dead letters (jobs that failed for good), or queue one again.",
    raw: async (argv) => (await import('./queue/jobs-cli.ts')).jobsCommand(argv),
  },
  detect: {
    usage: 'guardian detect nab --data DIR --out RESULTS_DIR [--workers N]',
    summary: 'Run the metric anomaly detector over NAB-style CSVs; write anomaly scores.',
    // A benchmark tool: it lives with the benchmarks, which the production image does not carry.
    raw: async (argv) => (await import('../bench/nab/cli.ts')).detectCommand(argv),
  },
  keys: {
    usage:
      'guardian keys create --name NAME --scope read|write|ingest|admin [--expires 90d] [--json] | keys list [--json] | keys revoke ID',
    summary:
      'API keys (Authorization: Bearer <key>): shown once, stored as a salted hash. With none,\n' +
      'only clients on this machine are answered (protected mode; see docs/security.md).',
    raw: async (argv) => (await import('./auth/keys-cli.ts')).keysCommand(argv),
  },
};

const COMMON_OPTIONS: ParseArgsOptionsConfig = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
};

const HELP = `guardian — the first on-call engineer of a lakehouse platform

Usage: guardian <command> [options]      guardian <command> --help

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)}${c.summary.split('\n').join(`\n${' '.repeat(11)}`)}`)
  .join('\n')}

Options:
  -c, --config FILE   YAML config file (or GUARDIAN_CONFIG)
  -h, --help          Show help

Settings: docs/configuration.md (every environment variable, generated from the schema).
`;

/** A command line Guardian cannot take: exit status 2, the problem, and the command's usage. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command)
    throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  if (command.raw) {
    if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) return help(command);
    return command.raw(rest);
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { ...COMMON_OPTIONS, ...command.options },
    });
    // No option is `multiple`, so no value is an array.
    parsed = { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    throw new UsageError(`${name}: ${parseErrorMessage(err)}\n\nUsage: ${command.usage}`);
  }
  if (parsed.values.help) return help(command);
  return command.run!(parsed.values, parsed.positionals);
}

function help(command: Command): number {
  const options = Object.entries({ ...command.options, ...COMMON_OPTIONS })
    .map(([o, spec]) => `  --${o}${spec.type === 'string' ? ' VALUE' : ''}`)
    .join('\n');
  process.stdout.write(`Usage: ${command.usage}\n\n${command.summary}\n\nOptions:\n${options}\n`);
  return 0;
}

/** Node's parser explains how to pass a value starting with '-'; people need the option's name. */
function parseErrorMessage(err: unknown): string {
  const code = (err as { code?: string }).code;
  const message = errorMessage(err);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(message)?.[1];
    return `unknown option ${option ?? message}`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return message.split('.')[0] ?? message;
  return message;
}

function configFile(values: Record<string, string | boolean | undefined>) {
  return typeof values.config === 'string' ? { file: values.config } : {};
}

/**
 * The service's modules (fastify, telemetry, the store) load only for the commands that use them:
 * `logs` and `detect` start fast and small without them.
 */
async function load(
  values: Record<string, string | boolean | undefined>,
): Promise<ReturnType<typeof loadConfig>> {
  return (await import('./config/load.ts')).loadConfig(configFile(values));
}

async function serve(config: ReturnType<typeof loadConfig>, file: string | undefined): Promise<number> {
  const telemetry = (await import('./telemetry/sdk.ts')).startTelemetry();
  const logger = (await import('./telemetry/logger.ts')).createLogger({ level: config.logLevel });
  const { message, ...summary } = (await import('./config/summary.ts')).summariseConfig(
    config,
    file || undefined,
  );
  logger.info(summary, message);
  const guardian = await (await import('./main.ts')).createGuardian(config, { logger });
  let url: string;
  try {
    url = await guardian.listen();
  } catch (err) {
    // Refused to listen (protected mode) or the port is taken: release everything, then say why.
    await guardian.stop();
    await telemetry.shutdown().catch(() => {});
    throw err;
  }
  logger.info(
    {
      url,
      store: config.store.kind,
      queue: config.queue.redisUrl ? 'bullmq' : 'in-process',
      slack: config.slack.token ? 'slack' : 'log',
      telemetry: telemetry.exporting,
    },
    `Guardian is up: OTLP metrics at ${url}/v1/metrics, API docs at ${url}/docs`,
  );
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down: no new input, finishing in-flight work');
      resolve();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  await guardian.stop();
  await telemetry.shutdown().catch(() => {});
  logger.info('stopped');
  // A connection shutdown left behind (a dependency that never answered) must not keep the
  // process alive: exit once the log is written, whatever still holds the event loop.
  setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`guardian: invalid configuration:\n  ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`guardian: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`guardian: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
