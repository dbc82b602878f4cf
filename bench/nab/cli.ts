import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { NabInputError } from './corpus.ts';
import { runNabCorpusParallel } from './parallel.ts';

const USAGE = `Usage: guardian detect nab --data DIR --out RESULTS_DIR [--workers N]

  Runs Guardian's metric anomaly scorer over a Numenta Anomaly Benchmark corpus: every
  DIR/<category>/<file>.csv (timestamp,value) is scored in streaming order and written as
  RESULTS_DIR/<category>/<file>.csv (timestamp,value,anomaly_score). Files are spread over
  --workers threads (default: the cores available).
`;

/**
 * `guardian detect …`; `argv` starts after `detect`. Returns the exit code: 0 done, 1 unreadable
 * input, 2 usage error.
 */
export async function detectCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const target = positionals[0];
  if (target !== 'nab')
    return usage(target ? `unknown benchmark "${target}"` : 'missing the benchmark (nab)');
  if (positionals.length > 1) return usage(`unexpected argument "${positionals[1]}"`);
  if (!values.data) return usage('missing --data DIR');
  if (!values.out) return usage('missing --out RESULTS_DIR');
  if (!existsSync(values.data) || !statSync(values.data).isDirectory()) {
    return usage(`--data ${values.data} is not a directory`);
  }
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1)
    return usage(`--workers must be a positive integer, got "${values.workers}"`);
  try {
    const summary = await runNabCorpusParallel(values.data, values.out, workers);
    if (summary.files === 0) return usage(`--data ${values.data} has no <category>/<file>.csv files`);
    process.stdout.write(
      `scored ${summary.rows} rows in ${summary.files} files in ${Math.round(summary.ms)} ms → ${values.out}\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof NabInputError) {
      process.stderr.write(`guardian: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function usage(message: string): number {
  process.stderr.write(`guardian detect: ${message}\n\n${USAGE}`);
  return 2;
}
