import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { LOCAL_AWS } from './fake-eventbridge.ts';

type SdkAttributeValue = NonNullable<NonNullable<_Record['dynamodb']>['NewImage']>[string];

/**
 * An attribute value as Lambda's JSON event carries it: the SDK decodes binary (`B`, `BS`) to
 * bytes, the event has them base64-encoded.
 */
const asEventValue = (value: SdkAttributeValue): AttributeValue => {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.M !== undefined) return { M: asEventImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(asEventValue) };
  return value as AttributeValue;
};

const asEventImage = (image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> =>
  Object.fromEntries(Object.entries(image).map(([name, value]) => [name, asEventValue(value)]));

/**
 * A record read with GetRecords, shaped as Lambda delivers it in a `DynamoDBStreamEvent`
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html): the event source and the stream's
 * ARN added, the creation time in epoch seconds, binary values base64-encoded.
 */
export const asLambdaRecord = (record: _Record, streamArn: string): DynamoDBRecord => {
  const stream = record.dynamodb!;
  return {
    eventID: record.eventID!,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion!,
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
    dynamodb: {
      ...(stream.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      Keys: asEventImage(stream.Keys ?? {}),
      ...(stream.NewImage ? { NewImage: asEventImage(stream.NewImage) } : {}),
      ...(stream.OldImage ? { OldImage: asEventImage(stream.OldImage) } : {}),
      SequenceNumber: stream.SequenceNumber!,
      SizeBytes: stream.SizeBytes!,
      StreamViewType: stream.StreamViewType as NonNullable<DynamoDBRecord['dynamodb']>['StreamViewType'],
    },
  };
};

export interface TableStreamReader {
  /** the records written since the last read (from the stream's trim horizon on the first), in shard order, as Lambda delivers them */
  read(): Promise<DynamoDBRecord[]>;
  close(): void;
}

/**
 * Reads a table's stream as Lambda's event source mapping polls it: every shard from TRIM_HORIZON
 * (infra/definitions.ts `STREAM_MAPPING`), then on from where the last read stopped.
 */
export const readTableStream = (endpoint: string, streamArn: string): TableStreamReader => {
  const client = new DynamoDBStreamsClient({ ...LOCAL_AWS, endpoint });
  const iterators = new Map<string, string | undefined>();
  return {
    async read() {
      const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      for (const shard of StreamDescription?.Shards ?? []) {
        if (iterators.has(shard.ShardId!)) continue;
        const { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
        iterators.set(shard.ShardId!, ShardIterator);
      }
      const records: DynamoDBRecord[] = [];
      for (const [shardId, start] of iterators) {
        let iterator = start;
        while (iterator) {
          const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
          records.push(...(page.Records ?? []).map((r) => asLambdaRecord(r, streamArn)));
          iterator = page.NextShardIterator;
          // An open shard always answers with a next iterator: stop at its end, resume there next time.
          if (!page.Records?.length) break;
        }
        iterators.set(shardId, iterator);
      }
      return records;
    },
    close: () => client.destroy(),
  };
};
