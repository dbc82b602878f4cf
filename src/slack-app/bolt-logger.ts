import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import { errorMessage } from '../core/index.ts';
import type { Logger } from '../telemetry/logger.ts';

const LEVELS: readonly LogLevel[] = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];

/**
 * Bolt's logger interface on Guardian's logger, never below warnings whatever level Bolt is given:
 * Bolt's debug lines can carry whole request bodies (and its Web API client's, request details),
 * and its info lines say nothing an operator needs.
 */
export function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.WARN;
  const on = (l: LogLevel) =>
    LEVELS.indexOf(l) >= Math.max(LEVELS.indexOf(level), LEVELS.indexOf(LogLevel.WARN));
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : errorMessage(m))).join(' ');
  return {
    debug: () => {},
    info: () => {},
    warn: (...msg) => {
      if (on(LogLevel.WARN)) log.warn(text(msg));
    },
    error: (...msg) => {
      if (on(LogLevel.ERROR)) log.error(text(msg));
    },
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
