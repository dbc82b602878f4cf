import { parentPort, workerData } from 'node:worker_threads';
import type { AnomalyScorerConfig } from '../../detectors/anomaly/core.ts';
import { NabInputError, type NabTask, scoreNabFile } from './corpus.ts';

/**
 * A worker thread of `runNabCorpusParallel`: scores each file it is sent and answers with the
 * rows scored, or with the error (an unreadable file is reported as such, not as a crash).
 */
export type NabWorkerReply = { readonly rows: number } | { readonly error: string; readonly input: boolean };

const config = (workerData ?? {}) as Partial<AnomalyScorerConfig>;
parentPort?.on('message', (task: NabTask) => {
  try {
    parentPort?.postMessage({ rows: scoreNabFile(task, config) } satisfies NabWorkerReply);
  } catch (err) {
    parentPort?.postMessage({
      error: err instanceof Error ? err.message : String(err),
      input: err instanceof NabInputError,
    } satisfies NabWorkerReply);
  }
});
