import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { GuardianConfig } from '../config/schema.ts';
import { blocksAsText } from '../notify/as-text.ts';
import type { OutboxMessage } from '../notify/channels/log.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { type IncidentsExport, type ReplayOptions, replay } from './runner.ts';
import { loadScenario, type Scenario, ScenarioError } from './scenario.ts';

/** The scorer lives beside the project, in `../shared/scenarios/`. */
const SCORER = path.resolve(import.meta.dirname, '../../../shared/scenarios/score.py');
export const DEMO_SCENARIO = path.resolve(import.meta.dirname, '../demo/nightly-spot-loss.json');

export interface ReplayArgs {
  out?: string | undefined;
  dir?: string | undefined;
  'out-dir'?: string | undefined;
  score?: boolean | undefined;
}

/** `guardian replay FILE --out EXPORT` and `guardian replay --dir DIR --out-dir DIR [--score]`. */
export async function replayCommand(file: string | undefined, args: ReplayArgs): Promise<number> {
  const jobs: { scenario: string; out: string }[] = [];
  if (args.dir) {
    if (!args['out-dir']) return usage('replay --dir needs --out-dir');
    let names: string[];
    try {
      names = readdirSync(args.dir).filter((n) => n.endsWith('.json'));
    } catch (err) {
      return usage(`cannot read ${args.dir}: ${(err as Error).message}`);
    }
    mkdirSync(args['out-dir'], { recursive: true });
    for (const f of names.sort())
      jobs.push({ scenario: path.join(args.dir, f), out: path.join(args['out-dir'], f) });
  } else {
    if (!file || !args.out) return usage('replay needs a scenario file and --out EXPORT.json');
    jobs.push({ scenario: file, out: args.out });
  }
  // Validate every scenario before replaying any: a broken file fails fast.
  const scenarios: Scenario[] = [];
  for (const job of jobs) {
    const scenario = load(job.scenario);
    if (!scenario) return 2;
    scenarios.push(scenario);
  }
  // The correlation settings of the environment apply, and the detection and notify settings
  // that are parameters (leave-one-mode-out replays with each choice).
  let correlation: GuardianConfig['correlation'];
  let logStreamHistory: number;
  let notify: GuardianConfig['notify'];
  try {
    const fromEnv = loadConfig({ env: process.env });
    correlation = fromEnv.correlation;
    logStreamHistory = fromEnv.detection.logStreamHistory;
    notify = fromEnv.notify;
  } catch (err) {
    return usage((err as Error).message);
  }
  for (const [i, job] of jobs.entries()) {
    const scenario = scenarios[i]!;
    const exported = await replay(scenario, {
      logger: silentLogger(),
      config: { correlation, detection: { logStreamHistory }, notify },
      ...progress(scenario),
    });
    writeFileSync(job.out, `${JSON.stringify(exported, null, 2)}\n`);
    process.stdout.write(`${scenario.name}: ${exported.incidents.length} incidents → ${job.out}\n`);
  }
  if (args.score) {
    const scorerArgs = args.dir ? ['--dir', args.dir, '--exports', args['out-dir']!] : [file!, args.out!];
    const r = spawnSync('python3', [SCORER, ...scorerArgs], { stdio: 'inherit' });
    if (r.error) process.stderr.write(`guardian: could not run the scorer (${SCORER}): ${r.error.message}\n`);
    else if (r.status !== 0) process.stderr.write(`guardian: the scorer exited with status ${r.status}\n`);
  }
  return 0;
}

export interface DemoArgs {
  /** A guardian-scenario/1 night to replay instead of the shipped one. */
  scenario?: string | undefined;
  port?: string | undefined;
  /** Print and exit instead of keeping the API up (tests, CI). */
  exit?: boolean | undefined;
}

/**
 * `guardian demo`: replays the shipped scenario (a spot worker reclaimed mid-batch), or the night
 * `--scenario` names, prints the Slack messages Guardian would have posted, and keeps the HTTP
 * API up with the incidents.
 */
export async function demoCommand(args: DemoArgs): Promise<number> {
  const scenario = load(args.scenario ?? DEMO_SCENARIO);
  if (!scenario) return 2;
  const port = args.port === undefined ? 8080 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return usage(`--port: not a port: ${args.port}`);
  const out = process.stdout;
  out.write(`Replaying "${scenario.name}" (${scenario.start} → ${scenario.end}, virtual time)\n`);
  if (scenario.summary) out.write(`${wrap(scenario.summary, 92)}\n\n`);
  await replay(scenario, {
    logger: silentLogger(),
    port,
    ...progress(scenario),
    afterReplay: async ({ url, exported }) => {
      const res = await fetch(`${url}/api/v1/messages?limit=1000`);
      const { messages } = (await res.json()) as { messages: (Omit<OutboxMessage, 'at'> & { at: string })[] };
      out.write(`\nWhat Guardian posted to Slack (${messages.length} messages):\n`);
      for (const m of [...messages].reverse()) {
        const what = {
          post: 'new message',
          reply: 'thread reply',
          update: 'message edited',
          file: 'chart shared in the thread',
        }[m.method];
        out.write(`\n── ${m.at.slice(11, 19)} · ${what} in ${m.channel} ${'─'.repeat(40)}\n`);
        out.write(`${indent(m.blocks.length > 0 ? blocksAsText(m.blocks) : m.text)}\n`);
      }
      out.write(`\n${summary(exported, url)}\n`);
      out.write(
        `\nThe HTTP API is up: ${url}/docs (try GET ${url}/api/v1/incidents)\n` +
          (args.exit ? '' : 'Press Ctrl-C to stop.\n'),
      );
      if (args.exit) return;
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    },
  });
  return 0;
}

function load(file: string): Scenario | undefined {
  try {
    return loadScenario(file);
  } catch (err) {
    if (err instanceof ScenarioError) {
      process.stderr.write(`guardian: invalid scenario: ${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}

/** A progress bar on a terminal (virtual time covered, incidents so far); nothing otherwise. */
function progress(scenario: Scenario): Pick<ReplayOptions, 'onProgress'> {
  if (!process.stderr.isTTY) return {};
  const start = Date.parse(scenario.start);
  const span = Date.parse(scenario.end) - start;
  const width = 30;
  return {
    onProgress: (now, incidents) => {
      const done = Math.round(((now - start) / span) * width);
      const line = `${scenario.name} [${'#'.repeat(done)}${' '.repeat(width - done)}] ${new Date(now).toISOString().slice(11, 19)} · ${incidents} incidents`;
      process.stderr.write(`\r${line}${now >= start + span ? '\n' : ''}`);
    },
  };
}

function summary(exported: IncidentsExport, url?: string): string {
  const lines = [`Incidents (${exported.incidents.length}):`];
  for (const i of exported.incidents) {
    const state = i.resolved_at ? `resolved ${i.resolved_at.slice(11, 19)}` : 'open';
    lines.push(`  ${i.opened_at.slice(11, 19)}  ${i.severity.padEnd(8)} ${i.title}  (${state})`);
    if (i.root_cause) lines.push(`            root cause: ${i.root_cause.kind} on ${i.root_cause.entity}`);
    if (url) lines.push(`            page: ${url}/incidents/${encodeURIComponent(i.id)}`);
  }
  return lines.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.join('\n');
}

function usage(message: string): number {
  process.stderr.write(`guardian: ${message} (guardian --help)\n`);
  return 2;
}
