/**
 * Replay benchmark: how much faster than real time Guardian replays scenarios through its real
 * pipeline (stand-ins over HTTP, sources, OTLP receiver, detectors, correlator, dynalite store,
 * notifier). Prints, per scenario, the virtual span, the wall-clock time and the speed-up, and the
 * wall-clock time a 3-hour scenario takes: the shipped demo stretched to 3 hours of virtual time
 * (after its story ends the pollers keep polling and the detectors keep ticking, as they would).
 *
 *   node bench/replay.ts [SCENARIO.json ...]   (default: the demo and ../shared/scenarios/open)
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DEMO_SCENARIO } from '../src/replay/commands.ts';
import { replay } from '../src/replay/runner.ts';
import { loadScenario, type Scenario } from '../src/replay/scenario.ts';
import { silentLogger } from '../src/telemetry/logger.ts';

const open = path.resolve(import.meta.dirname, '../../shared/scenarios/open');
const files = process.argv.slice(2);
if (files.length === 0) {
  files.push(DEMO_SCENARIO);
  if (existsSync(open))
    for (const f of readdirSync(open).sort()) if (f.endsWith('.json')) files.push(path.join(open, f));
}

async function run(scenario: Scenario): Promise<{ virtualMs: number; wallMs: number; incidents: number }> {
  const t0 = performance.now();
  const exported = await replay(scenario, { logger: silentLogger() });
  const wallMs = performance.now() - t0;
  return {
    virtualMs: Date.parse(scenario.end) - Date.parse(scenario.start),
    wallMs,
    incidents: exported.incidents.length,
  };
}

const minutes = (ms: number) => `${(ms / 60_000).toFixed(0)} min`;
console.log('scenario                                  virtual    wall      speed-up  incidents');
for (const file of files) {
  const scenario = loadScenario(file);
  const r = await run(scenario);
  console.log(
    `${scenario.name.padEnd(40)}  ${minutes(r.virtualMs).padStart(7)}  ${(r.wallMs / 1000).toFixed(1).padStart(6)} s  ${(r.virtualMs / r.wallMs).toFixed(0).padStart(6)}×  ${String(r.incidents).padStart(9)}`,
  );
}

const demo = loadScenario(DEMO_SCENARIO);
const threeHours = { ...demo, end: new Date(Date.parse(demo.start) + 3 * 3_600_000).toISOString() };
const r = await run(threeHours);
console.log(
  `\n3-hour scenario (demo stretched to 3 h): ${(r.wallMs / 1000).toFixed(1)} s wall clock, ${(r.virtualMs / r.wallMs).toFixed(0)}× real time (target: under 60 s)`,
);
