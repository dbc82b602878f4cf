import { describe, expect, it } from 'vitest';
import { signSlackRequest, verifySlackSignature } from './verify.ts';

// Slack's documented example (docs.slack.dev, "Verifying requests from Slack").
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const TS = '1531420618';

describe('Slack request signatures', () => {
  it('computes the signature of Slack’s documented example', () => {
    expect(signSlackRequest(SECRET, TS, BODY)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('accepts a fresh, correctly signed request and refuses the rest', () => {
    const now = Number(TS) * 1000 + 60_000;
    const sig = signSlackRequest(SECRET, TS, BODY);
    const check = (over: Partial<Parameters<typeof verifySlackSignature>[0]>) =>
      verifySlackSignature({
        signingSecret: SECRET,
        timestamp: TS,
        signature: sig,
        rawBody: BODY,
        now,
        ...over,
      });
    expect(check({})).toEqual({ ok: true });
    expect(check({ rawBody: `${BODY}&x=1` })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ signature: 'v0=short' })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(check({ timestamp: 'abc' })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(check({ now: Number(TS) * 1000 + 5 * 60_000 + 1 })).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
  });
});
