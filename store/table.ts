import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one table's key schema and indexes, declared once and shared by the code and `infra/storage.ts`
 * so they cannot drift. Every index is declared up front: dynalite accepts an `UpdateTable` that adds
 * a GSI and silently creates nothing, so a new index means a new schema version and a rebuild by replay.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** generic, overloaded global secondary indexes (see store/keys.ts for what each holds) */
  indexes: {
    gsi1: { partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    gsi2: { partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    gsi3: { partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
    /** sparse: only records waiting for the processor (inbox) or the publisher (outbox) */
    queue: { partitionKey: 'qpk', sortKey: 'qsk' },
  },
  ttlAttribute: 'expiresAt',
} as const;

export type IndexName = keyof typeof TABLE_SCHEMA.indexes;

/** What each index holds besides its keys and the table's. */
export const projectionOf = (_index: IndexName): { type: 'ALL' | 'INCLUDE' | 'KEYS_ONLY'; nonKeyAttributes?: readonly string[] } => ({ type: 'ALL' });

/**
 * Bump when keys or index contents change; the index is then rebuilt by replaying stored deliveries,
 * unless the change can be made in place (store/schema-upgrade.ts).
 * 2: deliveries listed by status, connection and source; WIP rows per person and team; the tenants index.
 * 3: inbound markers in item partitions (batched processing), the event log, subscriptions;
 *    upgraded in place from 2.
 */
export const SCHEMA_VERSION = 3;

/** The version an upgrade in place starts from (store/schema-upgrade.ts). */
export const UPGRADABLE_SCHEMA_VERSION = 2;

export const createTableInput = (tableName: string): CreateTableCommandInput => {
  const indexes = Object.entries(TABLE_SCHEMA.indexes);
  const keyAttributes = [
    TABLE_SCHEMA.partitionKey,
    TABLE_SCHEMA.sortKey,
    ...indexes.flatMap(([, index]) => [index.partitionKey, index.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: indexes.map(([name, index]) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
};
