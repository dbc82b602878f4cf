import { createHash } from 'node:crypto';

/**
 * A short deterministic id from its parts: the same parts always give the same id. Used for signal
 * fingerprints, incident ids and timeline event ids, so that retried work writes the same keys.
 */
export function stableId(prefix: string, ...parts: readonly (string | number)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(String(p));
    h.update('\u0000');
  }
  return `${prefix}${h.digest('base64url').slice(0, 22)}`;
}
