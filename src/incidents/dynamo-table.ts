/**
 * The layout of Guardian's DynamoDB table: its keys, its two indexes and its TTL attribute. The
 * store creates the table from it (`GUARDIAN_CREATE_TABLE`), and the ECS stack in `deploy/`
 * defines the table from it, so the two cannot drift apart. Shapes are the DynamoDB API's
 * (`CreateTable`), which CloudFormation mirrors field for field.
 */

/** The sparse index of incidents not yet resolved: partition `STATUS#open`. */
export const GSI_OPEN = 'GSI1';
/** The index of every incident: partition `INCIDENTS`. */
export const GSI_ALL = 'GSI2';

/** The attribute DynamoDB TTL deletes items by (epoch seconds): silences and LLM usage counters. */
export const TTL_ATTRIBUTE = 'ttl';

type KeyType = 'HASH' | 'RANGE';

/** One key attribute: its name and its role in a key schema. */
export interface KeyElement {
  readonly AttributeName: string;
  readonly KeyType: KeyType;
}

/** One global secondary index. */
export interface IndexDefinition {
  readonly IndexName: string;
  readonly KeySchema: readonly KeyElement[];
  readonly Projection: { readonly ProjectionType: 'ALL' };
}

/** The table's key schema: `PK` (partition) and `SK` (sort), both strings. */
export const TABLE_KEY_SCHEMA: readonly KeyElement[] = [
  { AttributeName: 'PK', KeyType: 'HASH' },
  { AttributeName: 'SK', KeyType: 'RANGE' },
];

/** Both indexes, sorted by `<openedAt ms, 13 digits>#<id>`, projecting every attribute. */
export const TABLE_INDEXES: readonly IndexDefinition[] = [
  {
    IndexName: GSI_OPEN,
    KeySchema: [
      { AttributeName: 'GSI1PK', KeyType: 'HASH' },
      { AttributeName: 'GSI1SK', KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  },
  {
    IndexName: GSI_ALL,
    KeySchema: [
      { AttributeName: 'GSI2PK', KeyType: 'HASH' },
      { AttributeName: 'GSI2SK', KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  },
];

/** Every key attribute of the table and its indexes: all strings. */
export const TABLE_ATTRIBUTES: readonly { AttributeName: string; AttributeType: 'S' }[] = [
  ...new Set([...TABLE_KEY_SCHEMA, ...TABLE_INDEXES.flatMap((i) => i.KeySchema)].map((k) => k.AttributeName)),
].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const }));

/** On-demand capacity: Guardian's load follows incidents, which come in bursts. */
export const TABLE_BILLING_MODE = 'PAY_PER_REQUEST';

/** The `CreateTable` input for a table of this layout named `tableName`. */
export function tableDefinition(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: TABLE_BILLING_MODE,
    AttributeDefinitions: TABLE_ATTRIBUTES.map((a) => ({ ...a })),
    KeySchema: TABLE_KEY_SCHEMA.map((k) => ({ ...k })),
    GlobalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
      IndexName: i.IndexName,
      KeySchema: i.KeySchema.map((k) => ({ ...k })),
      Projection: { ...i.Projection },
    })),
  } as const;
}
