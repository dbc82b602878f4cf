/**
 * Table lineage from what the sources already carry: the tables a task's statements wrote (its
 * log says what it ran: `MERGE INTO lakehouse.silver.orders …`, a table procedure's
 * `table => 'silver.orders'`), and the tables a failure's text names (Spark's
 * `RelationV2[…] lakehouse.silver.orders`, a missing table, an Iceberg file under the table's
 * location `…/silver.db/orders/data/…`). A failure naming a table is tied to the task that last
 * wrote it. Tables are `namespace.table` (the catalog, when given, is dropped: one catalog's
 * namespace and table name already say which table it is).
 */

/** An identifier part: `orders`, `` `orders` ``. */
const PART = '`?[A-Za-z_][\\w$]*`?';
/** `catalog.namespace.table` or `namespace.table`. */
const IDENT = `${PART}(?:\\.${PART}){1,2}`;

/** Statements that write a table, as a SQL operator logs them. */
const WRITE = new RegExp(
  `\\b(?:MERGE\\s+INTO|INSERT\\s+(?:INTO|OVERWRITE)(?:\\s+TABLE)?|CREATE\\s+(?:OR\\s+REPLACE\\s+)?TABLE(?:\\s+IF\\s+NOT\\s+EXISTS)?|REPLACE\\s+TABLE|ALTER\\s+TABLE|UPDATE|DELETE\\s+FROM|TRUNCATE\\s+TABLE)\\s+(${IDENT})`,
  'gi',
);
/** Iceberg's table procedures (`CALL cat.system.remove_orphan_files(table => 'db.t', …)`) change the table they are given. */
const PROCEDURE = /\bCALL\s+[\w.`]+\s*\([^)]*?\btable\s*=>\s*'([\w.`]+)'/gi;

/** Where a failure's text names a table: Spark's relation in a plan, a table not found. */
const NAMED = new RegExp(
  `(?:RelationV2\\[[^\\]]*\\]\\s+|Table or view not found:\\s*|TABLE_OR_VIEW_NOT_FOUND\\][^\`]*|Table does not exist:\\s*|NoSuchTableException:[^\`\\n]*?)(${IDENT})`,
  'g',
);
/**
 * An Iceberg or Hive table location: `…/{namespace}.db/{table}/data/…` or `…/metadata/…`, or a
 * warehouse laid out without the `.db` suffix (`…/warehouse/{namespace}/{table}/data/…`).
 */
const LOCATION = /\/([A-Za-z_]\w*?)(?:\.db)?\/([A-Za-z_]\w*)\/(?:data|metadata)\//g;
/** Tables a statement reads: `FROM t`, `JOIN t`, a merge's `USING t`. */
const READ = new RegExp(`\\b(?:FROM|JOIN|USING)\\s+(${IDENT})`, 'gi');

/** `namespace.table` of an identifier of 2 or 3 parts (backquotes dropped). */
function table(ident: string): string {
  const parts = ident.replaceAll('`', '').split('.');
  return parts.slice(-2).join('.').toLowerCase();
}

/** Tables a task's log shows it wrote. */
export function tablesWritten(log: string): string[] {
  const out = new Set<string>();
  for (const m of log.matchAll(WRITE)) out.add(table(m[1]!));
  for (const m of log.matchAll(PROCEDURE)) if (m[1]!.includes('.')) out.add(table(m[1]!));
  return [...out];
}

/** Tables a failure's text names as what it read or failed on. */
export function tablesNamed(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(NAMED)) out.add(table(m[1]!));
  for (const m of text.matchAll(LOCATION)) out.add(`${m[1]}.${m[2]}`.toLowerCase());
  return [...out];
}

/**
 * Tables a task's own statements used, written or read (`MERGE INTO t USING s`, `… JOIN t …`): a
 * failed try used them whatever its error says, so work that was changing one of them meanwhile
 * is related to it.
 */
export function tablesUsed(log: string): string[] {
  const out = new Set<string>(tablesWritten(log));
  for (const m of log.matchAll(READ)) out.add(table(m[1]!));
  return [...out];
}

/** The table name without its namespace: a location's namespace directory may differ from the catalog's. */
export function bareTable(t: string): string {
  return t.slice(t.lastIndexOf('.') + 1);
}

/**
 * A write a failure is tied to: a task that wrote a table the failure used, or was writing it.
 * The task-failure detector writes it as evidence; the correlator reads it back.
 */
export interface TableWrite {
  readonly table: string;
  /** The writing task's entity key. */
  readonly task: string;
  /** When its try ended, or, when it was still writing, when it began. */
  readonly at: number;
  /** Still writing when the failure happened: `at` is when its try began. */
  readonly running: boolean;
  /** It began writing after the failed try began: it changed the table while the try used it. */
  readonly under: boolean;
}

/** The evidence label of a table a failure used and the task that last wrote it. */
export const TABLE_LAST_WRITTEN = 'table last written';

/**
 * `silver.orders by airflow:task:… at 2026-…Z`; `since …` when it was still writing; ` while it
 * ran` when it began after the failed try did.
 */
const WRITE_TEXT = /^(\S+) by (airflow:task:\S+) (at|since) (\S+?)( while it ran)?$/;

/** A write as the text of its evidence entry ({@link TABLE_LAST_WRITTEN}). */
export function tableWriteText(w: TableWrite): string {
  return `${w.table} by ${w.task} ${w.running ? 'since' : 'at'} ${new Date(w.at).toISOString()}${w.under ? ' while it ran' : ''}`;
}

/** The write an evidence entry's text says, or undefined when it is not one. */
export function parseTableWrite(text: string): TableWrite | undefined {
  const m = WRITE_TEXT.exec(text);
  const at = m ? Date.parse(m[4]!) : Number.NaN;
  if (!m || Number.isNaN(at)) return undefined;
  return { table: m[1]!, task: m[2]!, at, running: m[3] === 'since', under: m[5] !== undefined };
}
