import type Anthropic from '@anthropic-ai/sdk';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  PermissionDeniedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import { NO_USAGE, type TokenUsage } from '../incidents/store.ts';
import { redact } from '../logs/redact.ts';
import type { Playbook } from '../playbooks/load.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { DraftFailure, DraftRequest, DraftResult, IncidentDrafter } from './drafter.ts';
import { DRAFT_TOOL, incidentPrompt, systemPrompt } from './prompt.ts';
import { validateDraft } from './validate.ts';

/** The part of an Anthropic SDK client the drafter uses: `Anthropic` and `AnthropicBedrock` both have it. */
export interface MessagesClient {
  readonly messages: Pick<Anthropic['messages'], 'create'>;
}

export interface MessagesDrafterOptions {
  /** The model id the client sends (an Anthropic model, or a Bedrock model id or inference profile). */
  model: string;
  /** @defaultValue 1024 */
  maxTokens?: number;
  /** Every playbook: the catalogue goes into the cached system prompt. */
  catalogue: readonly Playbook[];
  logger: Logger;
  /**
   * Credentials the client holds (API key, AWS keys, session token): cut out of every failure
   * message, whatever an endpoint or proxy put in its error body.
   */
  secrets: readonly string[];
}

/**
 * The LLM drafter on the Messages API, whoever serves it: one call per draft, the model made to
 * call the `draft_incident_message` tool (`tool_choice: {type: 'tool'}`), its input validated
 * and repaired by {@link validateDraft}. The rules and the playbook catalogue form a stable
 * system prefix marked `cache_control: ephemeral`, so repeated drafts read it from the prompt
 * cache. The client must not retry: a 429, 529, 5xx, timeout, refusal or malformed answer is
 * reported at once and the notifier keeps its template.
 */
export function createMessagesDrafter(
  client: MessagesClient,
  options: MessagesDrafterOptions,
): IncidentDrafter {
  const system = systemPrompt(options.catalogue);
  const log = options.logger.child({ component: 'llm' });
  const secrets = options.secrets.filter((s) => s.length >= 4);

  return {
    model: options.model,
    async draft(request: DraftRequest, signal?: AbortSignal): Promise<DraftResult> {
      const started = Date.now();
      let response: Anthropic.Message;
      try {
        response = await client.messages.create(
          {
            model: options.model,
            max_tokens: options.maxTokens ?? 1024,
            system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }],
            tools: [DRAFT_TOOL],
            tool_choice: { type: 'tool', name: DRAFT_TOOL.name },
            messages: [{ role: 'user', content: incidentPrompt(request) }],
          },
          signal ? { signal } : {},
        );
      } catch (err) {
        const failure = toFailure(err);
        const message = withoutSecrets(failure.message, secrets);
        log.debug({ reason: failure.reason, ms: Date.now() - started }, 'draft call failed');
        return { ok: false, ...failure, message, usage: NO_USAGE };
      }
      const usage = usageOf(response.usage);
      if (response.stop_reason === 'refusal') {
        return { ok: false, reason: 'refusal', message: 'the model declined to draft', usage };
      }
      const call = response.content.find(
        (b): b is Anthropic.ToolUseBlock => b.type === 'tool_use' && b.name === DRAFT_TOOL.name,
      );
      if (!call) {
        return {
          ok: false,
          reason: 'no_tool_use',
          message: `no ${DRAFT_TOOL.name} call (stop_reason ${response.stop_reason})`,
          usage,
        };
      }
      const validated = validateDraft(call.input, {
        incident: request.incident,
        playbookIds: request.playbooks.map((p) => p.playbook.id),
        allowedUrls: request.playbooks.flatMap((p) => p.links.map((l) => l.url)),
      });
      if (!validated.draft) {
        return {
          ok: false,
          reason: 'malformed',
          message: `tool input unusable: ${validated.problem ?? 'unknown'}${response.stop_reason === 'max_tokens' ? ' (cut at max_tokens)' : ''}`,
          usage,
        };
      }
      return { ok: true, draft: validated.draft, usage, model: response.model, repairs: validated.repairs };
    },
  };
}

/** A failure message fit for logs and the timeline: known secrets cut out, then the usual redaction. */
function withoutSecrets(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) out = out.split(s).join('[REDACTED]');
  return redact(out);
}

function usageOf(u: Anthropic.Usage | undefined): TokenUsage {
  return {
    inputTokens: u?.input_tokens ?? 0,
    outputTokens: u?.output_tokens ?? 0,
    cacheCreationInputTokens: u?.cache_creation_input_tokens ?? 0,
    cacheReadInputTokens: u?.cache_read_input_tokens ?? 0,
    calls: 1,
  };
}

/**
 * What the SDK throws, as the reason the template stays (and when to try again). Bedrock's
 * errors come through the same classes by status: 429 ThrottlingException is a RateLimitError
 * (with no `retry-after`), 400 ValidationException a BadRequestError, 403 a PermissionDeniedError,
 * 500/503 InternalServerErrors, 408 ModelTimeoutException an APIError with status 408.
 */
function toFailure(err: unknown): { reason: DraftFailure; message: string; retryAfterMs?: number } {
  const message = err instanceof Error ? err.message.slice(0, 300) : String(err);
  if (err instanceof APIConnectionTimeoutError || err instanceof APIUserAbortError) {
    return { reason: 'timeout', message };
  }
  if (err instanceof RateLimitError) {
    const after = Number(err.headers?.get('retry-after') ?? Number.NaN);
    return {
      reason: 'rate_limited',
      message,
      ...(Number.isFinite(after) ? { retryAfterMs: after * 1000 } : {}),
    };
  }
  // OverloadedError (529) is an InternalServerError: test it first.
  if (err instanceof OverloadedError) return { reason: 'overloaded', message };
  if (err instanceof InternalServerError) return { reason: 'server_error', message };
  if (err instanceof AuthenticationError || err instanceof PermissionDeniedError)
    return { reason: 'auth', message };
  if (err instanceof BadRequestError) return { reason: 'invalid_request', message };
  if (err instanceof APIConnectionError) return { reason: 'connection', message };
  if (err instanceof APIError && err.status === 408) return { reason: 'timeout', message };
  if (err instanceof APIError && err.status === 529) return { reason: 'overloaded', message };
  if (err instanceof APIError && typeof err.status === 'number' && err.status >= 500) {
    return { reason: 'server_error', message };
  }
  if (err instanceof APIError) return { reason: 'invalid_request', message };
  // A timeout signal aborting fetch surfaces as a DOMException / AbortError.
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return { reason: 'timeout', message };
  }
  return { reason: 'connection', message };
}
