/**
 * Fault tests run CI-sized by default and longer locally with `GUARDIAN_FAULTS=long` (outages as
 * long as the issue describes them, more repetitions).
 */
export function faultScale<T>(sizes: { ci: T; long: T }): T {
  return process.env.GUARDIAN_FAULTS === 'long' ? sizes.long : sizes.ci;
}
