import {
  type DecodedHistogramPoint,
  type DecodedMetric,
  type DecodedNumberPoint,
  type DecodedRequest,
  emptyMetric,
  MalformedOtlpError,
  type MetricKind,
} from './decoded.ts';

type Json = Record<string, unknown>;

/**
 * The OTLP/JSON mapping of `ExportMetricsServiceRequest`: lowerCamelCase keys, enums as integers,
 * 64-bit integers as decimal strings (numbers accepted too), unknown fields ignored. Structure
 * that is not OTLP (a list where an object belongs…) is a {@link MalformedOtlpError}; a bad value
 * inside one point is left for normalisation to reject, so the rest of the request survives.
 */
export function decodeMetricsRequestJson(text: string): DecodedRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new MalformedOtlpError(`body is not JSON: ${(err as Error).message}`);
  }
  const root = object(body, 'body');
  const list = array(root.resourceMetrics, 'resourceMetrics');
  return {
    resourceMetrics: list.map((rmRaw, i) => {
      const rm = object(rmRaw, `resourceMetrics[${i}]`);
      const resource = rm.resource === undefined ? {} : object(rm.resource, `resourceMetrics[${i}].resource`);
      const attributes = attributesOf(resource.attributes, `resourceMetrics[${i}].resource.attributes`);
      const metrics: DecodedMetric[] = [];
      array(rm.scopeMetrics, `resourceMetrics[${i}].scopeMetrics`).forEach((smRaw, j) => {
        const sm = object(smRaw, `resourceMetrics[${i}].scopeMetrics[${j}]`);
        array(sm.metrics, `resourceMetrics[${i}].scopeMetrics[${j}].metrics`).forEach((mRaw, k) => {
          metrics.push(metricOf(mRaw, `resourceMetrics[${i}].scopeMetrics[${j}].metrics[${k}]`));
        });
      });
      return { attributes, metrics };
    }),
  };
}

const KINDS: readonly [string, MetricKind][] = [
  ['gauge', 'gauge'],
  ['sum', 'sum'],
  ['histogram', 'histogram'],
  ['exponentialHistogram', 'exponential_histogram'],
  ['summary', 'summary'],
];

function metricOf(raw: unknown, at: string): DecodedMetric {
  const m = object(raw, at);
  const out = emptyMetric();
  out.name = typeof m.name === 'string' ? m.name : '';
  out.unit = typeof m.unit === 'string' ? m.unit : '';
  for (const [key, kind] of KINDS) {
    if (m[key] === undefined) continue;
    const data = object(m[key], `${at}.${key}`);
    out.kind = kind;
    out.temporality = toNumber(data.aggregationTemporality) ?? 0;
    out.monotonic = data.isMonotonic === true;
    const points = array(data.dataPoints, `${at}.${key}.dataPoints`);
    if (kind === 'gauge' || kind === 'sum')
      out.numberPoints = points.map((p, i) => numberPoint(p, `${at}.${key}.dataPoints[${i}]`));
    else if (kind === 'histogram')
      out.histogramPoints = points.map((p, i) => histogramPoint(p, `${at}.${key}.dataPoints[${i}]`));
    else out.otherPoints = points.length;
    break;
  }
  return out;
}

function numberPoint(raw: unknown, at: string): DecodedNumberPoint {
  const p = object(raw, at);
  const asDouble = toNumber(p.asDouble);
  const asInt = toNumber(p.asInt);
  return {
    attributes: attributesOf(p.attributes, `${at}.attributes`),
    startMs: nanosToMs(p.startTimeUnixNano),
    timeMs: nanosToMs(p.timeUnixNano),
    // A value that is present but not a number is kept as NaN, so the point is rejected, not lost silently.
    value: asDouble ?? asInt ?? (p.asDouble !== undefined || p.asInt !== undefined ? Number.NaN : undefined),
    flags: toNumber(p.flags) ?? 0,
  };
}

function histogramPoint(raw: unknown, at: string): DecodedHistogramPoint {
  const p = object(raw, at);
  return {
    attributes: attributesOf(p.attributes, `${at}.attributes`),
    startMs: nanosToMs(p.startTimeUnixNano),
    timeMs: nanosToMs(p.timeUnixNano),
    count: toNumber(p.count) ?? 0,
    sum: toNumber(p.sum),
    min: toNumber(p.min),
    max: toNumber(p.max),
    bucketCounts: (p.bucketCounts === undefined ? [] : array(p.bucketCounts, `${at}.bucketCounts`)).map(
      (v) => toNumber(v) ?? Number.NaN,
    ),
    explicitBounds: (p.explicitBounds === undefined
      ? []
      : array(p.explicitBounds, `${at}.explicitBounds`)
    ).map((v) => toNumber(v) ?? Number.NaN),
    flags: toNumber(p.flags) ?? 0,
  };
}

function attributesOf(raw: unknown, at: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  array(raw, at).forEach((kvRaw, i) => {
    const kv = object(kvRaw, `${at}[${i}]`);
    if (typeof kv.key !== 'string') throw new MalformedOtlpError(`${at}[${i}].key must be a string`);
    out[kv.key] = anyValue(kv.value);
  });
  return out;
}

function anyValue(raw: unknown): string {
  if (!raw || typeof raw !== 'object') return '';
  const v = raw as Json;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return String(v.boolValue);
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  if (v.arrayValue && typeof v.arrayValue === 'object') {
    const values = (v.arrayValue as Json).values;
    return JSON.stringify(Array.isArray(values) ? values.map(anyValue) : []);
  }
  if (v.kvlistValue && typeof v.kvlistValue === 'object') {
    const map: Record<string, string> = {};
    const values = (v.kvlistValue as Json).values;
    if (Array.isArray(values))
      for (const kv of values as Json[]) if (typeof kv?.key === 'string') map[kv.key] = anyValue(kv.value);
    return JSON.stringify(map);
  }
  return '';
}

/** uint64 nanoseconds (decimal string or number) to epoch ms; 0 when absent or not a number. */
function nanosToMs(raw: unknown): number {
  if (typeof raw === 'number') return Number.isFinite(raw) ? Math.floor(raw / 1e6) : 0;
  if (typeof raw === 'string' && /^\d{1,20}$/.test(raw)) {
    // Drop the last six digits instead of dividing a number that may exceed 2^53.
    return raw.length <= 6 ? 0 : Number(raw.slice(0, -6));
  }
  return 0;
}

function toNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') {
    const n = Number(raw);
    return Number.isNaN(n) && !/^NaN$/i.test(raw) ? undefined : n;
  }
  return undefined;
}

function object(raw: unknown, at: string): Json {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new MalformedOtlpError(`${at} must be an object`);
  return raw as Json;
}

function array(raw: unknown, at: string): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new MalformedOtlpError(`${at} must be an array`);
  return raw;
}
