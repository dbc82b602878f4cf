import type { App } from 'aws-cdk-lib';
import { GuardianStack } from './guardian-stack.ts';

/**
 * Guardian's stack as the CDK context describes it (`cdk deploy -c bedrockModel=… -c
 * secrets=SLACK_BOT_TOKEN,SLACK_SIGNING_SECRET`): in the region `-c region=` names, else the
 * CLI's, else us-east-1; in the account of the CLI's credentials when there are any.
 */
export function guardianStackFromContext(app: App): GuardianStack {
  const text = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === '' ? undefined : String(value);
  };
  const secrets = text('secrets');
  const depth = text('queueDepthAlarm');
  if (depth !== undefined && !/^\d+$/.test(depth)) {
    throw new Error(`context queueDepthAlarm: "${depth}" is not a whole number of jobs`);
  }
  const settingsText = text('settings');
  let settings: Record<string, string> | undefined;
  if (settingsText !== undefined) {
    try {
      settings = JSON.parse(settingsText) as Record<string, string>;
    } catch {
      throw new Error(`context settings: not JSON (expected {"SLACK_CHANNEL":"#alerts", …})`);
    }
    if (!settings || typeof settings !== 'object' || Array.isArray(settings)) {
      throw new Error('context settings: expected a JSON object of setting names and values');
    }
  }
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  // The region is fixed at synthesis: load balancer access logs need the region's log-delivery account.
  const region = text('region') ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1';
  return new GuardianStack(app, text('stackName') ?? 'Guardian', {
    env: { region, ...(account ? { account } : {}) },
    ...(secrets !== undefined
      ? {
          secrets: secrets
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    ...(text('bedrockModel') ? { bedrockModel: text('bedrockModel') } : {}),
    ...(text('bedrockRegion') ? { bedrockRegion: text('bedrockRegion') } : {}),
    ...(text('collectorImage') ? { collectorImage: text('collectorImage') } : {}),
    ...(text('publicUrl') ? { publicUrl: text('publicUrl') } : {}),
    ...(depth ? { queueDepthAlarm: Number(depth) } : {}),
    ...(settings ? { settings } : {}),
    ...(text('vpcCidr') ? { vpcCidr: text('vpcCidr') } : {}),
  });
}
