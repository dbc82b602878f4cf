import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createMessagesSimulator,
  type MessagesRequest,
  messagesBodyProblem,
  type ScriptedMessage,
} from './anthropic-api.ts';

/** The only `anthropic_version` Bedrock takes for Claude's Messages body. */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** Bedrock's error types and the HTTP status each comes with (Bedrock Runtime API reference). */
const ERROR_STATUS = {
  ValidationException: 400,
  IncompleteSignature: 400,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  MissingAuthenticationTokenException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
} as const;

export type BedrockErrorType = keyof typeof ERROR_STATUS;

/** One answer to `POST /model/{modelId}/invoke`, in the order scripted. */
export type BedrockScriptedReply =
  | ScriptedMessage
  | {
      readonly kind: 'error';
      readonly type: BedrockErrorType;
      /** @defaultValue the type's usual message */
      readonly message?: string;
      /**
       * Put the request's `Authorization` and `X-Amz-Security-Token` into the message, as a
       * careless proxy might: the client must not pass them on.
       */
      readonly echoCredentials?: boolean;
      readonly delayMs?: number;
    };

/** A request as received, whatever was answered. */
export interface RecordedInvokeCall {
  readonly method: string;
  /** The raw path as sent, percent-encoding kept. */
  readonly path: string;
  /** The model id from the path, decoded. */
  readonly modelId: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Null when the body was not JSON. */
  readonly body: (MessagesRequest & { anthropic_version?: string }) | null;
  readonly status: number;
  /** `x-amzn-ErrorType` of an error answer. */
  readonly errorType: string | null;
  readonly response: unknown;
}

export interface BedrockStandInOptions {
  /** The only credentials whose signatures verify. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The region requests must be signed for. @defaultValue 'us-east-1' */
  region?: string;
  /**
   * Model ids served (foundation model ids, inference profiles); another id is a 400
   * ValidationException, as Bedrock answers an id it does not know.
   */
  models: readonly string[];
  /** @defaultValue 1024 */
  minCacheTokens?: number;
  /**
   * The server's wall clock for the signature's 15-minute skew check (SigV4 signs with the
   * caller's wall clock, whatever clock the caller's application runs on).
   * @defaultValue Date.now
   */
  now?: () => number;
}

export interface BedrockStandIn {
  /** `http://127.0.0.1:PORT`: the `baseURL` of `AnthropicBedrock`. */
  readonly url: string;
  readonly calls: RecordedInvokeCall[];
  script(...replies: BedrockScriptedReply[]): void;
  /** Drops unused scripted replies and what is cached. */
  reset(): void;
  /** What answers when nothing is scripted. */
  fallback: BedrockScriptedReply;
  close(): Promise<void>;
}

/** Body fields Bedrock's Claude Messages body takes: the API's, minus `model` and `stream`. */
const ALLOWED_FIELDS = new Set([
  'anthropic_version',
  'anthropic_beta',
  'max_tokens',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'metadata',
  'cache_control',
  'output_config',
  'thinking',
]);

const DEFAULT_MESSAGES: Record<BedrockErrorType, string> = {
  ValidationException: 'Malformed input request, please reformat your input and try again.',
  IncompleteSignature: 'The request signature does not conform to AWS standards.',
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
  UnrecognizedClientException: 'The security token included in the request is invalid.',
  InvalidSignatureException:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
  MissingAuthenticationTokenException: 'Missing Authentication Token',
  ResourceNotFoundException: 'Could not resolve the foundation model from the provided model identifier.',
  ModelTimeoutException: 'Model has timed out in processing the request. Try your request again.',
  ModelErrorException:
    'The system encountered an unexpected error during processing. Try your request again.',
  ThrottlingException: 'Too many tokens, please wait before trying again.',
  InternalServerException:
    'The system encountered an unexpected error during processing. Try your request again.',
  ServiceUnavailableException: 'Bedrock is unable to process your request.',
};

