/**
 * Guardian in a child process for the abuse suite (see guardian-process.ts): argv[2] is the
 * config as JSON; it prints `{"url":…}` once listening, then answers one JSON line per command
 * read on stdin. Logs go to stderr.
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { createGuardian } from '../../src/main.ts';

const config = parseConfig(JSON.parse(process.argv[2] ?? '{}'));
const logger = pino({ level: 'warn', base: { service: 'guardian' } }, pino.destination(2));
const guardian = await createGuardian(config, { logger });
const url = await guardian.listen();
process.stdout.write(`${JSON.stringify({ url })}\n`);

interface AnomalySnapshot {
  series: { series: string; tracks: { model: string }[] }[];
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { command: string; series?: string[] };
  if (command.command === 'stop') {
    await guardian.stop();
    process.exit(0);
  }
  if (command.command === 'stats') {
    (globalThis as { gc?: () => void }).gc?.();
    const wanted = new Set(command.series ?? []);
    const models: Record<string, string[]> = {};
    if (wanted.size > 0) {
      const snap = guardian.engine.snapshot()['metric-anomaly'] as AnomalySnapshot | undefined;
      for (const s of snap?.series ?? [])
        if (wanted.has(s.series)) models[s.series] = s.tracks.map((t) => t.model);
    }
    const memory = process.memoryUsage();
    process.stdout.write(
      `${JSON.stringify({
        rss: memory.rss,
        maxRss: process.resourceUsage().maxRSS * 1024,
        heapUsed: memory.heapUsed,
        sizes: guardian.engine.sizes(),
        models,
      })}\n`,
    );
  }
}
