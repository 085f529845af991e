import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { inject } from 'vitest';
import type { EventEnvelope } from '../../core/events.ts';
import type { Connector, RequestLimits } from '../../core/connector.ts';
import type { EventPublisher } from '../../core/ports.ts';
import type { Resolver } from '../../bus/webhook-target.ts';
import { loadConfig } from '../../functions/config.ts';
import { type LocalHub, startLocalHub } from '../../functions/local-hub.ts';

export const OPERATOR_TOKEN = 'test-operator-token-0123456789';

let tables = 0;

/** A unique table per hub keeps test files independent on the shared engine. */
export const uniqueTable = (prefix = 't') => `${prefix}_${process.pid}_${Date.now().toString(36)}_${tables++}`;

/** A resolver that resolves nothing (ENOTFOUND), so no test can reach the network by name. */
export const noNames: Resolver = async (hostname) => {
  throw Object.assign(new Error(`tests resolve no names: inject a resolver for ${hostname}`), { code: 'ENOTFOUND' });
};

/** A hub in this process, on a random port, against the engine the test run started. */
export const startTestHub = async (
  options: {
    publisher?: EventPublisher;
    env?: Record<string, string>;
    clock?: () => Date;
    limits?: Partial<RequestLimits>;
    connectors?: readonly Connector[];
    /** how webhook targets' names resolve: tests never resolve an outside name */
    resolver?: Resolver;
  } = {},
): Promise<TestHub> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-test-'));
  const hub = await startLocalHub({
    config: loadConfig({
      PORT: '0',
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      TRIBUTARY_TABLE: uniqueTable(),
      TRIBUTARY_DATA_DIR: dataDir,
      TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN,
      TRIBUTARY_LOG_LEVEL: 'silent',
      ...options.env,
    }),
    publisher: options.publisher,
    pollMs: 50,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.connectors ? { connectors: options.connectors } : {}),
    // Tests never look up an outside name: without a resolver of their own, every name fails to resolve.
    resolver: options.resolver ?? noNames,
  });
  return new TestHub(hub, dataDir);
};

export class TestHub {
  constructor(
    readonly hub: LocalHub,
    readonly dataDir: string,
  ) {}

  get url() {
    return this.hub.url;
  }

  /** A JSON API call with a bearer token (the operator token by default). */
  async api(method: string, path: string, body?: unknown, token = OPERATOR_TOKEN): Promise<{ status: number; body: any; headers: Headers }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  }

  async createConnection(source = 'github', token = OPERATOR_TOKEN, extra: Record<string, unknown> = {}) {
    const { status, body } = await this.api('POST', '/v1/connections', { source, name: `test ${source}`, ...extra }, token);
    if (status !== 201) throw new Error(`creating a connection answered ${status}: ${JSON.stringify(body)}`);
    return body as { id: string; secret: string; webhookUrl: string };
  }

  /** Events the local bus appended to its JSONL log. */
  publishedEvents(): EventEnvelope[] {
    const path = join(this.dataDir, 'events.jsonl');
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as EventEnvelope);
  }

  close() {
    return this.hub.close();
  }
}

/** POSTs a GitHub delivery signed like GitHub does. */
export const postGithub = async (
  url: string,
  connection: { id: string; secret: string },
  event: string,
  payload: unknown,
  options: { deliveryId?: string; secret?: string; body?: string } = {},
) => {
  const body = options.body ?? JSON.stringify(payload);
  const response = await fetch(`${url}/hooks/github/${connection.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.deliveryId ?? crypto.randomUUID(),
      'x-hub-signature-256': await sign(options.secret ?? connection.secret, body),
      'user-agent': 'GitHub-Hookshot/test',
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
};

/** Awaits a condition instead of sleeping for wall-clock time. */
export const eventually = async <T>(probe: () => Promise<T> | T, options: { timeoutMs?: number; what?: string } = {}): Promise<NonNullable<T>> => {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${options.what ?? 'a condition'}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** Waits until the hub has processed and published everything it has accepted. */
export const settled = (hub: TestHub, options: { timeoutMs?: number } = {}) =>
  eventually(
    async () => {
      const { pipeline } = hub.hub;
      return pipeline.processor.size === 0 && pipeline.publisher.size === 0 && (await pipelineIdle(hub));
    },
    { what: 'the pipeline to settle', ...options },
  );

const pipelineIdle = async (hub: TestHub) => {
  const { listPendingDeliveries } = await import('../../store/inbox.ts');
  const { listQueued } = await import('../../store/queue.ts');
  return (await listPendingDeliveries(hub.hub.db, 1)).length === 0 && (await listQueued(hub.hub.db, 'outbox', { limit: 1 })).length === 0;
};
