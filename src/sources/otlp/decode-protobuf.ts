import {
  type DecodedHistogramPoint,
  type DecodedMetric,
  type DecodedNumberPoint,
  type DecodedRequest,
  type DecodedResourceMetrics,
  emptyMetric,
  MalformedOtlpError,
  nanosPartsToMs,
} from './decoded.ts';

/**
 * A zero-dependency decoder for `ExportMetricsServiceRequest` (opentelemetry-proto
 * `collector/metrics/v1` and `metrics/v1`), written for the hot path: one pass, no reflection,
 * unknown fields skipped by wire type.
 */
export function decodeMetricsRequest(bytes: Uint8Array): DecodedRequest {
  const r = new Reader(bytes);
  const resourceMetrics: DecodedResourceMetrics[] = [];
  while (r.pos < r.end) {
    const tag = r.varint32();
    if (tag === ((1 << 3) | 2)) resourceMetrics.push(resourceMetricsOf(r, r.sub()));
    else r.skip(tag);
  }
  return { resourceMetrics };
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

class Reader {
  readonly buf: Buffer;
  readonly view: DataView;
  pos: number;
  end: number;

  constructor(buf: Uint8Array) {
    // A Buffer view of the same bytes (no copy): its utf8 slicing is much faster than TextDecoder.
    this.buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
    this.end = buf.length;
  }

  varint32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new MalformedOtlpError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else if (shift === 28) result |= (b & 0x0f) << 28;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 63) throw new MalformedOtlpError(`varint longer than 10 bytes at byte ${this.pos}`);
    }
  }

  /** A 64-bit varint as a number (exact up to 2^53). */
  varint64(): number {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new MalformedOtlpError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 63) throw new MalformedOtlpError(`varint longer than 10 bytes at byte ${this.pos}`);
    }
    // Negative int64s (two's complement in 10 bytes) come out negative.
    return (hi | 0) * 4294967296 + (lo >>> 0);
  }

  fixed64Ms(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return nanosPartsToMs(hi, lo);
  }

  fixed64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }

  sfixed64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getInt32(this.pos + 4, true);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Reads a length prefix and returns the end of that sub-message; `pos` is at its start. */
  sub(): number {
    const len = this.varint32();
    const end = this.pos + len;
    if (end > this.end)
      throw new MalformedOtlpError(`length ${len} at byte ${this.pos} runs past the end of its message`);
    return end;
  }

  string(): string {
    const end = this.sub();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  skip(tag: number): void {
    switch (tag & 7) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_I64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.pos = this.sub();
        return;
      case WIRE_I32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new MalformedOtlpError(
          `unsupported wire type ${tag & 7} (field ${tag >>> 3}) at byte ${this.pos}`,
        );
    }
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw new MalformedOtlpError(`truncated field at byte ${this.pos}`);
  }

  /** Runs `fn` for each field until `end`, with `this.end` narrowed to it. */
  within(end: number, fn: (tag: number) => void): void {
    const outer = this.end;
    this.end = end;
    while (this.pos < end) fn(this.varint32());
    this.end = outer;
  }
}

function resourceMetricsOf(r: Reader, end: number): DecodedResourceMetrics {
  const attributes: Record<string, string> = {};
  const metrics: DecodedMetric[] = [];
  r.within(end, (tag) => {
    if (tag === ((1 << 3) | 2)) {
      // Resource
      r.within(r.sub(), (t) => (t === ((1 << 3) | 2) ? keyValueInto(r, r.sub(), attributes) : r.skip(t)));
    } else if (tag === ((2 << 3) | 2)) {
      // ScopeMetrics
      r.within(r.sub(), (t) => (t === ((2 << 3) | 2) ? metrics.push(metricOf(r, r.sub())) : r.skip(t)));
    } else r.skip(tag);
  });
  return { attributes, metrics };
}

