import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  TransactionCanceledException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { crashPoint } from '../core/crash-point.ts';
import type {
  EntityKey,
  Evidence,
  Impact,
  Incident,
  IncidentSignal,
  NotificationRecord,
  SlackThread,
} from '../core/index.ts';
import { DependencyError, VersionConflictError } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { GSI_ALL, GSI_OPEN, TTL_ATTRIBUTE, tableDefinition } from './dynamo-table.ts';
import {
  type Actor,
  type ApiKeyRecord,
  DELIVERIES_MAX,
  type Delivery,
  FingerprintTakenError,
  type IncidentPage,
  type IncidentStore,
  InvalidCursorError,
  type ListIncidentsQuery,
  NO_USAGE,
  NOTES_MAX,
  type NotificationState,
  type RecordedEvent,
  SENT_MAX,
  SILENCE_PAGE,
  SILENCE_SCAN_PAGES,
  type Silence,
  StaleLeaderError,
  SUPPRESSED_FINGERPRINTS_MAX,
  type TokenUsage,
  type WriteOptions,
} from './store.ts';

export interface DynamoStoreOptions {
  /** Endpoint of a DynamoDB-compatible server (dynalite, moto, DynamoDB Local); AWS's when omitted. */
  endpoint?: string;
  region: string;
  tableName: string;
  /** Static credentials (local servers); the AWS default chain (IAM role) when omitted. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * Create the table (and its indexes) when it is missing, and wait until it is active.
   * @defaultValue false
   */
  createTable?: boolean;
  /**
   * SDK attempts per call (throttling and 5xx are retried with backoff).
   * @defaultValue 4
   */
  maxAttempts?: number;
  /**
   * How long one attempt may take to connect, then to be answered: a black-holed connection
   * (no answer, no reset) fails the attempt instead of stalling the correlator and shutdown.
   * @defaultValue 3000 and 5000
   */
  timeoutsMs?: { connect: number; request: number };
  logger: Logger;
}

/**
 * Caps that keep an incident's item below DynamoDB's 400 KB: at most 200 signals (the most
 * recently seen), 10 evidence entries per signal, 1,000 characters per evidence text, 10 log lines
 * of 500 characters; an impact task list of at most `impactChars` of JSON (the rest counted in
 * `omittedTasks`); entities within `entitiesChars`; and, if the item is still over `itemBudgetChars` of JSON, older signals lose
 * their evidence, then the oldest signals are dropped.
 */
export const ITEM_CAPS = {
  signals: 200,
  evidence: 10,
  text: 1000,
  logLines: 10,
  logLine: 500,
  impactChars: 100_000,
  entitiesChars: 60_000,
  itemBudgetChars: 300_000,
} as const;

const OPEN_PK = 'STATUS#open';
/**
 * How long after a fingerprint claim the incident it names must exist: a create writes its claims,
 * then the incident, within its calls' timeouts (4 attempts of at most 8 s). A claim older than
 * this whose incident does not exist was left by a process that died in between; another incident
 * may take it over.
 */
export const CLAIM_GRACE_MS = 60_000;
const ALL_PK = 'INCIDENTS';
/** Written by this leader or an earlier one (`:fence`): how every fenced write is conditioned. */
const FENCE_CONDITION = '(attribute_not_exists(leaderEpoch) OR leaderEpoch <= :fence)';
const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'type', 'leaderEpoch'] as const;

/**
 * The incident store on DynamoDB, single-table:
 *
 * | item | PK | SK | notes |
 * | --- | --- | --- | --- |
 * | incident | `INCIDENT#<id>` | `META` | GSI1 (`STATUS#open`, sparse: only while not resolved) and GSI2 (`INCIDENTS`), both sorted by `<openedAt>#<id>`; `leaderEpoch`: the epoch of the last leader that wrote it |
 * | leader epoch | `LEADER` | `EPOCH` | `epoch`: the last fencing token given out (`ADD`) |
 * | timeline event | `INCIDENT#<id>` | `EVT#<at ms, 13 digits>#<eventId>` | written once (`attribute_not_exists`) |
 * | note | `INCIDENT#<id>` | `NOTE#<at ms, 13 digits>#<eventId>` | a copy of a timeline event by a person or of what the notifier told (`notes`); `NOTES` marks an incident whose notes are all copied |
 * | fingerprint owner | `FP#<fingerprint>` | `FP` | `{incidentId, open, claimedAt, leaderEpoch}`: which open incident holds a fingerprint, and the epoch of the last leader that claimed or released it |
 * | delivery | `INCIDENT#<id>` | `delivery#post` | the delivery ledger: where the Slack message lives, or its claim; versioned; only the notifier writes it |
 * | sent | `INCIDENT#<id>` | `delivery#sent#<kind>#<ts>` (edits: `…#<at>#<version>`) | the delivery ledger: what was sent, once each |
 * | notification state | `INCIDENT#<id>` | `NOTIFY` | the notifier's memory of the Slack thread; versioned |
 * | silence | `SILENCE` | `<silence id>` | `expiresAt` (ms) and `ttl` (s, a week later, for DynamoDB TTL) |
 * | LLM usage | `LLM_USAGE` | `<hour start, ISO>` | token counters (`ADD`), `ttl` two days later |
 * | API key | `APIKEY` | `<key id>` | name, scope, expiry, revocation, salt and hash (never the key) |
 *
 * Writes are conditional: creating checks the id is new, updating checks the version read is
 * still the stored one, claiming a fingerprint checks no other open incident holds it (a claim
 * whose incident is resolved, or was never written, is taken over: see {@link CLAIM_GRACE_MS}).
 * Fenced writes (incidents and claims) carry the leader epoch and check it. The one transaction
 * is a merge's two incident writes; a server without transactions (dynalite) gets them one after
 * the other, so dynalite serves it as well as DynamoDB.
 */
