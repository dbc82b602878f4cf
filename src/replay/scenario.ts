import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { AirflowScenario } from '../stand-ins/airflow.ts';
import type { SparkScenario } from '../stand-ins/spark.ts';

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO-8601 time');

const metricSchema = z.looseObject({
  resource: z.record(z.string(), z.string()).default({}),
  name: z.string().min(1),
  type: z.enum(['gauge', 'sum']),
  monotonic: z.boolean().optional(),
  temporality: z.enum(['cumulative', 'delta']).optional(),
  unit: z.string().default(''),
  attributes: z.record(z.string(), z.string()).default({}),
  start: isoTime,
  interval_s: z.number().positive(),
  values: z.array(z.number().nullable()),
});

/** `guardian-scenario/1`, as `../shared/scenarios/FORMAT.md` describes it. */
export const scenarioSchema = z.looseObject({
  format: z.literal('guardian-scenario/1'),
  name: z.string().min(1),
  summary: z.string().optional(),
  start: isoTime,
  end: isoTime,
  airflow: z.looseObject({}).optional(),
  spark: z.looseObject({}).optional(),
  loki: z
    .looseObject({
      streams: z.array(
        z.looseObject({
          labels: z.record(z.string(), z.string()),
          entries: z.array(z.tuple([isoTime, z.string()])),
        }),
      ),
    })
    .optional(),
  metrics: z.array(metricSchema).optional(),
  truth: z.looseObject({}).optional(),
});

export type Scenario = z.output<typeof scenarioSchema> & { airflow?: AirflowScenario; spark?: SparkScenario };
export type ScenarioMetric = z.output<typeof metricSchema>;

/** A scenario that breaks the format; `field` is where (`metrics[3].values[12]`). */
export class ScenarioError extends Error {
  readonly field: string;
  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`);
    this.field = field;
  }
}

export function loadScenario(file: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScenarioError(file, '(file)', (err as Error).message);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field =
      issue.path.reduce<string>(
        (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
        '',
      ) || '(root)';
    throw new ScenarioError(file, field, issue.message);
  }
  if (Date.parse(parsed.data.end) <= Date.parse(parsed.data.start))
    throw new ScenarioError(file, 'end', 'must be after start');
  return parsed.data as Scenario;
}