function metricOf(r: Reader, end: number): DecodedMetric {
  const m = emptyMetric();
  r.within(end, (tag) => {
    switch (tag) {
      case (1 << 3) | 2:
        m.name = r.string();
        break;
      case (3 << 3) | 2:
        m.unit = r.string();
        break;
      case (5 << 3) | 2:
        m.kind = 'gauge';
        dataOf(r, r.sub(), m);
        break;
      case (7 << 3) | 2:
        m.kind = 'sum';
        dataOf(r, r.sub(), m);
        break;
      case (9 << 3) | 2:
        m.kind = 'histogram';
        dataOf(r, r.sub(), m);
        break;
      case (10 << 3) | 2:
        m.kind = 'exponential_histogram';
        dataOf(r, r.sub(), m);
        break;
      case (11 << 3) | 2:
        m.kind = 'summary';
        dataOf(r, r.sub(), m);
        break;
      default:
        r.skip(tag);
    }
  });
  return m;
}

/** Gauge, Sum, Histogram, ExponentialHistogram, Summary: data_points = 1, temporality = 2, monotonic = 3. */
function dataOf(r: Reader, end: number, m: DecodedMetric): void {
  r.within(end, (tag) => {
    if (tag === ((1 << 3) | 2)) {
      const pointEnd = r.sub();
      if (m.kind === 'gauge' || m.kind === 'sum') m.numberPoints.push(numberPointOf(r, pointEnd));
      else if (m.kind === 'histogram') m.histogramPoints.push(histogramPointOf(r, pointEnd));
      else {
        m.otherPoints++;
        r.pos = pointEnd;
      }
    } else if (tag === ((2 << 3) | WIRE_VARINT)) m.temporality = r.varint32();
    else if (tag === ((3 << 3) | WIRE_VARINT)) m.monotonic = r.varint32() !== 0;
    else r.skip(tag);
  });
}

function numberPointOf(r: Reader, end: number): DecodedNumberPoint {
  const p: DecodedNumberPoint = { attributes: {}, startMs: 0, timeMs: 0, value: undefined, flags: 0 };
  // Hot path: a plain loop rather than `within` with a closure per point.
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    const tag = r.varint32();
    switch (tag) {
      case (7 << 3) | 2:
        keyValueInto(r, r.sub(), p.attributes);
        break;
      case (2 << 3) | WIRE_I64:
        p.startMs = r.fixed64Ms();
        break;
      case (3 << 3) | WIRE_I64:
        p.timeMs = r.fixed64Ms();
        break;
      case (4 << 3) | WIRE_I64:
        p.value = r.double();
        break;
      case (6 << 3) | WIRE_I64:
        p.value = r.sfixed64();
        break;
      case (8 << 3) | WIRE_VARINT:
        p.flags = r.varint32();
        break;
      default:
        r.skip(tag);
    }
  }
  r.end = outer;
  return p;
}

function histogramPointOf(r: Reader, end: number): DecodedHistogramPoint {
  const p: DecodedHistogramPoint = {
    attributes: {},
    startMs: 0,
    timeMs: 0,
    count: 0,
    sum: undefined,
    min: undefined,
    max: undefined,
    bucketCounts: [],
    explicitBounds: [],
    flags: 0,
  };
  r.within(end, (tag) => {
    switch (tag) {
      case (9 << 3) | 2:
        keyValueInto(r, r.sub(), p.attributes);
        break;
      case (2 << 3) | WIRE_I64:
        p.startMs = r.fixed64Ms();
        break;
      case (3 << 3) | WIRE_I64:
        p.timeMs = r.fixed64Ms();
        break;
      case (4 << 3) | WIRE_I64:
        p.count = r.fixed64();
        break;
      case (5 << 3) | WIRE_I64:
        p.sum = r.double();
        break;
      case (6 << 3) | 2: {
        const e = r.sub();
        if ((e - r.pos) % 8 !== 0)
          throw new MalformedOtlpError(`packed bucket_counts length not a multiple of 8 at byte ${r.pos}`);
        while (r.pos < e) p.bucketCounts.push(r.fixed64());
        break;
      }
      case (6 << 3) | WIRE_I64:
        p.bucketCounts.push(r.fixed64());
        break;
      case (7 << 3) | 2: {
        const e = r.sub();
        if ((e - r.pos) % 8 !== 0)
          throw new MalformedOtlpError(`packed explicit_bounds length not a multiple of 8 at byte ${r.pos}`);
        while (r.pos < e) p.explicitBounds.push(r.double());
        break;
      }
      case (7 << 3) | WIRE_I64:
        p.explicitBounds.push(r.double());
        break;
      case (10 << 3) | WIRE_VARINT:
        p.flags = r.varint32();
        break;
      case (11 << 3) | WIRE_I64:
        p.min = r.double();
        break;
      case (12 << 3) | WIRE_I64:
        p.max = r.double();
        break;
      default:
        r.skip(tag);
    }
  });
  return p;
}

