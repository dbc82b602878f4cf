import type { Incident, NotificationRecord } from '../core/index.ts';
import { toIso } from '../core/index.ts';
import type { Delivery, RecordedEvent, Silence } from '../incidents/store.ts';

/** JSON Schemas of the API's resources; they validate requests and shape responses. */

const evidence = {
  type: 'object',
  required: ['kind', 'label'],
  properties: {
    kind: { type: 'string', enum: ['value', 'text', 'log', 'link'] },
    label: { type: 'string' },
    value: { type: 'number' },
    unit: { type: 'string' },
    text: { type: 'string' },
    lines: { type: 'array', items: { type: 'string' } },
    url: { type: 'string' },
  },
} as const;

const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const incidentSummarySchema = {
  $id: 'IncidentSummary',
  type: 'object',
  required: [
    'id',
    'status',
    'severity',
    'title',
    'openedAt',
    'updatedAt',
    'resolvedAt',
    'rootCause',
    'entities',
  ],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['open', 'acknowledged', 'resolved'] },
    severity: { type: 'string', enum: ['info', 'low', 'high', 'critical'] },
    title: { type: 'string' },
    openedAt: time,
    updatedAt: time,
    resolvedAt: nullableTime,
    rootCause: {
      type: ['object', 'null'],
      required: ['entity', 'kind', 'confidence'],
      properties: {
        entity: { type: 'string' },
        kind: { type: 'string' },
        confidence: { type: 'number', description: '0..1' },
        title: { type: 'string' },
        evidence: { type: 'array', items: { type: 'string' }, description: 'why Guardian believes it' },
        errorClass: { type: 'string' },
      },
    },
    entities: { type: 'array', items: { type: 'string' } },
    signalCount: { type: 'integer' },
    impact: {
      type: 'object',
      description: 'what it broke, in DAG terms',
      required: ['dags', 'tasks', 'sparkJobs'],
      properties: {
        dags: { type: 'array', items: { type: 'string' } },
        tasks: {
          type: 'array',
          items: {
            type: 'object',
            required: ['entity', 'dagId', 'runId', 'taskId', 'state'],
            properties: {
              entity: { type: 'string' },
              dagId: { type: 'string' },
              runId: { type: 'string' },
              taskId: { type: 'string' },
              state: { type: 'string', enum: ['failed', 'retrying', 'upstream_failed', 'recovered'] },
            },
          },
        },
        sparkJobs: { type: 'integer', description: 'Spark jobs that failed or were lost' },
        omittedTasks: { type: 'integer', description: 'affected tasks not listed (a storm)' },
        omittedDags: { type: 'integer', description: 'affected DAGs not listed' },
      },
    },
    quiet: { type: 'boolean', description: 'recorded but not paged' },
    mergedInto: { type: 'string', description: 'the incident it lives on in' },
    slack: {
      type: ['object', 'null'],
      properties: { channel: { type: 'string' }, ts: { type: 'string' } },
    },
  },
} as const;

export const incidentDetailSchema = {
  $id: 'IncidentDetail',
  type: 'object',
  required: [...incidentSummarySchema.required, 'signals', 'timeline', 'notifications'],
  properties: {
    ...incidentSummarySchema.properties,
    signals: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'fingerprint',
          'kind',
          'entity',
          'status',
          'severity',
          'title',
          'firstSeen',
          'lastSeen',
          'count',
        ],
        properties: {
          fingerprint: { type: 'string' },
          kind: { type: 'string' },
          entity: { type: 'string' },
          related: { type: 'array', items: { type: 'string' } },
          status: { type: 'string', enum: ['firing', 'resolved'] },
          severity: { type: 'string' },
          title: { type: 'string' },
          detector: { type: 'string' },
          firstSeen: time,
          lastSeen: time,
          count: { type: 'integer' },
          evidence: { type: 'array', items: evidence },
        },
      },
    },
    timeline: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'type', 'text'],
        properties: {
          id: { type: 'string' },
          at: time,
          type: { type: 'string' },
          text: { type: 'string' },
          actor: {
            type: 'object',
            description: 'who did it, for actions taken by a person',
            properties: { id: { type: 'string' }, name: { type: 'string' }, via: { type: 'string' } },
          },
        },
      },
    },
    notifications: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'kind', 'channel', 'ts'],
        properties: {
          at: time,
          kind: { type: 'string', enum: ['post', 'thread', 'update'] },
          channel: { type: 'string' },
          ts: { type: 'string' },
        },
      },
    },
  },
} as const;

