import { AnthropicBedrock } from '@anthropic-ai/bedrock-sdk';
import type { Playbook } from '../playbooks/load.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { IncidentDrafter } from './drafter.ts';
import { createMessagesDrafter } from './messages-drafter.ts';

/**
 * The `anthropic_version` Bedrock requires in a Claude Messages body. `@anthropic-ai/bedrock-sdk`
 * moves the `anthropic-version` header into the body, and SDK 1.x would send the first-party
 * API's version there: the drafter sets Bedrock's instead.
 */
export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** How Guardian reaches Claude on Amazon Bedrock. */
export interface BedrockDrafterOptions {
  /** The AWS region of the Bedrock Runtime endpoint; requests are signed for it. */
  region: string;
  /**
   * The Bedrock model id or inference profile (`global.anthropic.claude-haiku-4-5-20251001-v1:0`),
   * or an inference profile ARN.
   */
  model: string;
  /**
   * Another endpoint (a VPC endpoint, a stand-in in tests).
   * @defaultValue `https://bedrock-runtime.{region}.amazonaws.com`
   */
  baseURL?: string;
  /**
   * Static credentials (tests). Without them the AWS default chain is used: environment
   * variables, shared config and SSO, web identity, the ECS task role, EC2 instance metadata.
   * Never logged; cut out of failure messages.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** @defaultValue 1024 */
  maxTokens?: number;
  /**
   * Per-request timeout (wall clock).
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
 * The LLM drafter on Claude in Amazon Bedrock, through `@anthropic-ai/bedrock-sdk`: the same
 * Messages request as the Anthropic API's (see {@link createMessagesDrafter}), which the SDK
 * turns into Bedrock Runtime's `InvokeModel` (`POST /model/{modelId}/invoke`, the model out of
 * the body, `anthropic_version` in it) signed with SigV4. Bedrock API keys
 * (`AWS_BEARER_TOKEN_BEDROCK`) are not used: it signs with IAM credentials only. No retries.
 */
export function createBedrockDrafter(options: BedrockDrafterOptions): IncidentDrafter {
  const common = {
    awsRegion: options.region,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    // null, not undefined: the SDK would otherwise read AWS_BEARER_TOKEN_BEDROCK and skip SigV4.
    apiKey: null,
    maxRetries: 0,
    timeout: options.timeoutMs ?? 30_000,
    defaultHeaders: { 'anthropic-version': BEDROCK_ANTHROPIC_VERSION },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  const creds = options.credentials;
  const client = creds
    ? new AnthropicBedrock({
        ...common,
        awsAccessKey: creds.accessKeyId,
        awsSecretKey: creds.secretAccessKey,
        awsSessionToken: creds.sessionToken ?? null,
      })
    : new AnthropicBedrock(common);
  return createMessagesDrafter(client, {
    model: options.model,
    ...(options.maxTokens ? { maxTokens: options.maxTokens } : {}),
    catalogue: options.catalogue,
    logger: options.logger,
    secrets: creds ? [creds.accessKeyId, creds.secretAccessKey, creds.sessionToken ?? ''] : [],
  });
}
