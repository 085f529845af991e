import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createConnectorRegistry } from '../connectors/index.ts';
import type { Connector } from '../core/connector.ts';
import type { EventPublisher, Logger } from '../core/ports.ts';
import { LocalBus } from '../bus/local-bus.ts';
import { ConnectionCache } from '../pipeline/connection-cache.ts';
import { startPipeline } from '../pipeline/runtime.ts';
import { type Db, createDb, ensureTable } from '../store/db.ts';
import { startEmbeddedEngine } from '../store/embedded-engine.ts';
import { createTenant } from '../store/tenants.ts';
import { putToken } from '../store/tokens.ts';
import { DEFAULT_TENANT, mintToken } from './http/auth.ts';
import { createApp } from './http/app.ts';
import type { Config } from './config.ts';
import { createJsonLogger } from './log.ts';

export interface LocalHubOptions {
  config: Config;
  log?: Logger;
  /** replaces the local bus as the publisher (tests inject failures) */
  publisher?: EventPublisher;
  connectors?: readonly Connector[];
  pollMs?: number;
}

/**
 * Creates the default tenant and, when no TRIBUTARY_ADMIN_TOKEN is configured, an operator token
 * on the very first start only. Returns that token so it can be printed once.
 */
const bootstrap = async (db: Db, config: Config): Promise<string | undefined> => {
  const now = new Date();
  await createTenant(db, { id: DEFAULT_TENANT, name: 'Default', createdAt: now.toISOString() });
  if (config.TRIBUTARY_ADMIN_TOKEN) return undefined;
  const { token, record } = mintToken(DEFAULT_TENANT, 'bootstrap operator token', ['admin', 'operator'], now);
  // A fixed id makes this a create-once: later starts find it and print nothing.
  const created = await putToken(db, { ...record, id: 'tok_bootstrap' }, { onlyIfAbsent: true });
  return created ? token.replace(record.id, 'tok_bootstrap') : undefined;
};

/** Everything on one machine: embedded engine (unless DYNAMODB_ENDPOINT), HTTP app, processor and publisher. */
export const startLocalHub = async (options: LocalHubOptions) => {
  const { config } = options;
  const log = options.log ?? createJsonLogger(config.TRIBUTARY_LOG_LEVEL);
  const engine = config.DYNAMODB_ENDPOINT ? undefined : await startEmbeddedEngine({ path: join(config.TRIBUTARY_DATA_DIR, 'engine') });
  const db = createDb({ endpoint: config.DYNAMODB_ENDPOINT ?? engine!.endpoint, table: config.TRIBUTARY_TABLE });
  await ensureTable(db);
  const bootstrapToken = await bootstrap(db, config);

  const connectors = createConnectorRegistry(options.connectors);
  const bus = new LocalBus(join(config.TRIBUTARY_DATA_DIR, 'events.jsonl'));
  const clock = () => new Date();
  const connections = new ConnectionCache(db);
  const pipeline = startPipeline({ db, connectors, publisher: options.publisher ?? bus, clock, log, pollMs: options.pollMs, connections });

  let publicUrl = config.TRIBUTARY_PUBLIC_URL ?? '';
  const app = createApp({
    db,
    connectors,
    connections,
    clock,
    log,
    get publicUrl() {
      return publicUrl;
    },
    maxBodyBytes: config.TRIBUTARY_MAX_BODY_BYTES,
    operatorToken: config.TRIBUTARY_ADMIN_TOKEN,
    bus,
    onAccepted: pipeline.onAccepted,
  });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: '0.0.0.0' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  publicUrl ||= `http://localhost:${port}`;

  return {
    url: `http://127.0.0.1:${port}`,
    publicUrl,
    bootstrapToken,
    db,
    bus,
    pipeline,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pipeline.stop();
      await engine?.close();
    },
  };
};

export type LocalHub = Awaited<ReturnType<typeof startLocalHub>>;