/** An incident summary as the API shows it; `delivery` is its record in the delivery ledger. */
export function incidentSummary(i: Incident, delivery: Delivery | null | undefined) {
  return {
    id: i.id,
    status: i.status,
    severity: i.severity,
    title: i.title,
    openedAt: toIso(i.openedAt),
    updatedAt: toIso(i.updatedAt),
    resolvedAt: i.resolvedAt === null ? null : toIso(i.resolvedAt),
    rootCause: i.rootCause,
    entities: i.entities,
    signalCount: i.signals.length,
    ...(i.impact ? { impact: i.impact } : {}),
    ...(i.quiet !== undefined ? { quiet: i.quiet } : {}),
    ...(i.mergedInto ? { mergedInto: i.mergedInto } : {}),
    slack: delivery?.thread?.ts ? { channel: delivery.thread.channel, ts: delivery.thread.ts } : null,
  };
}

/**
 * The newest timeline events an incident's detail shows (API and page): a timeline has no bound
 * (a long flapping incident can gather a hundred thousand); older ones are left out.
 */
export const TIMELINE_SHOWN = 1000;

/** An incident as the API shows it, with its timeline and what was sent about it. */
export function incidentDetail(
  i: Incident,
  timeline: readonly RecordedEvent[],
  delivery: Delivery | null,
  sent: readonly NotificationRecord[],
) {
  return {
    ...incidentSummary(i, delivery),
    signals: i.signals.map((s) => ({ ...s, firstSeen: toIso(s.firstSeen), lastSeen: toIso(s.lastSeen) })),
    timeline: timeline.map((e) => ({
      id: e.id,
      at: toIso(e.at),
      type: e.type,
      text: e.text,
      ...(e.actor ? { actor: e.actor } : {}),
    })),
    notifications: sent.map((n) => ({
      at: toIso(n.at),
      kind: n.kind,
      channel: n.channel,
      ts: n.ts,
    })),
  };
}

const actorSchema = {
  type: 'object',
  required: ['id', 'via'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    via: { type: 'string', enum: ['slack', 'api'] },
    keyId: { type: 'string', description: 'the API key it acted with' },
  },
} as const;

export const silenceSchema = {
  $id: 'Silence',
  type: 'object',
  required: ['id', 'createdAt', 'expiresAt', 'createdBy', 'active', 'suppressed'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', description: 'root-cause kind, signal kind or error class it matches' },
    entity: { type: 'string', description: 'entity key glob it matches (`*` = any run of characters)' },
    createdAt: time,
    expiresAt: time,
    createdBy: actorSchema,
    reason: { type: 'string' },
    incidentId: { type: 'string', description: 'the incident it was created from, if any' },
    active: { type: 'boolean', description: 'whether it mutes matching new incidents now' },
    suppressed: { type: 'integer', description: 'signals it kept from Slack so far' },
  },
} as const;

export function silenceView(s: Silence, now: number) {
  return {
    id: s.id,
    ...(s.kind ? { kind: s.kind } : {}),
    ...(s.entity ? { entity: s.entity } : {}),
    createdAt: toIso(s.createdAt),
    expiresAt: toIso(s.expiresAt),
    createdBy: s.createdBy,
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.incidentId ? { incidentId: s.incidentId } : {}),
    active: s.createdAt <= now && s.expiresAt > now,
    suppressed: s.suppressed ?? 0,
  };
}
