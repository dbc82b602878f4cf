import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { EmbeddedDynamo } from '../../../src/incidents/embedded-dynamo.ts';
import { type SlackStandIn, startSlackStandIn } from '../../fakes/slack-api.ts';
import type { TestRedis } from '../../support/redis.ts';
import type { GuardianProcess } from './guardian-process.ts';

/**
 * What one fault test works in: a fresh data folder and a Slack stand-in (made before each test),
 * and the Guardian process, Redis and dynalite the test starts (set them here). After each test
 * Guardian is killed (SIGKILL: nothing it would do on a clean stop may hide a fault), the servers
 * are stopped and the folder is removed.
 */
export interface FaultWorkspace {
  readonly dataDir: string;
  readonly slack: SlackStandIn;
  guardian: GuardianProcess | undefined;
  redis: TestRedis | undefined;
  dynamo: EmbeddedDynamo | undefined;
}

/**
 * Registers the `beforeEach` and `afterEach` of a fault test's workspace (call it inside the
 * `describe`) and returns the workspace, whose fields are the current test's.
 */
export function useFaultWorkspace(slackToken: string): FaultWorkspace {
  let dataDir: string | undefined;
  let slack: SlackStandIn | undefined;
  const ws: FaultWorkspace = {
    get dataDir() {
      if (!dataDir) throw new Error('the fault workspace exists only while a test runs');
      return dataDir;
    },
    get slack() {
      if (!slack) throw new Error('the fault workspace exists only while a test runs');
      return slack;
    },
    guardian: undefined,
    redis: undefined,
    dynamo: undefined,
  };
  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'guardian-faults-'));
    slack = await startSlackStandIn({ token: slackToken });
  });
  afterEach(async () => {
    await ws.guardian?.kill('SIGKILL');
    ws.guardian = undefined;
    await slack?.close();
    slack = undefined;
    await ws.dynamo?.close();
    ws.dynamo = undefined;
    await ws.redis?.stop();
    ws.redis = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });
  return ws;
}
