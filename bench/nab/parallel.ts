import { Worker } from 'node:worker_threads';
import type { AnomalyScorerConfig } from '../../detectors/anomaly/core.ts';
import { listNabTasks, NabInputError, type NabRunSummary, type NabTask } from './corpus.ts';
import type { NabWorkerReply } from './worker.ts';

/**
 * Scores every corpus file under `dataDir` into `outDir` like `runNabCorpus`, with the files
 * spread over `workers` threads (largest first, each thread taking the next file when it is
 * done). Files are independent series, so the output is the same as a single thread's. The first
 * failing file stops the run: an unreadable one rejects with `NabInputError`.
 */
export async function runNabCorpusParallel(
  dataDir: string,
  outDir: string,
  workers: number,
  scorer: Partial<AnomalyScorerConfig> = {},
): Promise<NabRunSummary> {
  const started = performance.now();
  const tasks = listNabTasks(dataDir, outDir);
  const queue = [...tasks].sort((a, b) => b.bytes - a.bytes);
  const threads = Math.max(1, Math.min(workers, queue.length));
  let rows = 0;
  const pool: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: queue.length === 0 ? 0 : threads }, async () => {
        const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: scorer });
        pool.push(worker);
        for (let task = queue.shift(); task; task = queue.shift()) {
          const scored = await run(worker, task);
          rows += scored;
        }
      }),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return { files: tasks.length, rows, ms: performance.now() - started };
}

/** Sends one file to a worker; resolves with its rows. */
function run(worker: Worker, task: NabTask): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    const onMessage = (reply: NabWorkerReply) => {
      done();
      if ('rows' in reply) resolve(reply.rows);
      else reject(reply.input ? new NabInputError(reply.error) : new Error(`${task.label}: ${reply.error}`));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage(task);
  });
}
