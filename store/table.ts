import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The one table's key schema and indexes, declared once and shared by the code and `infra/storage.ts`
 * so they cannot drift. Every index is declared up front: dynalite accepts an `UpdateTable` that adds
 * a GSI and silently creates nothing, so a new index means a new schema version and a rebuild by replay.
 * A narrower projection changes no row: a table created with a wider one still answers every query,
 * and `npm run tributary -- copy` moves its rows into a table with today's indexes (store/table-copy.ts).
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** generic, overloaded global secondary indexes (see store/keys.ts for what each holds) */
  indexes: {
    gsi1: { partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    gsi2: { partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    gsi3: { partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
    /**
     * sparse: only records waiting for the processor (inbox), the publisher (outbox) or another
     * queue. Projects what its readers read (the pending deliveries' listing, store/deliveries.ts,
     * reads the most), not a delivery's body: an ack then writes 1 KB into it, not the record's 3.
     */
    queue: {
      partitionKey: 'qpk',
      sortKey: 'qsk',
      projection: [
        'tenantId',
        'connectionId',
        'source',
        'deliveryId',
        'event',
        'bodySha256',
        'bodyBytes',
        'bodyParts',
        'receivedAt',
        'status',
        'attempts',
        'reason',
        'processedAt',
        'expiresAt',
        // an outbox marker's events (store/event-log.ts)
        'cursors',
      ],
    },
  },
  ttlAttribute: 'expiresAt',
} as const;

export type IndexName = keyof typeof TABLE_SCHEMA.indexes;

export interface Projection {
  type: 'ALL' | 'INCLUDE';
  /** with INCLUDE: what the index holds besides its keys and the table's */
  nonKeyAttributes?: readonly string[];
}

/** What an index holds: every attribute, or its keys, the table's and the attributes it names. */
export const projectionOf = (index: IndexName): Projection => {
  const declared = TABLE_SCHEMA.indexes[index];
  return 'projection' in declared ? { type: 'INCLUDE', nonKeyAttributes: declared.projection } : { type: 'ALL' };
};

/**
 * Bump when keys or what rows hold change (not when an index holds less: see TABLE_SCHEMA); the
 * index is then rebuilt by replaying stored deliveries,
 * unless the change can be made in place (store/schema-upgrade.ts).
 * 2: deliveries listed by status, connection and source; WIP rows per person and team; the tenants index.
 * 3: inbound markers in item partitions (batched processing), the event log, subscriptions;
 *    upgraded in place from 2.
 * 4: item records compressed (store/item-codec.ts); upgraded in place from 3 by setting the version,
 *    since records written before are read as they are: the version is what keeps an older
 *    Tributary, which cannot read the new records, from starting on the table.
 * 5: owner and label entries are table rows in the partition of their value, not rows of the
 *    item's partition listed on gsi1: one write unit each instead of two, and a list by owner or
 *    label reads the table. Upgraded in place from 2–4 by a scan that moves them.
 */
export const SCHEMA_VERSION = 5;

/** The versions an upgrade in place starts from (store/schema-upgrade.ts). */
export const UPGRADABLE_SCHEMA_VERSIONS: readonly number[] = [2, 3, 4];

/** The version since which item partitions where rows of others wait hold an inbound marker. */
export const INBOUND_MARKERS_VERSION = 3;

/** The version since which owner and label entries are rows of their value's partition. */
export const FACET_PARTITIONS_VERSION = 5;

const projectionInput = ({ type, nonKeyAttributes }: Projection) => (nonKeyAttributes ? { ProjectionType: type, NonKeyAttributes: [...nonKeyAttributes] } : { ProjectionType: type });

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
      Projection: projectionInput(projectionOf(name as IndexName)),
    })),
  };
};
