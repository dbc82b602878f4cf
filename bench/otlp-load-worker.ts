import { parentPort, workerData } from 'node:worker_threads';

/** Posts one payload over and over with `concurrency` keep-alive requests for `seconds`. */
const { url, payload, seconds, concurrency } = workerData as {
  url: string;
  payload: Uint8Array;
  seconds: number;
  concurrency: number;
};

const deadline = Date.now() + seconds * 1000;
let requests = 0;
let failures = 0;

async function loop() {
  while (Date.now() < deadline) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: payload as unknown as RequestInit['body'],
    });
    await res.arrayBuffer();
    if (res.status === 200) requests++;
    else failures++;
  }
}

const started = Date.now();
await Promise.all(Array.from({ length: concurrency }, loop));
parentPort!.postMessage({ requests, failures, elapsedMs: Date.now() - started });