export function createDynamoIncidentStore(options: DynamoStoreOptions): IncidentStore {
  const client = new DynamoDBClient({
    region: options.region,
    maxAttempts: options.maxAttempts ?? 4,
    requestHandler: {
      connectionTimeout: options.timeoutsMs?.connect ?? 3000,
      requestTimeout: options.timeoutsMs?.request ?? 5000,
      // Without it the SDK only logs a warning and keeps waiting.
      throwOnRequestTimeout: true,
    },
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const table = options.tableName;
  const { logger } = options;

  async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw err;
      throw toDependencyError(operation, err);
    }
  }

  type QueryInput = Omit<QueryCommandInput, 'TableName' | 'ConsistentRead' | 'ExclusiveStartKey'>;

  /** The items of a consistent query on the table, a page (at most `input.Limit` items) at a time. */
  async function* queryPages(input: QueryInput): AsyncGenerator<Record<string, unknown>[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await call('Query', () =>
        doc.send(
          new QueryCommand({
            ...input,
            TableName: table,
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      yield page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** Every item of a consistent query on the table (the first `max`), page after page. */
  async function queryAll(
    input: QueryInput,
    max = Number.POSITIVE_INFINITY,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for await (const page of queryPages(input)) {
      items.push(...page);
      if (items.length >= max) return items.slice(0, max);
    }
    return items;
  }

  async function ensureTable(): Promise<void> {
    try {
      const described = await client.send(new DescribeTableCommand({ TableName: table }));
      if (described.Table?.TableStatus === 'ACTIVE') return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw toDependencyError('DescribeTable', err);
      if (!options.createTable) {
        throw new DependencyError(
          'dynamodb',
          'table_missing',
          `table ${table} does not exist (set GUARDIAN_CREATE_TABLE=true to create it)`,
        );
      }
      await call('CreateTable', () => client.send(new CreateTableCommand(tableDefinition(table)))).catch(
        (e: unknown) => {
          // Another replica created it first.
          if (!(e instanceof DependencyError && e.code === 'ResourceInUseException')) throw e;
        },
      );
      logger.info({ table }, 'created DynamoDB table');
    }
    for (let i = 0; i < 120; i++) {
      const described = await call('DescribeTable', () =>
        client.send(new DescribeTableCommand({ TableName: table })),
      );
      if (described.Table?.TableStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new DependencyError('dynamodb', 'table_not_active', `table ${table} did not become active`);
  }

  async function getItem(id: string): Promise<Record<string, unknown> | undefined> {
    const res = await call('GetItem', () =>
      doc.send(
        new GetCommand({ TableName: table, Key: { PK: incidentPk(id), SK: 'META' }, ConsistentRead: true }),
      ),
    );
    if (res.Item) await migrateDelivery(res.Item);
    return res.Item;
  }

  async function get(id: string): Promise<Incident | null> {
    const item = await getItem(id);
    return item ? fromItem(item) : null;
  }

  /**
   * Incidents written before the delivery ledger carry their delivery inline (`slack`,
   * `notifications`): moves it into the ledger (each write idempotent), then drops it from the
   * incident without changing its version, so no writer of the incident loses a race to it.
   */
  async function migrateDelivery(item: Record<string, unknown>): Promise<void> {
    if (!(LEGACY_SLACK in item) && !(LEGACY_NOTIFICATIONS in item)) return;
    const incidentId = String(item.id);
    const thread = item[LEGACY_SLACK] as SlackThread | null | undefined;
    if (thread) await putOnce(deliveryItem({ incidentId, version: 1, thread }));
    const records = (item[LEGACY_NOTIFICATIONS] as NotificationRecord[] | undefined) ?? [];
    for (const record of records) await recordSent(incidentId, record);
    await doc
      .send(
        new UpdateCommand({
          TableName: table,
          Key: { PK: incidentPk(incidentId), SK: 'META' },
          UpdateExpression: 'REMOVE #slack, #notifications',
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: {
            '#slack': LEGACY_SLACK,
            '#notifications': LEGACY_NOTIFICATIONS,
            '#version': 'version',
          },
          ExpressionAttributeValues: { ':version': item.version },
        }),
      )
      .catch((err: unknown) => {
        // Rewritten meanwhile (without the inline fields, as every write now is): nothing to drop.
        if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('UpdateItem', err);
      });
  }

  /** One item of an incident's partition (its delivery, its notification state), read consistently. */
  async function incidentItem(incidentId: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const res = await call('GetItem', () =>
      doc.send(
        new GetCommand({
          TableName: table,
          Key: { PK: incidentPk(incidentId), SK: sk },
          ConsistentRead: true,
        }),
      ),
    );
    return res.Item;
  }

  async function getDelivery(incidentId: string): Promise<Delivery | null> {
    const item = await incidentItem(incidentId, DELIVERY_SK);
    return item ? fromDeliveryItem(item) : null;
  }

  /**
   * Writes an item of the notifier's that carries its own optimistic lock: at `version` 1 only if
   * there is none yet, else only over `version - 1`; a `VersionConflictError` when it lost a race.
   */
  async function putVersioned(item: Record<string, unknown>, version: number, what: string): Promise<void> {
    const expected = version - 1;
    try {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: item,
          ...(expected === 0
            ? { ConditionExpression: 'attribute_not_exists(PK)' }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expected },
              }),
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('PutItem', err);
      throw new VersionConflictError(`${what} changed since version ${expected} was read`);
    }
  }

  async function recordSent(incidentId: string, record: NotificationRecord): Promise<void> {
    await putOnce({
      PK: incidentPk(incidentId),
      SK: sentSk(record),
      type: 'delivery_sent',
      at: record.at,
      kind: record.kind,
      channel: record.channel,
      ts: record.ts,
      version: record.version,
    });
  }

  /** Writes an item unless one with its key exists (a retried write is a no-op). */
  async function putOnce(item: Record<string, unknown>): Promise<void> {
    try {
      await doc.send(
        new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('PutItem', err);
    }
  }

  async function getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const res = await call('GetItem', () =>
      doc.send(new GetCommand({ TableName: table, Key: { PK: APIKEY_PK, SK: id }, ConsistentRead: true })),
    );
    return res.Item ? fromApiKeyItem(res.Item) : null;
  }

  /** The fingerprint's ownership item: `{incidentId, open}`, or undefined. */
  async function fingerprintOwner(fingerprint: string): Promise<Record<string, unknown> | undefined> {
    const res = await call('GetItem', () =>
      doc.send(
        new GetCommand({ TableName: table, Key: { PK: fpPk(fingerprint), SK: 'FP' }, ConsistentRead: true }),
      ),
    );
    return res.Item;
  }

  /** How a fingerprint is claimed. */
  interface ClaimOptions {
    /** An abandoned claim being taken over: written only if its owner is still this one. */
    previous?: string;
    /** A merge: the claim may be taken from the incident being absorbed. */
    from?: string;
    /** The writer's leader epoch: refused (StaleLeaderError) if the claim was written with a later one. */
    fence?: number;
  }

  /**
   * Claims a fingerprint for an incident: free, released, already its own, held by the incident a
   * merge absorbs (`from`), or abandoned (then taken over, on condition that its owner is still
   * the one found abandoned). With a `fence` the claim carries the leader epoch, and is refused
   * when a later leader wrote it, as incident writes are: a paused leader cannot take a
   * fingerprint that the next leader released or holds.
   */
  async function claim(fingerprint: string, incidentId: string, options: ClaimOptions = {}): Promise<void> {
    const { previous, from, fence } = options;
    const owners = previous
      ? 'incidentId = :previous'
      : `(attribute_not_exists(PK) OR #open = :false OR incidentId = :id${from ? ' OR incidentId = :from' : ''})`;
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { PK: fpPk(fingerprint), SK: 'FP' },
          // An update, not a put: a claim written without a fence keeps the epoch it had.
          UpdateExpression: `SET #type = :type, incidentId = :id, #open = :true, claimedAt = :now${fence === undefined ? '' : ', leaderEpoch = :fence'}`,
          ConditionExpression: fence === undefined ? owners : `${owners} AND ${FENCE_CONDITION}`,
          ExpressionAttributeNames: { '#type': 'type', '#open': 'open' },
          ExpressionAttributeValues: {
            ':type': 'fingerprint',
            ':id': incidentId,
            ':true': true,
            ':now': Date.now(),
            ...(previous ? { ':previous': previous } : { ':false': false }),
            ...(from && !previous ? { ':from': from } : {}),
            ...(fence === undefined ? {} : { ':fence': fence }),
          },
        }),
      );
      if (previous)
        logger.info({ fingerprint, incidentId, previous }, 'took over a claim left by a stopped write');
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('UpdateItem', err);
      const owner = await fingerprintOwner(fingerprint);
      const held = owner?.leaderEpoch;
      if (fence !== undefined && typeof held === 'number' && held > fence)
        throw new StaleLeaderError(`the claim of fingerprint ${fingerprint}`, fence, held);
      const ownerId = String(owner?.incidentId ?? 'unknown');
      if (!previous && owner && (await abandoned(owner)))
        return claim(fingerprint, incidentId, {
          previous: ownerId,
          ...(fence === undefined ? {} : { fence }),
        });
      throw new FingerprintTakenError(fingerprint, ownerId);
    }
  }

  /**
   * A claim no open incident stands behind: its incident is resolved (the process died between
   * resolving it and releasing its claims), or was never written (it died between the claim and
   * the incident) and the claim is older than {@link CLAIM_GRACE_MS}, so that create is over.
   */
  async function abandoned(owner: Record<string, unknown>): Promise<boolean> {
    const incident = await get(String(owner.incidentId));
    if (incident) return incident.status === 'resolved';
    const claimedAt = typeof owner.claimedAt === 'number' ? owner.claimedAt : 0;
    return Date.now() - claimedAt > CLAIM_GRACE_MS;
  }

  async function release(fingerprint: string, incidentId: string, fence?: number): Promise<void> {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { PK: fpPk(fingerprint), SK: 'FP' },
          UpdateExpression: `SET #open = :false${fence === undefined ? '' : ', leaderEpoch = :fence'}`,
          ConditionExpression:
            fence === undefined ? 'incidentId = :id' : `incidentId = :id AND ${FENCE_CONDITION}`,
          ExpressionAttributeNames: { '#open': 'open' },
          ExpressionAttributeValues: {
            ':false': false,
            ':id': incidentId,
            ...(fence === undefined ? {} : { ':fence': fence }),
          },
        }),
      );
    } catch (err) {
      // Held by another incident now (or by a later leader): not ours to release.
      if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('UpdateItem', err);
    }
  }

  /** Claims the fingerprints of `incident`'s signals that `previous` (its stored self) did not hold. */
  async function claimAll(
    incident: Incident,
    previous?: Incident,
    options: ClaimOptions = {},
  ): Promise<void> {
    if (incident.status === 'resolved') return;
    const held = new Set(
      previous?.status === 'resolved' ? [] : (previous?.signals.map((s) => s.fingerprint) ?? []),
    );
    for (const s of incident.signals)
      if (!held.has(s.fingerprint)) await claim(s.fingerprint, incident.id, options);
  }

  /** Releases the fingerprints of an incident that `next` resolves (none if it was resolved already). */
  async function releaseAll(next: Incident, current: Incident, fence: number | undefined): Promise<void> {
    if (next.status !== 'resolved' || current.status === 'resolved') return;
    for (const s of next.signals) await release(s.fingerprint, next.id, fence);
  }

  /**
   * Reads the stored incident `next` replaces and checks, before anything is written, that it is
   * at `next.version - 1` and not written by a leader later than `fence`.
   */
  async function readForUpdate(
    next: Incident,
    fence: number | undefined,
  ): Promise<{ current: Incident; held: number | undefined }> {
    const expected = next.version - 1;
    const item = await getItem(next.id);
    if (!item) throw new VersionConflictError(`incident ${next.id} does not exist`);
    const current = fromItem(item);
    const held = typeof item.leaderEpoch === 'number' ? item.leaderEpoch : undefined;
    if (fence !== undefined && held !== undefined && held > fence)
      throw new StaleLeaderError(`incident ${next.id}`, fence, held);
    if (current.version !== expected) {
      throw new VersionConflictError(`incident ${next.id} is at version ${current.version}, not ${expected}`);
    }
    return { current, held };
  }

  /** The conditional put that replaces an incident at `next.version - 1`, fenced when `fence` is set. */
  function incidentPut(next: Incident, held: number | undefined, fence: number | undefined) {
    return {
      TableName: table,
      // A write without a fence keeps the epoch: a stale leader stays fenced off.
      Item: { ...toItem(next), ...epochOf(fence ?? held) },
      ConditionExpression:
        fence === undefined ? '#version = :expected' : `#version = :expected AND ${FENCE_CONDITION}`,
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: {
        ':expected': next.version - 1,
        ...(fence === undefined ? {} : { ':fence': fence }),
      },
    };
  }

  /** Why a conditional write of `next` failed: a later leader wrote it, or another writer did. */
  async function refusal(next: Incident, fence: number | undefined): Promise<Error> {
    const now = await getItem(next.id);
    if (fence !== undefined && typeof now?.leaderEpoch === 'number' && now.leaderEpoch > fence)
      return new StaleLeaderError(`incident ${next.id}`, fence, now.leaderEpoch);
    return new VersionConflictError(`incident ${next.id} changed since version ${next.version - 1} was read`);
  }

  async function update(next: Incident, options?: WriteOptions): Promise<Incident> {
    const fence = options?.fence;
    const { current, held } = await readForUpdate(next, fence);
    await claimAll(next, current, fence === undefined ? {} : { fence });
    try {
      await doc.send(new PutCommand(incidentPut(next, held, fence)));
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('PutItem', err);
      throw await refusal(next, fence);
    }
    await releaseAll(next, current, fence);
    return capped(next);
  }

  /**
   * Whether the server runs transactions: unknown until the first merge asks, false once it
   * answered that it has no such operation (dynalite).
   */
  let transactions: boolean | undefined;

  /**
   * A merge's two writes in one `TransactWriteItems`: both on their version and fence conditions,
   * so either both land or neither does. The survivor claims the absorbed incident's fingerprints
   * first (a claim may pass from the absorbed incident to its survivor); if the process dies after
   * the claims and before the transaction, the claims name the survivor, which the next attempt
   * of the merge keeps. Null when the server has no transactions.
   */
  async function mergeAtomically(
    absorbed: Incident,
    survivor: Incident,
    fence: number | undefined,
  ): Promise<{ absorbed: Incident; survivor: Incident } | null> {
    const [a, s] = await Promise.all([readForUpdate(absorbed, fence), readForUpdate(survivor, fence)]);
    await claimAll(survivor, s.current, { from: absorbed.id, ...(fence === undefined ? {} : { fence }) });
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: incidentPut(absorbed, a.held, fence) },
            { Put: incidentPut(survivor, s.held, fence) },
          ],
        }),
      );
    } catch (err) {
      if (unknownOperation(err)) {
        transactions = false;
        logger.info(
          { table },
          'the DynamoDB server has no transactions (dynalite): a merge writes its two incidents one after the other, and one interrupted between them is finished on the next load',
        );
        return null;
      }
      if (!(err instanceof TransactionCanceledException)) throw toDependencyError('TransactWriteItems', err);
      const reasons = err.CancellationReasons ?? [];
      // The first refused item says why; a transaction in flight on the same item is a lost race too.
      const refused = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
      if (refused >= 0) throw await refusal(refused === 0 ? absorbed : survivor, fence);
      throw new VersionConflictError(
        `merge of ${absorbed.id} into ${survivor.id} was cancelled (${reasons.map((r) => r.Code).join(', ')})`,
      );
    }
    transactions = true;
    await releaseAll(absorbed, a.current, fence);
    return { absorbed: capped(absorbed), survivor: capped(survivor) };
  }

  /**
   * Silences and LLM usage counters carry a `ttl` (epoch seconds); a table Guardian manages gets
   * DynamoDB TTL on that attribute, so they are deleted in time. Nothing depends on the deletion
   * (an expired silence is filtered out when read), so a server without the TTL API (dynalite)
   * only costs the storage.
   */
  async function ensureTtl(): Promise<void> {
    try {
      const described = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
      const status = described.TimeToLiveDescription?.TimeToLiveStatus;
      if (status === 'ENABLED' || status === 'ENABLING') return;
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: table,
          TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
        }),
      );
      logger.info({ table, attribute: TTL_ATTRIBUTE }, 'enabled DynamoDB TTL');
    } catch (err) {
      const e = toDependencyError('UpdateTimeToLive', err);
      const unsupported = unknownOperation(err);
      logger[unsupported ? 'debug' : 'warn'](
        { table, error: e.message },
        'DynamoDB TTL not enabled: expired silences and usage counters stay in the table',
      );
    }
  }

  return {
    async start() {
      await ensureTable();
      if (options.createTable) await ensureTtl();
    },

    async close() {
      client.destroy();
    },

    async ping() {
      try {
        await client.send(new DescribeTableCommand({ TableName: table }), {
          abortSignal: AbortSignal.timeout(2000),
        });
        return true;
      } catch {
        return false;
      }
    },

    get,

    async create(incident, options) {
      if (incident.version !== 1)
        throw new RangeError(`a new incident has version 1, not ${incident.version}`);
      await claimAll(incident, undefined, options?.fence === undefined ? {} : { fence: options.fence });
      crashPoint('claimed');
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: { ...toItem(incident), ...epochOf(options?.fence) },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
        // Born with its notes kept apart: never copied from its timeline.
        await putOnce({ PK: incidentPk(incident.id), SK: NOTES_INDEXED_SK, type: 'notes_indexed' });
        return { incident: capped(incident), created: true };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('PutItem', err);
        const stored = await get(incident.id);
        if (!stored)
          throw new DependencyError(
            'dynamodb',
            'inconsistent',
            `incident ${incident.id} exists but cannot be read`,
            { retryable: true },
          );
        return { incident: stored, created: false };
      }
    },

    update,

    async mergeIncidents(absorbed, survivor, options) {
      if (absorbed.mergedInto !== survivor.id)
        throw new RangeError(`incident ${absorbed.id} is not merged into ${survivor.id}`);
      const fence = options?.fence;
      if (transactions !== false) {
        const written = await mergeAtomically(absorbed, survivor, fence);
        if (written) return { ...written, atomic: true };
      }
      // No transactions: the absorbed incident, then its survivor (the correlator's next load
      // finishes a merge interrupted in between).
      const a = await update(absorbed, options);
      crashPoint('merge-absorbed');
      return { absorbed: a, survivor: await update(survivor, options), atomic: false };
    },

    async nextLeaderEpoch() {
      const res = await call('UpdateItem', () =>
        doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { PK: 'LEADER', SK: 'EPOCH' },
            UpdateExpression: 'ADD epoch :one SET #type = :type',
            ExpressionAttributeNames: { '#type': 'type' },
            ExpressionAttributeValues: { ':one': 1, ':type': 'leader_epoch' },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      );
      return Number(res.Attributes?.epoch);
    },

    async getMany(ids) {
      const out: Incident[] = [];
      // BatchGetItem takes 100 keys a call and may leave some unprocessed (throttling): ask again.
      for (let i = 0; i < ids.length; i += 100) {
        let keys: Record<string, unknown>[] | undefined = ids
          .slice(i, i + 100)
          .map((id) => ({ PK: incidentPk(id), SK: 'META' }));
        for (let attempt = 0; keys && keys.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
          const requested: Record<string, unknown>[] = keys;
          const res: BatchGetCommandOutput = await call('BatchGetItem', () =>
            doc.send(
              new BatchGetCommand({ RequestItems: { [table]: { Keys: requested, ConsistentRead: true } } }),
            ),
          );
          for (const item of res.Responses?.[table] ?? []) out.push(fromItem(item));
          keys = res.UnprocessedKeys?.[table]?.Keys;
        }
      }
      return out;
    },

    async findOpenByFingerprint(fingerprint) {
      const owner = await fingerprintOwner(fingerprint);
      if (!owner?.open) return null;
      const incident = await get(String(owner.incidentId));
      return incident && incident.status !== 'resolved' ? incident : null;
    },

    async list(query: ListIncidentsQuery): Promise<IncidentPage> {
      const useOpen = query.status === 'open' || query.status === 'acknowledged';
      const index = useOpen ? GSI_OPEN : GSI_ALL;
      const pkName = useOpen ? 'GSI1PK' : 'GSI2PK';
      const skName = useOpen ? 'GSI1SK' : 'GSI2SK';
      const names: Record<string, string> = { '#pk': pkName };
      if (query.from !== undefined || query.to !== undefined) names['#sk'] = skName;
      const values: Record<string, unknown> = { ':pk': useOpen ? OPEN_PK : ALL_PK };
      let keyCondition = '#pk = :pk';
      // Sort keys are `<13-digit ms>#<id>`: `#` sorts before every id character and `~` after.
      if (query.from !== undefined && query.to !== undefined) {
        keyCondition += ' AND #sk BETWEEN :from AND :to';
        values[':from'] = `${pad(query.from)}#`;
        values[':to'] = `${pad(query.to - 1)}#~`;
      } else if (query.from !== undefined) {
        keyCondition += ' AND #sk >= :from';
        values[':from'] = `${pad(query.from)}#`;
      } else if (query.to !== undefined) {
        keyCondition += ' AND #sk < :to';
        values[':to'] = `${pad(query.to)}#`;
      }
      let filter: string | undefined;
      if (query.status) {
        filter = '#status = :status';
        names['#status'] = 'status';
        values[':status'] = query.status;
      }
      let startKey = query.cursor ? decodeCursor(query.cursor, pkName, skName) : undefined;
      const incidents: Incident[] = [];
      let lastKey: Record<string, unknown> | undefined;
      while (incidents.length < query.limit) {
        const input: QueryCommandInput = {
          TableName: table,
          IndexName: index,
          KeyConditionExpression: keyCondition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: query.limit - incidents.length,
          ...(filter ? { FilterExpression: filter } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        };
        const page = await call('Query', () => doc.send(new QueryCommand(input)));
        for (const item of page.Items ?? []) {
          await migrateDelivery(item);
          incidents.push(fromItem(item));
          lastKey = { PK: item.PK, SK: item.SK, [pkName]: item[pkName], [skName]: item[skName] };
        }
        if (!page.LastEvaluatedKey) {
          lastKey = undefined;
          break;
        }
        startKey = page.LastEvaluatedKey;
        if (incidents.length >= query.limit) break;
        lastKey = page.LastEvaluatedKey;
      }
      return { incidents, nextCursor: lastKey ? encodeCursor(lastKey) : null };
    },

    async appendTimeline(incidentId, events) {
      for (const e of events) {
        const item = eventItem(incidentId, e);
        await putOnce({ ...item, SK: `${EVENT_SK}${item.SK}` });
        // Its copy among the notes: written after the event, so a note always has its event.
        if (isNote(e)) await putOnce({ ...item, SK: `${NOTE_SK}${item.SK}` });
      }
    },

    async notes(incidentId) {
      const pk = incidentPk(incidentId);
      if (!(await incidentItem(incidentId, NOTES_INDEXED_SK))) {
        // A timeline begun before notes were kept apart: copied once, a page at a time.
        for await (const page of queryPages({
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :evt)',
          ExpressionAttributeValues: { ':pk': pk, ':evt': EVENT_SK },
        })) {
          for (const item of page) {
            if (!isNote(fromEventItem(item))) continue;
            await putOnce({ ...item, SK: `${NOTE_SK}${String(item.SK).slice(EVENT_SK.length)}` });
          }
        }
        await putOnce({ PK: pk, SK: NOTES_INDEXED_SK, type: 'notes_indexed' });
      }
      const items = await queryAll(
        {
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :note)',
          ExpressionAttributeValues: { ':pk': pk, ':note': NOTE_SK },
          ScanIndexForward: false,
          Limit: NOTES_MAX,
        },
        NOTES_MAX,
      );
      return items.reverse().map(fromEventItem);
    },

    async timeline(incidentId, options) {
      const newest = options?.newest;
      const items = await queryAll(
        {
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :evt)',
          ExpressionAttributeValues: { ':pk': incidentPk(incidentId), ':evt': EVENT_SK },
          // The newest first when only they are wanted (then put back in order).
          ...(newest === undefined ? {} : { ScanIndexForward: false, Limit: Math.min(newest, 1000) }),
        },
        newest,
      );
      if (newest !== undefined) items.reverse();
      return items.map(fromEventItem);
    },

    async createSilence(silence) {
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...withoutCount(silence),
              PK: SILENCE_PK,
              SK: silence.id,
              type: 'silence',
              [TTL_ATTRIBUTE]: Math.floor(silence.expiresAt / 1000) + 7 * 86_400,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('PutItem', err);
      }
    },

    async *silencePages(now, pageSize = SILENCE_PAGE) {
      const pages = queryPages({
        KeyConditionExpression: 'PK = :pk',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: { ':pk': SILENCE_PK, ':now': now },
        Limit: pageSize,
      });
      for await (const page of pages) if (page.length > 0) yield page.map(fromSilenceItem);
    },

    async listSilences(now) {
      const items = await queryAll({
        KeyConditionExpression: 'PK = :pk',
        // TTL deletes lag by days: an expired silence is filtered out, not trusted to be gone.
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: { ':pk': SILENCE_PK, ':now': now },
      });
      return items.map(fromSilenceItem).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },

    async silencesPage(now, query) {
      let startKey = query.cursor ? decodeSilenceCursor(query.cursor) : undefined;
      const silences: Silence[] = [];
      let lastKey: Record<string, unknown> | undefined;
      for (let read = 0; read < SILENCE_SCAN_PAGES && silences.length < query.limit; read++) {
        const page = await call('Query', () =>
          doc.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: 'PK = :pk',
              FilterExpression: 'expiresAt > :now',
              ExpressionAttributeValues: { ':pk': SILENCE_PK, ':now': now },
              ConsistentRead: true,
              Limit: query.limit - silences.length,
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          ),
        );
        for (const item of page.Items ?? []) silences.push(fromSilenceItem(item));
        lastKey = page.LastEvaluatedKey;
        if (!lastKey) break;
        startKey = lastKey;
      }
      return { silences, nextCursor: lastKey ? encodeCursor({ PK: lastKey.PK, SK: lastKey.SK }) : null };
    },

    async expireSilence(id, now) {
      try {
        const res = await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { PK: SILENCE_PK, SK: id },
            UpdateExpression: 'SET expiresAt = :now',
            // Ending an ended silence again must not move its end later.
            ConditionExpression: 'attribute_exists(PK) AND expiresAt > :now',
            ExpressionAttributeValues: { ':now': now },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return res.Attributes ? fromSilenceItem(res.Attributes) : null;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('UpdateItem', err);
        const res = await call('GetItem', () =>
          doc.send(
            new GetCommand({ TableName: table, Key: { PK: SILENCE_PK, SK: id }, ConsistentRead: true }),
          ),
        );
        return res.Item ? fromSilenceItem(res.Item) : null;
      }
    },

    async recordSuppressed(silenceId, fingerprints) {
      if (fingerprints.length === 0) return;
      try {
        // A string set: adding a fingerprint already there changes nothing, so counting is idempotent.
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { PK: SILENCE_PK, SK: silenceId },
            UpdateExpression: 'ADD suppressedFingerprints :fps',
            ConditionExpression:
              'attribute_exists(PK) AND (attribute_not_exists(suppressedFingerprints) OR size(suppressedFingerprints) < :max)',
            ExpressionAttributeValues: { ':fps': new Set(fingerprints), ':max': SUPPRESSED_FINGERPRINTS_MAX },
          }),
        );
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('UpdateItem', err);
        // Full (or no such silence): count beyond the set, no longer idempotently.
        await doc
          .send(
            new UpdateCommand({
              TableName: table,
              Key: { PK: SILENCE_PK, SK: silenceId },
              UpdateExpression: 'ADD suppressedBeyond :n',
              ConditionExpression: 'attribute_exists(PK)',
              ExpressionAttributeValues: { ':n': fingerprints.length },
            }),
          )
          .catch((e: unknown) => {
            if (!(e instanceof ConditionalCheckFailedException)) throw toDependencyError('UpdateItem', e);
          });
      }
    },

    async createApiKey(key) {
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: { ...key, PK: APIKEY_PK, SK: key.id, type: 'api_key' },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
        return true;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('PutItem', err);
        return false;
      }
    },

    getApiKey,

    async listApiKeys() {
      const items = await queryAll({
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': APIKEY_PK },
      });
      return items.map(fromApiKeyItem).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },

    async revokeApiKey(id, now) {
      try {
        const res = await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { PK: APIKEY_PK, SK: id },
            UpdateExpression: 'SET revokedAt = :now',
            // Revoking twice keeps the first time.
            ConditionExpression: 'attribute_exists(PK) AND revokedAt = :null',
            ExpressionAttributeValues: { ':now': now, ':null': null },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return res.Attributes ? fromApiKeyItem(res.Attributes) : null;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw toDependencyError('UpdateItem', err);
        return getApiKey(id);
      }
    },

    getDelivery,

    async putDelivery(next) {
      await putVersioned(deliveryItem(next), next.version, `delivery of ${next.incidentId}`);
      return next;
    },

    async deliveries(incidentIds) {
      if (incidentIds.length > DELIVERIES_MAX) {
        throw new RangeError(`at most ${DELIVERIES_MAX} incidents at once, not ${incidentIds.length}`);
      }
      const found = await Promise.all(incidentIds.map(getDelivery));
      return new Map(found.flatMap((d) => (d ? [[d.incidentId, d] as const] : [])));
    },

    recordSent,

    async sent(incidentId, options) {
      const kind = options?.kind;
      // Sorted by kind, then ts: one kind is one range of keys.
      const items = await queryAll({
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sent)',
        ExpressionAttributeValues: {
          ':pk': incidentPk(incidentId),
          ':sent': kind ? `${SENT_SK_PREFIX}${kind}#` : SENT_SK_PREFIX,
        },
      });
      return items
        .map(
          (item): NotificationRecord => ({
            at: Number(item.at),
            kind: item.kind as NotificationRecord['kind'],
            channel: String(item.channel),
            ts: String(item.ts),
            version: Number(item.version),
          }),
        )
        .sort((a, b) => a.at - b.at || (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
        .slice(-SENT_MAX);
    },

    async getNotificationState(incidentId) {
      const item = await incidentItem(incidentId, NOTIFY_SK);
      if (!item) return null;
      const copy: Record<string, unknown> = { ...item };
      for (const k of KEY_ATTRIBUTES) delete copy[k];
      return copy as unknown as NotificationState;
    },

    async putNotificationState(next) {
      await putVersioned(
        { ...next, PK: incidentPk(next.incidentId), SK: NOTIFY_SK, type: 'notification_state' },
        next.version,
        `notification state of ${next.incidentId}`,
      );
      return next;
    },

    async addLlmUsage(hourStart, usage) {
      const res = await call('UpdateItem', () =>
        doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { PK: LLM_USAGE_PK, SK: new Date(hourStart).toISOString() },
            UpdateExpression:
              'ADD inputTokens :i, outputTokens :o, cacheCreationInputTokens :cc, cacheReadInputTokens :cr, calls :n SET #ttl = :ttl, #type = :type',
            ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE, '#type': 'type' },
            ExpressionAttributeValues: {
              ':i': usage.inputTokens,
              ':o': usage.outputTokens,
              ':cc': usage.cacheCreationInputTokens,
              ':cr': usage.cacheReadInputTokens,
              ':n': usage.calls,
              ':ttl': Math.floor(hourStart / 1000) + 2 * 86_400,
              ':type': 'llm_usage',
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return toUsage(res.Attributes);
    },

    async llmUsage(hourStart) {
      const res = await call('GetItem', () =>
        doc.send(
          new GetCommand({
            TableName: table,
            Key: { PK: LLM_USAGE_PK, SK: new Date(hourStart).toISOString() },
            ConsistentRead: true,
          }),
        ),
      );
      return toUsage(res.Item);
    },
  };
}

