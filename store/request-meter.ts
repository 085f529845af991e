import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Told once per request sent to DynamoDB, with its operation (`PutItem`, `BatchWriteItem`…). */
export type StorageRequestListener = (operation: string) => void;

/**
 * Counts every request the client sends, by DynamoDB operation name: a BatchWriteItem of 25 rows
 * is one request, as DynamoDB bills and throttles it. The retries the SDK makes on its own are not
 * counted (they sit below this step); the ones our code makes (unprocessed batch items) are.
 */
export const meterStorageRequests = (client: DynamoDBClient, onRequest: StorageRequestListener): void => {
  client.middlewareStack.add(
    (next, context) =>
      function countStorageRequest(args) {
        onRequest(String(context.commandName ?? 'Unknown').replace(/Command$/, ''));
        return next(args);
      },
    { step: 'initialize', name: 'tributaryStorageRequestMeter' },
  );
};
