#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig } from './config/load.ts';
import { ConfigError, errorMessage } from './core/index.ts';
import { createGuardian } from './main.ts';
import { createLogger } from './telemetry/logger.ts';
import { startTelemetry } from './telemetry/sdk.ts';

const HELP = `guardian — the first on-call engineer of a lakehouse platform

Usage: guardian <command> [options]

Commands:
  serve            Run the service: OTLP receiver, detectors, correlator, notifier, HTTP API.
                   Embedded defaults: no AWS, no Redis, no Slack needed.
  config           Print the effective configuration (secrets masked) and exit.
  replay FILE --out EXPORT.json
                   Play a scenario (guardian-scenario/1) through the real pipeline in virtual
                   time and write the incidents export. --dir DIR --out-dir DIR replays a folder;
                   --score runs ../shared/scenarios/score.py on the result.
  logs templates --in FILE --out PRED.csv
                   Mine log templates from one message per line; write LineId,EventTemplate.
  detect nab --data DIR --out RESULTS_DIR
                   Run the metric anomaly detector over NAB-style CSVs; write anomaly scores.
  demo [--port 8080] Replay the shipped scenario (a spot worker reclaimed mid-batch), print the
                   Slack messages Guardian would have posted, and keep the HTTP API up.
  help             Show this help.

Options:
  -c, --config FILE   YAML config file (or GUARDIAN_CONFIG)
  -h, --help          Show this help

Environment (all optional):
  PORT (8080), HOST (0.0.0.0), GUARDIAN_DATA_DIR (.guardian-data), LOG_LEVEL (info),
  GUARDIAN_STORE (embedded|dynamodb), DYNAMODB_ENDPOINT, AWS_REGION, GUARDIAN_TABLE,
  REDIS_URL, SLACK_BOT_TOKEN, SLACK_API_URL, SLACK_CHANNEL, GUARDIAN_PUBLIC_URL,
  OTEL_EXPORTER_OTLP_ENDPOINT and the other standard OTEL_* variables.
`;

const SECRET_KEYS = /token|secret|password|key/i;

async function main(argv: string[]): Promise<number> {
  // Benchmark commands take their own options: hand them everything after the command.
  if (argv[0] === 'logs') return (await import('./logs/cli.ts')).logsCommand(argv.slice(1));
  if (argv[0] === 'detect') return (await import('./anomaly/nab-cli.ts')).detectCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      out: { type: 'string' },
      dir: { type: 'string' },
      'out-dir': { type: 'string' },
      score: { type: 'boolean' },
      port: { type: 'string' },
      exit: { type: 'boolean' },
    },
  });
  const command = positionals[0] ?? 'help';
  if (values.help || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'replay')
    return (await import('./replay/commands.ts')).replayCommand(positionals[1], values);
  if (command === 'demo') return (await import('./replay/commands.ts')).demoCommand(values);
  const config = loadConfig(values.config ? { file: values.config } : {});
  switch (command) {
    case 'config':
      process.stdout.write(
        `${JSON.stringify(config, (k, v) => (SECRET_KEYS.test(k) && v ? '***' : v), 2)}\n`,
      );
      return 0;
    case 'serve':
      return serve(config);
    default:
      process.stderr.write(`guardian: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

async function serve(config: ReturnType<typeof loadConfig>): Promise<number> {
  const telemetry = startTelemetry();
  const logger = createLogger({ level: config.logLevel });
  const guardian = await createGuardian(config, { logger });
  const url = await guardian.listen();
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
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`guardian: invalid configuration: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    const code = (err as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      process.stderr.write(`guardian: ${errorMessage(err)}\n\n${HELP}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`guardian: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
