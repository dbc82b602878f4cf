import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob, globMatches } from './glob.ts';

/** The reference: one `.*` per star, fine for the short texts fast-check makes. */
function reference(glob: string, text: string): boolean {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`, 's').test(text);
}

describe('glob', () => {
  it('matches the whole text, `*` any run (empty included), everything else literally', () => {
    expect(globMatches('host:10.0.4.*', 'host:10.0.4.161')).toBe(true);
    expect(globMatches('host:10.0.4.*', 'host:10.0.5.161')).toBe(false);
    expect(globMatches('host:10.0.4', 'host:10.0.4.161')).toBe(false);
    expect(globMatches('a*b*c', 'abc')).toBe(true);
    expect(globMatches('a*b*c', 'axxbyyc')).toBe(true);
    expect(globMatches('a*b*c', 'axxcyyb')).toBe(false);
    expect(globMatches('ab*ba', 'aba')).toBe(false);
    expect(globMatches('*', '')).toBe(true);
    expect(globMatches('a.b', 'axb')).toBe(false);
    expect(globMatches('aab*', 'aaab')).toBe(false);
    expect(globMatches('*aab', 'aaab')).toBe(true);
    expect(globMatches('*abab*', 'aabaabab')).toBe(true);
  });

  it('agrees with a regular expression on random globs and texts', () => {
    const alphabet = fc.constantFrom('a', 'b', '*', '.', ':');
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 10 }),
        fc.string({ unit: alphabet, maxLength: 16 }),
        (glob, text) => {
          expect(globMatches(glob, text)).toBe(reference(glob, text));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('takes time linear in the text, whatever the stars (a regular expression backtracks for seconds)', () => {
    const glob = compileGlob(`${'*a'.repeat(10)}*b`);
    const text = 'a'.repeat(100_000);
    const started = performance.now();
    expect(glob.test(text)).toBe(false);
    // 100 k characters, 10 stars: milliseconds; the regular expression would not finish.
    expect(performance.now() - started).toBeLessThan(200);
    expect(glob.stars).toBe(11);
    expect(glob.literalLength).toBe(11);
  });
});
