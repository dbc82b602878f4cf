/** The shape of a JSON value: field names and value types, not values. */
export type Shape = string | Shape[] | { [key: string]: Shape };

export function shapeOf(value: unknown): Shape {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (typeof value === 'object') {
    const out: Record<string, Shape> = {};
    for (const k of Object.keys(value as object).sort())
      out[k] = shapeOf((value as Record<string, unknown>)[k]);
    return out;
  }
  return typeof value;
}

/**
 * Where `candidate` (a stand-in's answer) lacks what `reference` (a real engine's answer) has:
 * missing fields, or different types where neither is null. Fields the stand-in adds are fine.
 */
export function shapeDifferences(reference: Shape, candidate: Shape, at = '$'): string[] {
  if (reference === 'null' || candidate === 'null') return [];
  if (Array.isArray(reference)) {
    if (!Array.isArray(candidate)) return [`${at}: array expected, got ${describe(candidate)}`];
    if (reference.length === 0 || candidate.length === 0) return [];
    return shapeDifferences(reference[0]!, candidate[0]!, `${at}[]`);
  }
  if (typeof reference === 'object') {
    if (typeof candidate !== 'object' || Array.isArray(candidate))
      return [`${at}: object expected, got ${describe(candidate)}`];
    const out: string[] = [];
    for (const [k, v] of Object.entries(reference)) {
      if (!(k in candidate)) out.push(`${at}.${k}: missing`);
      else out.push(...shapeDifferences(v, candidate[k]!, `${at}.${k}`));
    }
    return out;
  }
  return reference === candidate ? [] : [`${at}: ${reference} expected, got ${describe(candidate)}`];
}

function describe(s: Shape): string {
  return Array.isArray(s) ? 'array' : typeof s === 'object' ? 'object' : s;
}