const SILENCE_PK = 'SILENCE';
const EVENT_SK = 'EVT#';
const NOTE_SK = 'NOTE#';
/** Present once an incident's notes are kept apart from its timeline (all incidents created since). */
const NOTES_INDEXED_SK = 'NOTES';

/** What people did and what the notifier told: the timeline events {@link IncidentStore.notes} returns. */
function isNote(e: RecordedEvent): boolean {
  return e.actor !== undefined || e.type === 'notified';
}

/** A timeline event's item, its sort key without the prefix (`<at ms, 13 digits>#<id>`). */
function eventItem(incidentId: string, e: RecordedEvent): Record<string, unknown> {
  return {
    PK: incidentPk(incidentId),
    SK: `${pad(e.at)}#${e.id}`,
    id: e.id,
    at: e.at,
    eventType: e.type,
    text: e.text,
    ...(e.fingerprint ? { fingerprint: e.fingerprint } : {}),
    ...(e.actor ? { actor: e.actor } : {}),
  };
}

function fromEventItem(item: Record<string, unknown>): RecordedEvent {
  return {
    id: String(item.id),
    at: Number(item.at),
    type: item.eventType as RecordedEvent['type'],
    text: String(item.text),
    ...(item.fingerprint ? { fingerprint: String(item.fingerprint) } : {}),
    ...(item.actor ? { actor: item.actor as Actor } : {}),
  };
}
const DELIVERY_SK = 'delivery#post';
const SENT_SK_PREFIX = 'delivery#sent#';
/** Where incidents written before the delivery ledger kept their delivery. */
const LEGACY_SLACK = 'slack';
const LEGACY_NOTIFICATIONS = 'notifications';

