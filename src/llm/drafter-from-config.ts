import type { GuardianConfig } from '../config/schema.ts';
import type { Playbook } from '../playbooks/load.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createAnthropicDrafter } from './anthropic.ts';
import { createBedrockDrafter } from './bedrock.ts';
import type { IncidentDrafter } from './drafter.ts';

/**
 * The configured LLM drafter: Claude on Bedrock when chosen, Anthropic when an API key is
 * configured, none (the template alone) otherwise.
 */
export function drafterFromConfig(
  llm: GuardianConfig['llm'],
  catalogue: readonly Playbook[],
  logger: Logger,
): IncidentDrafter | undefined {
  if (llm.provider === 'bedrock') {
    return createBedrockDrafter({
      region: llm.bedrock.region,
      model: llm.bedrock.model,
      ...(llm.bedrock.endpoint ? { baseURL: llm.bedrock.endpoint } : {}),
      maxTokens: llm.maxTokens,
      timeoutMs: llm.timeout,
      catalogue,
      logger,
    });
  }
  if (!llm.apiKey) return undefined;
  return createAnthropicDrafter({
    apiKey: llm.apiKey,
    ...(llm.baseUrl ? { baseURL: llm.baseUrl } : {}),
    model: llm.model,
    maxTokens: llm.maxTokens,
    timeoutMs: llm.timeout,
    catalogue,
    logger,
  });
}
