/**
 * A tiny protobuf writer for tests: builds OTLP messages field by field, so tests can make
 * exactly the bytes they need (unknown fields, unpacked repeats, truncation) without depending on
 * the decoder under test.
 */
export class ProtoWriter {
  readonly #bytes: number[] = [];

  varint(field: number, value: number | bigint): this {
    this.#tag(field, 0);
    this.#rawVarint(BigInt.asUintN(64, BigInt(value)));
    return this;
  }

  fixed64(field: number, value: bigint): this {
    this.#tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, value));
    this.#bytes.push(...b);
    return this;
  }

  double(field: number, value: number): this {
    this.#tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.#bytes.push(...b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, build: (w: ProtoWriter) => unknown): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, 2);
    this.#rawVarint(BigInt(value.length));
    this.#bytes.push(...value);
    return this;
  }

  /** Packed repeated fixed64 / double. */
  packedFixed64(field: number, values: bigint[]): this {
    const b = Buffer.alloc(values.length * 8);
    values.forEach((v, i) => {
      b.writeBigUInt64LE(v, i * 8);
    });
    return this.bytes(field, b);
  }

  packedDouble(field: number, values: number[]): this {
    const b = Buffer.alloc(values.length * 8);
    values.forEach((v, i) => {
      b.writeDoubleLE(v, i * 8);
    });
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  #tag(field: number, wire: number) {
    this.#rawVarint(BigInt((field << 3) | wire));
  }

  #rawVarint(v: bigint) {
    let x = v;
    while (x >= 0x80n) {
      this.#bytes.push(Number((x & 0x7fn) | 0x80n));
      x >>= 7n;
    }
    this.#bytes.push(Number(x));
  }
}

/** KeyValue{key, value: AnyValue{string_value}} */
export const kv = (key: string, value: string) => (w: ProtoWriter) =>
  w.string(1, key).message(2, (v) => v.string(1, value));

/** A request with one resource and one gauge metric of the given points. */
export function gaugeRequest(
  name: string,
  points: { nanos: bigint; value?: number; asInt?: bigint; attrs?: Record<string, string> }[],
  resource: Record<string, string> = { 'service.name': 'svc' },
): Uint8Array {
  return new ProtoWriter()
    .message(1, (rm) =>
      rm
        .message(1, (r) => {
          for (const [k, v] of Object.entries(resource)) r.message(1, kv(k, v));
        })
        .message(2, (sm) =>
          sm.message(2, (m) =>
            m.string(1, name).message(5, (g) => {
              for (const p of points) {
                g.message(1, (dp) => {
                  for (const [k, v] of Object.entries(p.attrs ?? {})) dp.message(7, kv(k, v));
                  dp.fixed64(3, p.nanos);
                  if (p.value !== undefined) dp.double(4, p.value);
                  if (p.asInt !== undefined) dp.fixed64(6, p.asInt);
                });
              }
            }),
          ),
        ),
    )
    .finish();
}