function deliveryItem(delivery: Delivery): Record<string, unknown> {
  return {
    PK: incidentPk(delivery.incidentId),
    SK: DELIVERY_SK,
    type: 'delivery',
    incidentId: delivery.incidentId,
    version: delivery.version,
    thread: delivery.thread,
  };
}

function fromDeliveryItem(item: Record<string, unknown>): Delivery {
  return {
    incidentId: String(item.incidentId),
    version: Number(item.version),
    thread: (item.thread as SlackThread | null | undefined) ?? null,
  };
}

/**
 * A post or reply is one per ts; an edit keeps the post's ts, so it is one per ts, time and
 * incident version shown.
 */
function sentSk(record: NotificationRecord): string {
  const key = `${SENT_SK_PREFIX}${record.kind}#${record.ts}`;
  return record.kind === 'update' ? `${key}#${pad(record.at)}#${record.version}` : key;
}
const APIKEY_PK = 'APIKEY';
const NOTIFY_SK = 'NOTIFY';
const LLM_USAGE_PK = 'LLM_USAGE';

function fromSilenceItem(item: Record<string, unknown>): Silence {
  return {
    id: String(item.id),
    ...(typeof item.kind === 'string' ? { kind: item.kind } : {}),
    ...(typeof item.entity === 'string' ? { entity: item.entity } : {}),
    createdAt: Number(item.createdAt),
    expiresAt: Number(item.expiresAt),
    createdBy: item.createdBy as Actor,
    ...(typeof item.incidentId === 'string' ? { incidentId: item.incidentId } : {}),
    ...(typeof item.reason === 'string' ? { reason: item.reason } : {}),
    suppressed:
      (item.suppressedFingerprints instanceof Set ? item.suppressedFingerprints.size : 0) +
      (typeof item.suppressedBeyond === 'number' ? item.suppressedBeyond : 0),
  };
}

