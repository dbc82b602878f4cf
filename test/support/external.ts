/**
 * Called by every helper that starts an outside process (redis-server, moto, Python). In the fast
 * tier (`npm run test:fast`) it throws: a test that needs one belongs in vitest.config.ts's
 * EXTERNAL list, so that the fast tier stays fast and needs nothing installed.
 */
export function needsExternal(what: string): void {
  if (process.env.GUARDIAN_TEST_TIER === 'fast') {
    throw new Error(
      `this test starts ${what}: list its file in EXTERNAL in vitest.config.ts (npm run test:fast runs without outside processes)`,
    );
  }
}
