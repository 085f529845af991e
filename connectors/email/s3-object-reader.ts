import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectReader } from './ports.ts';

/**
 * Reads the messages an SES S3 action stored, with a ranged GetObject of at most `maxBytes`. The SDK
 * is loaded on the first read, so hubs that never receive an S3 notification never load it.
 * Credentials come from the environment (the Lambda role: it needs `s3:GetObject` on the bucket).
 */
export function createS3ObjectReader(options: { clientFor?: (region: string | undefined) => S3Client } = {}): ObjectReader {
  const clients = new Map<string, S3Client>();
  return {
    async read(location, { maxBytes }) {
      const sdk = await import('@aws-sdk/client-s3');
      const key = location.region ?? '';
      let client = clients.get(key);
      if (!client) {
        // The bucket's region is the SES rule's (the topic's) as a rule; redirects cover the exceptions.
        client = options.clientFor?.(location.region) ?? new sdk.S3Client({ ...(location.region ? { region: location.region } : {}), followRegionRedirects: true });
        clients.set(key, client);
      }
      // One byte more than kept tells whether there was more.
      const object = await client.send(new sdk.GetObjectCommand({ Bucket: location.bucket, Key: location.key, Range: `bytes=0-${maxBytes}` }));
      if (!object.Body) throw new Error(`s3://${location.bucket}/${location.key} has no body`);
      const bytes = await object.Body.transformToByteArray();
      return { bytes: bytes.subarray(0, maxBytes), truncated: bytes.byteLength > maxBytes };
    },
  };
}