/** A silence as written: its suppressed count is kept by `recordSuppressed` alone. */
function withoutCount(silence: Silence): Omit<Silence, 'suppressed'> {
  const { suppressed: _, ...rest } = silence;
  return rest;
}

function fromApiKeyItem(item: Record<string, unknown>): ApiKeyRecord {
  return {
    id: String(item.id),
    name: String(item.name),
    scope: item.scope as ApiKeyRecord['scope'],
    createdAt: Number(item.createdAt),
    expiresAt: typeof item.expiresAt === 'number' ? item.expiresAt : null,
    revokedAt: typeof item.revokedAt === 'number' ? item.revokedAt : null,
    salt: String(item.salt),
    hash: String(item.hash),
  };
}

function toUsage(item: Record<string, unknown> | undefined): TokenUsage {
  if (!item) return NO_USAGE;
  const n = (k: keyof TokenUsage) => (typeof item[k] === 'number' ? (item[k] as number) : 0);
  return {
    inputTokens: n('inputTokens'),
    outputTokens: n('outputTokens'),
    cacheCreationInputTokens: n('cacheCreationInputTokens'),
    cacheReadInputTokens: n('cacheReadInputTokens'),
    calls: n('calls'),
  };
}

const incidentPk = (id: string) => `INCIDENT#${id}`;
const epochOf = (epoch: number | undefined) => (epoch === undefined ? {} : { leaderEpoch: epoch });
const fpPk = (fingerprint: string) => `FP#${fingerprint}`;
const pad = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(13, '0');

