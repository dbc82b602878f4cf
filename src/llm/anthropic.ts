import Anthropic from '@anthropic-ai/sdk';
import type { Playbook } from '../playbooks/load.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { IncidentDrafter } from './drafter.ts';
import { createMessagesDrafter } from './messages-drafter.ts';

/** How Guardian reaches the Anthropic Messages API. */
export interface AnthropicDrafterOptions {
  /** `ANTHROPIC_API_KEY`; sent only as the `x-api-key` header, never logged. */
  apiKey: string;
  /**
   * `ANTHROPIC_BASE_URL`; a stand-in's URL in tests.
   * @defaultValue 'https://api.anthropic.com'
   */
  baseURL?: string;
  /** `GUARDIAN_LLM_MODEL` */
  model: string;
  /**
   * Output token limit of one draft.
   * @defaultValue 1024
   */
  maxTokens?: number;
  /**
   * Per-request timeout (wall clock); the notifier's budget is shorter and does not wait for it.
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /** Every playbook: the catalogue goes into the cached system prompt. */
  catalogue: readonly Playbook[];
  logger: Logger;
  /** For tests. */
  fetch?: typeof fetch;
}

/**
 * The LLM drafter on the Anthropic Messages API (see {@link createMessagesDrafter}). No SDK
 * retries: a 429, 529, 5xx, timeout, refusal or malformed answer is reported at once and the
 * notifier keeps its template.
 */
export function createAnthropicDrafter(options: AnthropicDrafterOptions): IncidentDrafter {
  const client = new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    maxRetries: 0,
    timeout: options.timeoutMs ?? 30_000,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return createMessagesDrafter(client, {
    model: options.model,
    ...(options.maxTokens ? { maxTokens: options.maxTokens } : {}),
    catalogue: options.catalogue,
    logger: options.logger,
    secrets: [options.apiKey],
  });
}