type Answer = {
  status: number;
  body: unknown;
  errorType?: BedrockErrorType;
  headers?: Record<string, string>;
};

/**
 * A local stand-in for Amazon Bedrock Runtime's `InvokeModel` as `@anthropic-ai/bedrock-sdk` uses
 * it for Claude: `POST /model/{modelId}/invoke` (the model id percent-encoded in the path),
 * signed with AWS Signature Version 4 for service `bedrock` — the `Authorization` header's
 * shape, the credential scope (key id, date, region, service), `X-Amz-Date` within 15 minutes,
 * `X-Amz-Security-Token` when the credentials have one, and the signature itself recomputed
 * over the canonical request (so a body changed after signing fails) — and a JSON body that is
 * the Messages body with `anthropic_version: "bedrock-2023-05-31"` and without `model` or
 * `stream`. Answers are the Messages response body with Bedrock's `X-Amzn-Bedrock-*-Token-Count`
 * headers, or Bedrock's errors: `{"message": …}` with `x-amzn-ErrorType` and the status of the
 * type (400 ValidationException, 403 signature and access errors, 408 ModelTimeoutException,
 * 429 ThrottlingException — no `retry-after`, Bedrock sends none — 500, 503, …).
 */
export async function startBedrockStandIn(options: BedrockStandInOptions): Promise<BedrockStandIn> {
  const region = options.region ?? 'us-east-1';
  const now = options.now ?? Date.now;
  const models = new Set(options.models);
  const calls: RecordedInvokeCall[] = [];
  const queue: BedrockScriptedReply[] = [];
  const simulator = createMessagesSimulator({ minCacheTokens: options.minCacheTokens ?? 1024 });
  const state = {
    fallback: { kind: 'error', type: 'InternalServerException' } as BedrockScriptedReply,
  };

  /** SigV4 as Bedrock checks it; undefined when the signature holds. */
  function authProblem(
    req: IncomingMessage,
    rawPath: string,
    rawQuery: string,
    body: Buffer,
  ): Answer | undefined {
    const auth = header(req, 'authorization');
    if (!auth) return error('MissingAuthenticationTokenException');
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!m) {
      return error(
        'IncompleteSignature',
        'Authorization header requires Credential, SignedHeaders and Signature (AWS4-HMAC-SHA256).',
      );
    }
    const [, keyId, shortDate, scopeRegion, service, signedList, signature] = m as unknown as string[];
    if (keyId !== options.credentials.accessKeyId) return error('UnrecognizedClientException');
    const amzDate = header(req, 'x-amz-date') ?? '';
    const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!at) return error('InvalidSignatureException', 'X-Amz-Date header is missing or malformed.');
    const signedAt = Date.UTC(+at[1]!, +at[2]! - 1, +at[3]!, +at[4]!, +at[5]!, +at[6]!);
    if (Math.abs(now() - signedAt) > 15 * 60_000) {
      return error(
        'InvalidSignatureException',
        `Signature expired: ${amzDate} is now earlier or later than the allowed 15 minutes.`,
      );
    }
    if (shortDate !== amzDate.slice(0, 8)) {
      return error(
        'InvalidSignatureException',
        'Credential should be scoped to a valid date (the X-Amz-Date day).',
      );
    }
    if (scopeRegion !== region) {
      return error(
        'InvalidSignatureException',
        `Credential should be scoped to a valid region, not '${scopeRegion}'.`,
      );
    }
    if (service !== 'bedrock') {
      return error('InvalidSignatureException', `Credential should be scoped to correct service: 'bedrock'.`);
    }
    const signed = signedList!.split(';');
    for (const required of ['host', 'x-amz-date']) {
      if (!signed.includes(required)) {
        return error('InvalidSignatureException', `SignedHeaders must include ${required}.`);
      }
    }
    const token = options.credentials.sessionToken;
    if (token !== undefined) {
      if (header(req, 'x-amz-security-token') !== token || !signed.includes('x-amz-security-token')) {
        return error('UnrecognizedClientException');
      }
    }
    const payloadHash = header(req, 'x-amz-content-sha256') ?? sha256Hex(body);
    if (payloadHash !== sha256Hex(body)) {
      return error(
        'InvalidSignatureException',
        'The provided x-amz-content-sha256 header does not match the body.',
      );
    }
    const canonicalHeaders = signed
      .map((name) => `${name}:${(header(req, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
      .join('');
    const canonicalRequest = [
      req.method ?? 'POST',
      canonicalPath(rawPath),
      canonicalQuery(rawQuery),
      canonicalHeaders,
      signedList,
      payloadHash,
    ].join('\n');
    const scope = `${shortDate}/${region}/bedrock/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
    let key: Buffer = hmac(`AWS4${options.credentials.secretAccessKey}`, shortDate!);
    for (const part of [region, 'bedrock', 'aws4_request']) key = hmac(key, part);
    if (hmac(key, stringToSign).toString('hex') !== signature) return error('InvalidSignatureException');
    return undefined;
  }

  function check(
    req: IncomingMessage,
    rawPath: string,
    rawQuery: string,
    raw: Buffer,
  ): Answer | { ok: MessagesRequest; modelId: string } {
    const auth = authProblem(req, rawPath, rawQuery, raw);
    if (auth) return auth;
    const route = /^\/model\/([^/]+)\/invoke$/.exec(rawPath);
    if (!route) return error('ValidationException', `Unknown operation for ${req.method} ${rawPath}`);
    const modelId = safeDecode(route[1]!);
    if (!models.has(modelId))
      return error('ValidationException', 'The provided model identifier is invalid.');
    const type = header(req, 'content-type') ?? '';
    if (!type.startsWith('application/json')) {
      return error(
        'ValidationException',
        `Content type ${type || '(none)'} is not supported; use application/json.`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return error('ValidationException', 'Malformed input request: request body is not valid JSON.');
    }
    if (!isRecord(body))
      return error('ValidationException', 'Malformed input request: expected a JSON object.');
    if (body.anthropic_version !== BEDROCK_ANTHROPIC_VERSION) {
      return error(
        'ValidationException',
        `Malformed input request: #/anthropic_version: ${body.anthropic_version === undefined ? 'required key not found' : `${JSON.stringify(body.anthropic_version)} is not a valid enum value`}, please reformat your input and try again.`,
      );
    }
    if ('model' in body) {
      return error(
        'ValidationException',
        'Malformed input request: #: extraneous key [model] is not permitted, please reformat your input and try again.',
      );
    }
    if ('stream' in body) {
      return error(
        'ValidationException',
        'Malformed input request: #: extraneous key [stream] is not permitted, please reformat your input and try again.',
      );
    }
    const problem = messagesBodyProblem(body, { allowedFields: ALLOWED_FIELDS, requireModel: false });
    if (problem)
      return error(
        'ValidationException',
        `Malformed input request: ${problem}, please reformat your input and try again.`,
      );
    return { ok: body as unknown as MessagesRequest, modelId };
  }

  function reply(
    req: IncomingMessage,
    request: MessagesRequest,
    modelId: string,
    scripted: BedrockScriptedReply,
  ): Answer {
    if (scripted.kind === 'error') {
      let message = scripted.message ?? DEFAULT_MESSAGES[scripted.type];
      if (scripted.echoCredentials) {
        message += ` (request had Authorization: ${header(req, 'authorization')}; X-Amz-Security-Token: ${header(req, 'x-amz-security-token') ?? '-'})`;
      }
      return error(scripted.type, message);
    }
    // Bedrock answers with the model's own name, not the profile or ARN it was invoked by.
    const model = modelId.replace(/^(?:[a-z]{2,6}\.)?anthropic\./, '').replace(/-v\d+(?::\d+)?$/, '');
    const body = simulator.answer(request, model, scripted) as {
      usage: { input_tokens: number; output_tokens: number };
    };
    return {
      status: 200,
      body,
      headers: {
        'x-amzn-bedrock-input-token-count': String(body.usage.input_tokens),
        'x-amzn-bedrock-output-token-count': String(body.usage.output_tokens),
        'x-amzn-bedrock-invocation-latency': String(scripted.delayMs ?? 1),
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const headers: Record<string, string> = {};
    for (const name of [
      'content-type',
      'accept',
      'authorization',
      'x-amz-date',
      'x-amz-security-token',
      'x-amz-content-sha256',
      'anthropic-version',
      'x-api-key',
    ]) {
      const v = header(req, name);
      if (v !== undefined) headers[name] = v;
    }
    let parsed: RecordedInvokeCall['body'] = null;
    try {
      parsed = JSON.parse(raw.toString('utf8')) as RecordedInvokeCall['body'];
    } catch {
      parsed = null;
    }
    const route = /^\/model\/([^/]+)\/invoke$/.exec(rawPath);
    const record = (status: number, answer: Answer | null, response: unknown) =>
      calls.push({
        method: req.method ?? '',
        path: rawPath,
        modelId: route ? safeDecode(route[1]!) : null,
        headers,
        body: parsed,
        status,
        errorType: answer?.errorType ?? null,
        response,
      });

    let answer: Answer;
    if (req.method !== 'POST') {
      answer = {
        status: 404,
        body: { message: `${req.method} ${rawPath} is not an operation` },
        errorType: 'ResourceNotFoundException',
      };
    } else {
      const checked = check(req, rawPath, rawQuery, raw);
      if ('ok' in checked) {
        const scripted = queue.shift() ?? state.fallback;
        if (scripted.delayMs) {
          const closed = await waitOrClose(req, scripted.delayMs);
          if (closed) {
            record(0, null, 'client went away');
            return;
          }
        }
        answer = reply(req, checked.ok, checked.modelId, scripted);
      } else {
        answer = checked;
      }
    }
    record(answer.status, answer, answer.body);
    if (res.destroyed) return;
    res.writeHead(answer.status, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      ...(answer.errorType
        ? { 'x-amzn-errortype': `${answer.errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/` }
        : {}),
      ...answer.headers,
    });
    res.end(JSON.stringify(answer.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(500, {
        'content-type': 'application/json',
        'x-amzn-errortype': 'InternalServerException',
      });
      res.end(JSON.stringify({ message: String(err) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    script: (...replies) => {
      queue.push(...replies);
    },
    reset: () => {
      queue.length = 0;
      simulator.reset();
    },
    get fallback() {
      return state.fallback;
    },
    set fallback(value: BedrockScriptedReply) {
      state.fallback = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function error(type: BedrockErrorType, message?: string): Answer {
  return {
    status: ERROR_STATUS[type],
    body: { message: message ?? DEFAULT_MESSAGES[type] },
    errorType: type,
  };
}

/**
 * SigV4's canonical URI for services other than S3: the path as sent (already percent-encoded),
 * empty and `.` segments dropped, then every byte outside the unreserved set encoded again.
 */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const s of rawPath.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const normalised = `/${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  return uriEscape(normalised).replace(/%2F/g, '/');
}

function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  return [...new URLSearchParams(rawQuery)]
    .map(([k, v]) => `${uriEscape(k)}=${uriEscape(v)}`)
    .sort()
    .join('&');
}

/** RFC 3986 unreserved characters stay; everything else is `%XX`. */
function uriEscape(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Waits `ms`; resolves true early if the client closed the connection meanwhile. */
function waitOrClose(req: IncomingMessage, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      req.socket.off('close', onClose);
      resolve(false);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    req.socket.once('close', onClose);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
