import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type DynamoDBClientConfig, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { SCHEMA_VERSION, UPGRADABLE_SCHEMA_VERSIONS, createTableInput } from './table.ts';
import { keys } from './keys.ts';
import { claimCurrentVersion } from './schema-state.ts';
import type { RetentionPolicy } from '../core/retention.ts';
import { type StorageRequestListener, meterStorageRequests } from './request-meter.ts';
import { type WriteUnits, meterWriteUnits } from './write-meter.ts';

/** A handle on the work index table: every repository function takes one. */
export interface Db {
  doc: DynamoDBDocumentClient;
  table: string;
  /** how long records that can expire are kept (`expiresAt`); DEFAULT_RETENTION when absent */
  retention?: RetentionPolicy;
}

export interface DbOptions {
  endpoint?: string;
  region?: string;
  table: string;
  /** wraps the low-level client, e.g. to inject faults in tests */
  client?: DynamoDBClient;
  retention?: RetentionPolicy;
  /** told of every request sent to DynamoDB (`tributary_storage_requests_total`) */
  onRequest?: StorageRequestListener;
  /** told of the write units of every write, computed by DynamoDB's rules (store/write-meter.ts; a diagnostic that doubles each write's round trips) */
  onWriteUnits?: (units: WriteUnits) => void;
  /** the endpoint is the embedded engine (store/embedded-engine.ts): requests go unsigned ({@link unsignedAuth}) */
  embedded?: boolean;
  /** puts the client's requests in a lane of the process's requests to one engine (store/request-lanes.ts) */
  lane?: (client: DynamoDBClient) => void;
}

/** DynamoDB's own hosts: `dynamodb.eu-west-1.amazonaws.com`, `dynamodb-fips.…`, VPC endpoints `vpce-….dynamodb.eu-west-1.vpce.amazonaws.com`. */
const AWS_DYNAMODB_HOST = /(?:^|\.)dynamodb(?:-fips)?\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/;

/**
 * The region of an endpoint of DynamoDB on AWS, or undefined for any other endpoint: the embedded
 * engine, or DynamoDB Local on any host (an EC2 host name included).
 */
export const awsEndpointRegion = (endpoint: string): string | undefined => AWS_DYNAMODB_HOST.exec(new URL(endpoint).hostname)?.[1];

/** A client for the table's endpoint: the embedded engine, DynamoDB Local, or DynamoDB on AWS. */
const clientFor = (options: DbOptions): DynamoDBClient => {
  if (!options.endpoint) return new DynamoDBClient({ region: options.region ?? process.env.AWS_REGION ?? 'local' });
  const awsRegion = awsEndpointRegion(options.endpoint);
  if (awsRegion !== undefined) {
    // AWS signs with the default credential chain, for the region the endpoint names.
    return new DynamoDBClient({ endpoint: options.endpoint, region: options.region ?? awsRegion });
  }
  // Local engines accept any credentials.
  return new DynamoDBClient({
    endpoint: options.endpoint,
    region: options.region ?? process.env.AWS_REGION ?? 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...(options.embedded ? { httpAuthSchemes: [unsignedAuth] } : {}),
  });
};

/**
 * The embedded engine checks that a request's Authorization header has a signature's parts, never
 * the signature itself: the hub sends it fixed parts instead of computing SigV4 over each body
 * (hashing and HMACs that took 3% of the hub's thread while it processed a burst).
 */
const unsignedAuth: NonNullable<DynamoDBClientConfig['httpAuthSchemes']>[number] = {
  schemeId: 'aws.auth#sigv4',
  identityProvider: (config) => config.getIdentityProvider('aws.auth#sigv4'),
  signer: {
    sign: async (request) => {
      request.headers.authorization = 'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=unsigned';
      request.headers['x-amz-date'] = '20260101T000000Z';
      return request;
    },
  },
};

export const createDb = (options: DbOptions): Db => {
  const client = options.client ?? clientFor(options);
  if (options.onRequest) meterStorageRequests(client, options.onRequest);
  options.lane?.(client);
  if (options.onWriteUnits) meterWriteUnits(client, clientFor(options), options.table, options.onWriteUnits);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { doc, table: options.table, ...(options.retention ? { retention: options.retention } : {}) };
};

export class SchemaVersionError extends Error {
  constructor(found: number) {
    super(
      found > SCHEMA_VERSION
        ? `The table was written by schema version ${found}, newer than this code's ${SCHEMA_VERSION}: run the version of Tributary that wrote it, or a later one.`
        : `The table was written by schema version ${found}, this code uses ${SCHEMA_VERSION}. ` +
            'Rebuild the index by replaying stored deliveries into a new table: `npm run tributary -- rebuild --to <table>`, then set TRIBUTARY_TABLE to it.',
    );
    this.name = 'SchemaVersionError';
  }
}

const waitForActive = async (db: Db): Promise<void> => {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await db.doc.send(new DescribeTableCommand({ TableName: db.table }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesReady) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Table ${db.table} did not become ACTIVE`);
};

/**
 * Creates the table with every index if it does not exist (local engines; in AWS the table is
 * created by `infra/storage.ts`), then checks the schema version the data was written with.
 * Resolves with that version: this code's, or the one it upgrades in place (store/schema-upgrade.ts).
 */
export const ensureTable = async (db: Db): Promise<number> => {
  try {
    await db.doc.send(new CreateTableCommand(createTableInput(db.table)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitForActive(db);
  return checkSchemaVersion(db);
};

/**
 * Checks which schema version the data was written with, recording this code's on a new table.
 * A table at a version upgraded in place is accepted: its version is set to this code's at once, so
 * that an older version refuses it from then on, and the rest of the upgrade runs in place
 * (store/schema-upgrade.ts) while the code works on it.
 * In AWS the table comes from `infra/storage.ts`, so functions only run this check.
 */
export const checkSchemaVersion = async (db: Db): Promise<number> => {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: keys.schema(), ConsistentRead: true }));
  if (!Item) {
    await db.doc.send(new PutCommand({ TableName: db.table, Item: { ...keys.schema(), version: SCHEMA_VERSION } }));
    return SCHEMA_VERSION;
  }
  const found = Number(Item.version);
  if (found === SCHEMA_VERSION) return found;
  if (!UPGRADABLE_SCHEMA_VERSIONS.includes(found)) throw new SchemaVersionError(found);
  // Before this code writes rows an older version cannot read, the table says it is at this version.
  await claimCurrentVersion(db, found);
  return found;
};
