import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with each request now. */
export type ProxyFault =
  /** Forwards to the upstream. */
  | 'none'
  /** Answers as DynamoDB does when a table's throughput is exceeded (HTTP 400, retryable). */
  | 'throttle'
  /** Takes the request and never answers nor closes (a black-holed connection). */
  | 'black-hole';

/** An HTTP proxy in front of a DynamoDB-compatible server that injects faults on demand. */
export interface FaultProxy {
  readonly url: string;
  fault: ProxyFault;
  /** Requests answered with a fault so far. */
  readonly injected: { throttled: number; blackHoled: number };
  /**
   * Runs before a request is forwarded, given its DynamoDB operation (`TransactWriteItems`): a
   * test lands a concurrent write there, between what the client read and what it writes.
   */
  beforeForward?: (operation: string) => Promise<void>;
  /** Given each answer the upstream sent, whole, with its operation: what a test counts (items read). */
  onAnswer?: (operation: string, body: Buffer) => void;
  close(): Promise<void>;
}

/**
 * Starts the proxy on a free loopback port, forwarding to `upstream` (dynalite, moto). Tests set
 * `fault` to throttle or black-hole DynamoDB for a while, then back to `none`.
 */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = {
    url: '',
    fault: 'none',
    injected: { throttled: 0, blackHoled: 0 },
    close: async () => {},
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (proxy.fault === 'black-hole') {
        proxy.injected.blackHoled++;
        return;
      }
      if (proxy.fault === 'throttle') {
        proxy.injected.throttled++;
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            message: 'The level of configured provisioned throughput for the table was exceeded.',
          }),
        );
        return;
      }
      const operation = String(req.headers['x-amz-target'] ?? '').replace(/^.*\./, '');
      void (proxy.beforeForward?.(operation) ?? Promise.resolve()).then(
        () => forward(operation),
        () => forward(operation),
      );
    });
    const forward = (operation: string) => {
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          const onAnswer = proxy.onAnswer;
          if (!onAnswer) {
            up.pipe(res);
            return;
          }
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => {
            body.push(c);
            res.write(c);
          });
          up.on('end', () => {
            onAnswer(operation, Buffer.concat(body));
            res.end();
          });
        },
      );
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end(Buffer.concat(chunks));
    };
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  return proxy;
}
