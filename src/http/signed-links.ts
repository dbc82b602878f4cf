import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Short-lived links to an incident's page, signed with a secret Guardian holds, so a link in a
 * Slack message opens the page without an API key, for one incident, until it expires.
 */
export class LinkSigner {
  readonly #secret: Buffer;
  readonly #lifetimeMs: number;

  /**
   * @param secret shared by every replica (`GUARDIAN_LINK_SECRET`); without one, a random secret
   *   of this process, so links stop working when it restarts.
   * @param lifetimeMs how long a link works. @defaultValue 24 h
   */
  constructor(secret: string | undefined, lifetimeMs = 86_400_000) {
    this.#secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
    this.#lifetimeMs = lifetimeMs;
  }

  /** The query string (`exp=…&sig=…`) that opens `incidentId`'s page until `now` + lifetime. */
  sign(incidentId: string, now: number): string {
    const exp = Math.floor((now + this.#lifetimeMs) / 1000);
    return `exp=${exp}&sig=${this.#mac(incidentId, exp)}`;
  }

  /** Whether `exp` and `sig` are a valid, unexpired signature for `incidentId`. */
  verify(incidentId: string, exp: unknown, sig: unknown, now: number): boolean {
    if (typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(exp)) return false;
    if (Number(exp) * 1000 <= now) return false;
    const expected = Buffer.from(this.#mac(incidentId, Number(exp)));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #mac(incidentId: string, exp: number): string {
    return createHmac('sha256', this.#secret)
      .update(`incident-page\n${incidentId}\n${exp}`)
      .digest('base64url');
  }
}