function toItem(incident: Incident): Record<string, unknown> {
  const sortKey = `${pad(incident.openedAt)}#${incident.id}`;
  const open = incident.status !== 'resolved';
  return {
    ...capped(incident),
    PK: incidentPk(incident.id),
    SK: 'META',
    type: 'incident',
    GSI2PK: ALL_PK,
    GSI2SK: sortKey,
    // Sparse index: a resolved incident leaves "open incidents" by not having these.
    ...(open ? { GSI1PK: OPEN_PK, GSI1SK: sortKey } : {}),
  };
}

function fromItem(item: Record<string, unknown>): Incident {
  const copy: Record<string, unknown> = { ...item };
  for (const k of [...KEY_ATTRIBUTES, LEGACY_SLACK, LEGACY_NOTIFICATIONS]) delete copy[k];
  return copy as unknown as Incident;
}

function capped(full: Incident): Incident {
  const incident = {
    ...full,
    entities: cappedEntities(full),
    ...(full.impact ? { impact: cappedImpact(full.impact) } : {}),
  };
  const signals = [...incident.signals]
    .sort((a, b) => b.lastSeen - a.lastSeen)
    .slice(0, ITEM_CAPS.signals)
    .map(capSignal);
  let result: Incident = { ...incident, signals: restoreOrder(incident.signals, signals) };
  let size = JSON.stringify(result).length;
  // Newest first: strip evidence from the oldest signals, then drop them, until it fits.
  for (let i = signals.length - 1; i > 0 && size > ITEM_CAPS.itemBudgetChars; i--) {
    signals[i] = { ...signals[i]!, evidence: [] };
    result = { ...incident, signals: restoreOrder(incident.signals, signals) };
    size = JSON.stringify(result).length;
  }
  while (size > ITEM_CAPS.itemBudgetChars && signals.length > 1) {
    signals.pop();
    result = { ...incident, signals: restoreOrder(incident.signals, signals) };
    size = JSON.stringify(result).length;
  }
  return result;
}

