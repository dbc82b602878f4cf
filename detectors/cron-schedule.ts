import { CronExpressionParser } from 'cron-parser';

/**
 * The first time after `after` (ms) that a DAG's schedule fires, read from the timetable summary
 * Airflow reports (`timetable_summary`: a cron expression or a preset such as `@daily`), in UTC
 * (Airflow's default timezone). Undefined when the summary is not a cron schedule (an asset
 * trigger, a custom timetable, `None`): then nothing can say when a run is due.
 */
export function nextScheduled(timetable: string, after: number): number | undefined {
  try {
    const next = CronExpressionParser.parse(timetable.trim(), { currentDate: new Date(after), tz: 'UTC' })
      .next()
      .getTime();
    return next > after ? next : undefined;
  } catch {
    return undefined;
  }
}
