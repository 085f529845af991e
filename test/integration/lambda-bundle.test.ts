import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type BundleReport, buildFunctions } from '../../scripts/build.ts';
import { createDb, ensureTable } from '../../store/db.ts';
import { functionUrlRequest, sqsEventOf } from '../fixtures/lambda/events.ts';
import { OPERATOR_TOKEN, uniqueTable } from '../support/hub.ts';

const RESULT = 'INVOCATION RESULTS ';

/** Invokes a bundle's handler in a fresh Node process, as Lambda's Node runtime would: import, then call `handler`. */
const invokeBundle = (file: string, events: unknown[], env: Record<string, string>) => {
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
    const results = [];
    for (const event of JSON.parse(process.env.TEST_EVENTS)) results.push(await handler(event, { getRemainingTimeInMillis: () => 10000 }));
    process.stdout.write(${JSON.stringify(RESULT)} + JSON.stringify(results));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', ...env, TEST_EVENTS: JSON.stringify(events) },
    timeout: 60_000,
  });
  if (child.status !== 0) throw new Error(`the bundle failed:\n${child.stderr}`);
  // The handlers print their metrics (EMF lines) on stdout too, as Lambda expects.
  return JSON.parse(child.stdout.slice(child.stdout.lastIndexOf(RESULT) + RESULT.length)) as { statusCode: number; body: string }[];
};

describe('npm run build', () => {
  let reports: BundleReport[];
  beforeAll(async () => {
    reports = await buildFunctions(mkdtempSync(join(tmpdir(), 'tributary-dist-')));
  }, 60_000);

  it('bundles each function into one ES module', () => {
    expect(reports.map((r) => r.name)).toEqual(['api', 'processor', 'publisher', 'sweep', 'dispatcher']);
    // Lambda takes a 50 MB zipped / 250 MB unzipped deployment package.
    for (const r of reports) expect(r.bytes, r.name).toBeLessThan(10 * 1024 * 1024);
  });

  it('bundles the AWS SDK from its ES module build, which is tree-shaken, not its CommonJS one', () => {
    for (const r of reports) {
      const sdk = r.initModules.filter((path) => /node_modules\/@aws-sdk\/client-dynamodb\//.test(path));
      expect(sdk.length, r.name).toBeGreaterThan(0);
      expect(sdk.filter((path) => path.includes('/dist-cjs/')), r.name).toEqual([]);
    }
  });

  it('keeps what only some requests run out of the API function\'s cold start', () => {
    const api = reports.find((r) => r.name === 'api')!;
    const loaded = (pattern: RegExp) => api.initModules.filter((path) => pattern.test(path));
    // Always loaded: the webhook path, the DynamoDB client.
    expect(loaded(/^pipeline\/ingest\.ts$/)).toHaveLength(1);
    expect(loaded(/node_modules\/@aws-sdk\/client-dynamodb\//).length).toBeGreaterThan(0);
    // Loaded when first used: mail parsing (processing), the bus (the API never publishes), erasures and purges, the dashboard's pages.
    expect(loaded(/node_modules\/postal-mime\//)).toEqual([]);
    expect(loaded(/node_modules\/@aws-sdk\/client-eventbridge\/|^bus\/eventbridge-publisher\.ts$/)).toEqual([]);
    expect(loaded(/^pipeline\/(erasure|tenant-purge)\.ts$/)).toEqual([]);
    expect(loaded(/^web\/.*\.tsx$|node_modules\/hono\/dist\/jsx\//)).toEqual([]);
  });

  it('serves the API from the bundle alone, in a fresh process, against DynamoDB', async () => {
    const table = uniqueTable('bundle');
    const endpoint = inject('dynamodbEndpoint');
    await ensureTable(createDb({ endpoint, table }));
    const [health, signIn, created] = invokeBundle(
      reports.find((r) => r.name === 'api')!.file,
      [
        functionUrlRequest({ method: 'GET', path: '/healthz' }),
        // The dashboard's sign-in page, from the chunk the first page view loads.
        functionUrlRequest({ method: 'GET', path: '/' }),
        functionUrlRequest({
          method: 'POST',
          path: '/v1/connections',
          headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ source: 'github', name: 'from the bundle' }),
        }),
      ],
      { TRIBUTARY_TABLE: table, DYNAMODB_ENDPOINT: endpoint, TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN, TRIBUTARY_LOG_LEVEL: 'silent' },
    );
    expect(health).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(health!.body)).toEqual({ status: 'ok' });
    expect(signIn).toMatchObject({ statusCode: 200 });
    expect(signIn!.body).toContain('name="token"');
    expect(created).toMatchObject({ statusCode: 201 });
    expect(JSON.parse(created!.body).webhookUrl).toMatch(/^https:\/\/[a-z0-9]+\.lambda-url\.us-west-2\.on\.aws\/hooks\/github\//);
  });

  it('runs the webhook dispatcher from its bundle (standardwebhooks included) on an SQS batch', async () => {
    const table = uniqueTable('bundle');
    const endpoint = inject('dynamodbEndpoint');
    await ensureTable(createDb({ endpoint, table }));
    const [result] = invokeBundle(
      reports.find((r) => r.name === 'dispatcher')!.file,
      // A message that is not a hub event: dropped, not handed back.
      [sqsEventOf({ detail: { hello: 'world' }, source: 'aws.events', messageId: 'not-ours' })],
      { TRIBUTARY_TABLE: table, DYNAMODB_ENDPOINT: endpoint, TRIBUTARY_LOG_LEVEL: 'silent' },
    );
    expect(result).toEqual({ batchItemFailures: [] });
  });
});