/** The first entities within `entitiesChars` of JSON, the root cause's always among them. */
function cappedEntities(incident: Incident): readonly EntityKey[] {
  const cause = incident.rootCause?.entity;
  let size = cause ? cause.length + 3 : 0;
  const kept: EntityKey[] = [];
  for (const e of incident.entities) {
    if (e === cause) continue;
    size += e.length + 3;
    if (size > ITEM_CAPS.entitiesChars) return cause ? [cause, ...kept] : kept;
    kept.push(e);
  }
  return incident.entities;
}

/** The impact's task list within `impactChars` of JSON; tasks left out are counted in `omittedTasks`. */
function cappedImpact(impact: Impact): Impact {
  let size = JSON.stringify(impact).length;
  if (size <= ITEM_CAPS.impactChars) return impact;
  // Tasks go first, then DAG names; what is left out is counted.
  const tasks = [...impact.tasks];
  const dags = [...impact.dags];
  let omittedTasks = impact.omittedTasks ?? 0;
  let omittedDags = impact.omittedDags ?? 0;
  while (tasks.length > 0 && size > ITEM_CAPS.impactChars) {
    size -= JSON.stringify(tasks.pop()).length + 1;
    omittedTasks++;
  }
  while (dags.length > 0 && size > ITEM_CAPS.impactChars) {
    size -= JSON.stringify(dags.pop()).length + 1;
    omittedDags++;
  }
  return {
    ...impact,
    dags,
    tasks,
    ...(omittedTasks > 0 ? { omittedTasks } : {}),
    ...(omittedDags > 0 ? { omittedDags } : {}),
  };
}

