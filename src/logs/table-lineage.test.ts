import { describe, expect, it } from 'vitest';
import {
  bareTable,
  parseTableWrite,
  tablesNamed,
  tablesUsed,
  tablesWritten,
  tableWriteText,
} from './table-lineage.ts';

describe('table lineage from texts', () => {
  it('reads the tables a task wrote from the statements its log shows', () => {
    const log = [
      'INFO - Running statement 1/1: MERGE INTO lakehouse.silver.orders t USING lakehouse.silver.orders_updates s ON t.id = s.id',
      'INFO - Running statement 1/2: INSERT OVERWRITE TABLE `gold`.`kpis` SELECT * FROM silver.orders',
      "INFO - CALL lakehouse.system.remove_orphan_files(table => 'silver.products', older_than => TIMESTAMP '2026-10-26 01:28:41'): 43 files deleted",
      'INFO - Running statement 2/2: CREATE OR REPLACE TABLE ops.audit AS SELECT 1',
    ].join('\n');
    expect(tablesWritten(log).sort()).toEqual(['gold.kpis', 'ops.audit', 'silver.orders', 'silver.products']);
    // what it read is not what it wrote
    expect(tablesWritten('SELECT count(*) FROM lakehouse.silver.orders')).toEqual([]);
  });

  it('reads the tables a failure names: a relation of its plan, a table not found, a file under a table location', () => {
    expect(
      tablesNamed('   +- RelationV2[merchant_id#202L, segment_code#898] lakehouse.silver.dim_merchants'),
    ).toEqual(['silver.dim_merchants']);
    expect(tablesNamed('[TABLE_OR_VIEW_NOT_FOUND] The table or view `gold`.`kpis` cannot be found.')).toEqual(
      ['gold.kpis'],
    );
    expect(
      tablesNamed(
        'Caused by: java.io.FileNotFoundException: No such file or directory: s3a://lake/warehouse/products.db/products/data/dt=2026-10-26/0.parquet',
      ),
    ).toEqual(['products.products']);
    // a class or a module name is not a table
    expect(tablesNamed('org.apache.iceberg.exceptions.RuntimeIOException: Failed to open a file')).toEqual(
      [],
    );
    expect(bareTable('silver.products')).toBe('products');
  });

  it('reads a table location laid out without the .db suffix', () => {
    expect(
      tablesNamed(
        'org.apache.iceberg.exceptions.NotFoundException: Location does not exist: s3://lake-prod/warehouse/silver/assets/data/day=2026-08-27/00178-1.parquet',
      ),
    ).toEqual(['silver.assets']);
  });

  it('reads the tables a statement used, written or read', () => {
    expect(
      tablesUsed(
        'Running statement 1/1: MERGE INTO lakehouse.gold.devices_daily t USING (SELECT s.* FROM lakehouse.silver.devices s LEFT JOIN lakehouse.silver.telemetry e ON e.id = s.id) u ON t.id = u.id',
      ).sort(),
    ).toEqual(['gold.devices_daily', 'silver.devices', 'silver.telemetry']);
    // words after FROM that are no table name are not read as one
    expect(tablesUsed('Fetched 731 records from the API')).toEqual([]);
  });
});

describe('a write as evidence', () => {
  it('reads back what the detector writes, and nothing else', () => {
    const task = 'airflow:task:lakehouse_maintenance/scheduled__2026-08-28T02:10:00+00:00/expire_assets';
    const at = Date.parse('2026-08-28T02:10:05Z');
    for (const w of [
      { table: 'silver.assets', task, at, running: true, under: true },
      { table: 'silver.assets', task, at, running: false, under: false },
    ])
      expect(parseTableWrite(tableWriteText(w))).toEqual(w);
    expect(tableWriteText({ table: 's.t', task, at, running: true, under: true })).toBe(
      `s.t by ${task} since 2026-08-28T02:10:05.000Z while it ran`,
    );
    expect(parseTableWrite('silver.assets by somebody at yesterday')).toBeUndefined();
    expect(parseTableWrite(`s.t by ${task} at not-a-time`)).toBeUndefined();
  });
});