function keyValueInto(r: Reader, end: number, into: Record<string, string>): void {
  let key = '';
  let value = '';
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    const tag = r.varint32();
    if (tag === ((1 << 3) | 2)) key = r.string();
    else if (tag === ((2 << 3) | 2)) {
      const valueEnd = r.sub();
      const valueStart = r.pos;
      // The common case, AnyValue{string_value} alone, without the general decoder.
      if (r.buf[r.pos] === ((1 << 3) | 2)) {
        r.pos++;
        const stringEnd = r.sub();
        if (stringEnd === valueEnd) {
          value = r.buf.toString('utf8', r.pos, stringEnd);
          r.pos = stringEnd;
          continue;
        }
        r.pos = valueStart;
        value = anyValueOf(r, valueEnd);
      } else value = anyValueOf(r, valueEnd);
    } else r.skip(tag);
  }
  r.end = outer;
  into[key] = value;
}

/** AnyValue as a string: scalars as written, arrays and maps as JSON. */
function anyValueOf(r: Reader, end: number): string {
  let out = '';
  r.within(end, (tag) => {
    switch (tag) {
      case (1 << 3) | 2:
        out = r.string();
        break;
      case (2 << 3) | WIRE_VARINT:
        out = r.varint32() !== 0 ? 'true' : 'false';
        break;
      case (3 << 3) | WIRE_VARINT:
        out = String(r.varint64());
        break;
      case (4 << 3) | WIRE_I64:
        out = String(r.double());
        break;
      case (5 << 3) | 2: {
        const values: string[] = [];
        r.within(r.sub(), (t) => (t === ((1 << 3) | 2) ? values.push(anyValueOf(r, r.sub())) : r.skip(t)));
        out = JSON.stringify(values);
        break;
      }
      case (6 << 3) | 2: {
        const map: Record<string, string> = {};
        r.within(r.sub(), (t) => (t === ((1 << 3) | 2) ? keyValueInto(r, r.sub(), map) : r.skip(t)));
        out = JSON.stringify(map);
        break;
      }
      case (7 << 3) | 2: {
        const e = r.sub();
        out = r.buf.toString('base64', r.pos, e);
        r.pos = e;
        break;
      }
      default:
        r.skip(tag);
    }
  });
  return out;
}

/** `ExportMetricsServiceResponse`, with `partial_success` only when something was rejected or said. */
export function encodeMetricsResponse(rejected: number, errorMessage: string): Uint8Array {
  if (rejected === 0 && !errorMessage) return new Uint8Array(0);
  const inner: number[] = [];
  if (rejected > 0) {
    inner.push((1 << 3) | WIRE_VARINT);
    pushVarint(inner, rejected);
  }
  if (errorMessage) pushString(inner, 2, errorMessage);
  const out: number[] = [(1 << 3) | 2];
  pushVarint(out, inner.length);
  return Uint8Array.from([...out, ...inner]);
}

/** `google.rpc.Status{code, message}`. */
export function encodeStatus(code: number, message: string): Uint8Array {
  const out: number[] = [];
  if (code) {
    out.push((1 << 3) | WIRE_VARINT);
    pushVarint(out, code);
  }
  pushString(out, 2, message);
  return Uint8Array.from(out);
}

function pushVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function pushString(out: number[], field: number, s: string): void {
  const bytes = new TextEncoder().encode(s);
  out.push((field << 3) | 2);
  pushVarint(out, bytes.length);
  for (const b of bytes) out.push(b);
}
