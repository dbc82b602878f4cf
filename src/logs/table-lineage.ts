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