/** The kept signals, in the order the incident had them. */
function restoreOrder(
  original: readonly IncidentSignal[],
  kept: readonly IncidentSignal[],
): IncidentSignal[] {
  const byFp = new Map(kept.map((s) => [s.fingerprint, s]));
  return original.flatMap((s) => {
    const k = byFp.get(s.fingerprint);
    return k ? [k] : [];
  });
}

function capSignal(s: IncidentSignal): IncidentSignal {
  return { ...s, evidence: s.evidence.slice(0, ITEM_CAPS.evidence).map(capEvidence) };
}

function capEvidence(e: Evidence): Evidence {
  switch (e.kind) {
    case 'text':
      return { ...e, text: cut(e.text, ITEM_CAPS.text) };
    case 'log':
      return { ...e, lines: e.lines.slice(-ITEM_CAPS.logLines).map((l) => cut(l, ITEM_CAPS.logLine)) };
    case 'link':
      return { ...e, url: cut(e.url, ITEM_CAPS.text) };
    default:
      return e;
  }
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key a cursor carries, as JSON; an `InvalidCursorError` for anything else. */
function cursorKey(cursor: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidCursorError();
  return parsed as Record<string, unknown>;
}

/** A silences cursor: the key of a silence item, nothing else. */
function decodeSilenceCursor(cursor: string): Record<string, unknown> {
  const key = cursorKey(cursor);
  const names = Object.keys(key).sort();
  if (names.length !== 2 || names[0] !== 'PK' || names[1] !== 'SK') throw new InvalidCursorError();
  if (key.PK !== SILENCE_PK || typeof key.SK !== 'string') throw new InvalidCursorError();
  return key;
}

function decodeCursor(cursor: string, pkName: string, skName: string): Record<string, unknown> {
  const key = cursorKey(cursor);
  const names = Object.keys(key).sort();
  const expected = ['PK', 'SK', pkName, skName].sort();
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i]))
    throw new InvalidCursorError();
  if (!Object.values(key).every((v) => typeof v === 'string')) throw new InvalidCursorError();
  if (!String(key.PK).startsWith('INCIDENT#') || key.SK !== 'META') throw new InvalidCursorError();
  return key;
}

const RETRYABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
]);

/** The server has no such operation: dynalite answers `com.amazon.coral.service#UnknownOperationException`. */
function unknownOperation(err: unknown): boolean {
  const e = err as { name?: string; __type?: string } | undefined;
  return /UnknownOperation/.test(`${e?.name} ${e?.__type}`);
}

function toDependencyError(operation: string, err: unknown): DependencyError {
  if (err instanceof DependencyError) return err;
  const e = err as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    code?: string;
  };
  const code = e.name && e.name !== 'Error' ? e.name : (e.code ?? 'unknown');
  const status = e.$metadata?.httpStatusCode;
  const network =
    !status &&
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket|network|fetch failed|TimeoutError/i.test(
      `${code} ${e.message}`,
    );
  const retryable = RETRYABLE.has(code) || (status !== undefined && status >= 500) || network;
  return new DependencyError('dynamodb', code, `${operation} failed: ${e.message ?? code}`, {
    retryable,
    cause: err,
  });
}
