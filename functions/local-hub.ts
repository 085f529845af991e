import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createConnectorRegistry } from '../connectors/index.ts';
import type { Connector } from '../core/connector.ts';
import type { Clock, EventPublisher, Logger } from '../core/ports.ts';
import { LocalBus } from '../bus/local-bus.ts';
import { withEventLog } from '../bus/logged-publisher.ts';
import { withSubscriptions } from '../bus/subscription-matching.ts';
import { WebhookRunner } from '../bus/webhook-runner.ts';
import { createWebhookSender } from '../bus/webhook-sender.ts';
import { type Resolver, systemResolver } from '../bus/webhook-target.ts';
import { ConnectionCache } from '../pipeline/connection-cache.ts';
import { startPipeline } from '../pipeline/runtime.ts';
import { periodic } from '../pipeline/periodic.ts';
import { createHubMetrics } from '../pipeline/hub-metrics.ts';
import { sweepAlerts } from '../pipeline/alerts.ts';
import { sweepViews } from '../pipeline/views-sweep.ts';
import { startJobRunner } from '../pipeline/backfill-runtime.ts';
import { timeSlices } from '../pipeline/time-slices.ts';
import { startOperationRunner } from '../pipeline/operation-jobs.ts';
import { type ReconcileOptions, reconcileConnections } from '../pipeline/reconcile.ts';
import { type RetentionOptions, sweepRetention } from '../pipeline/retention.ts';
import { retentionPolicyOf } from './retention-config.ts';
import type { RequestLimits } from '../core/connector.ts';
import { type Db, createDb, ensureTable } from '../store/db.ts';
import { outdatedIndexes } from '../store/table-copy.ts';
import { upgradeSchema } from '../store/schema-upgrade.ts';
import { schemaIsCurrent } from '../store/schema-state.ts';
import { SCHEMA_VERSION } from '../store/table.ts';
import { startEmbeddedEngineWorker } from '../store/embedded-engine.ts';
import { createRequestLanes } from '../store/request-lanes.ts';
import { createTenant } from '../store/tenants.ts';
import type { WriteUnits } from '../store/write-meter.ts';
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
  /** the hub's clock (tests move it forward to reach time-based alerts) */
  clock?: Clock;
  /** time and pacing of backfill requests to the tools (tests inject a fake clock) */
  limits?: Partial<RequestLimits>;
  /** how webhook targets' names resolve (tests inject one: they never resolve an outside name) */
  resolver?: Resolver;
}

/** How long an idle connection stays open: longer than the 60 s of common load balancers and proxies. */
const KEEP_ALIVE_MS = 65_000;

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

/**
 * Everything on one machine: HTTP app, processor and publisher in this process, and the embedded
 * engine (unless DYNAMODB_ENDPOINT) on a worker thread, so storage work does not queue behind HTTP.
 */
export const startLocalHub = async (options: LocalHubOptions) => {
  const { config } = options;
  const log = options.log ?? createJsonLogger(config.TRIBUTARY_LOG_LEVEL);
  const engine = config.DYNAMODB_ENDPOINT
    ? undefined
    : await startEmbeddedEngineWorker({
        path: join(config.TRIBUTARY_DATA_DIR, 'engine'),
        // Without its engine the hub can neither acknowledge nor process anything: it stops rather than answer 503s forever.
        onUnexpectedExit: (how) => {
          log.error(`The embedded engine stopped (${how}); the hub stops too. Everything acknowledged is on disk: run npm start again.`);
          process.exit(1);
        },
      });
  const metrics = createHubMetrics();
  const storage = {
    endpoint: config.DYNAMODB_ENDPOINT ?? engine!.endpoint,
    embedded: engine !== undefined,
    table: config.TRIBUTARY_TABLE,
    retention: retentionPolicyOf(config),
    onRequest: (operation: string) => metrics.storageRequests.inc({ operation }),
    ...(config.TRIBUTARY_METER_WRITE_UNITS
      ? {
          onWriteUnits: ({ row, table, indexes }: WriteUnits) => {
            metrics.writeUnits.inc({ target: 'table', row }, table);
            metrics.writeUnits.inc({ target: 'indexes', row }, indexes);
          },
        }
      : {}),
  };
  // The HTTP app's requests go before those of processing, jobs and sweeps (store/request-lanes.ts).
  const lanes = createRequestLanes();
  const db = createDb({ ...storage, lane: lanes.background });
  const appDb = createDb({ ...storage, lane: lanes.foreground });
  await ensureTable(db);
  if (!(await schemaIsCurrent(db))) {
    log.info(`Upgrading the table ${config.TRIBUTARY_TABLE} to schema version ${SCHEMA_VERSION} in place (once; it continues where it stopped if interrupted)`);
    const upgrade = await upgradeSchema(db, { onProgress: (p) => log.info('schema upgrade', { scanned: p.scanned, markers: p.markers, entries: p.entries }) });
    log.info(`Schema upgrade done: ${upgrade.scanned} rows read, ${upgrade.markers} inbound markers written, ${upgrade.entries} owner and label entries moved`);
  }
  const outdated = await outdatedIndexes(db);
  if (outdated.length > 0) {
    log.warn(
      `The table ${config.TRIBUTARY_TABLE} was created when the ${outdated.join(', ')} index held more than it does now. ` +
        'It works as it is; to write less into it, stop the hub and run `npm run tributary -- copy --to <new table>`, then start with TRIBUTARY_TABLE=<new table> (docs/operations.md).',
    );
  }
  const bootstrapToken = await bootstrap(db, config);

  const connectors = createConnectorRegistry(options.connectors);
  const bus = new LocalBus(join(config.TRIBUTARY_DATA_DIR, 'events.jsonl'));
  const clock = options.clock ?? (() => new Date());
  // Read on the ack path: in the app's lane.
  const connections = new ConnectionCache(appDb);
  // Webhook subscriptions: every published event is queued for the subscriptions it matches before
  // the bus takes it (bus/subscription-matching.ts), and the dispatcher sends from those queues.
  const webhookTargets = { allowPrivate: config.TRIBUTARY_ALLOW_PRIVATE_TARGETS, resolver: options.resolver ?? systemResolver };
  const webhooks = new WebhookRunner({
    db,
    clock,
    log,
    send: createWebhookSender(webhookTargets),
    publicUrl: () => publicUrl || undefined,
    onEvents: () => pipeline.publisher.kick(),
    passMs: Math.max(250, (options.pollMs ?? 1000) * 5),
  });
  const publisher = withEventLog(
    withSubscriptions(options.publisher ?? bus, {
      db,
      clock,
      onQueued: (queued) => {
        for (const key of new Set(queued.map((q) => `${q.tenantId}\u0000${q.subscriptionId}`))) webhooks.kick(...(key.split('\u0000') as [string, string]));
      },
    }),
    db,
  );
  const pipeline = startPipeline({ db, connectors, publisher, clock, log, pollMs: options.pollMs, connections, metrics });
  const jobs = startJobRunner({
    db,
    connectors,
    clock,
    log,
    connections,
    onEvents: () => pipeline.publisher.kick(),
    // A backfill's pages are processed beside the HTTP app too.
    yieldEventLoop: timeSlices(),
    ...(options.limits ? { limits: options.limits } : {}),
    pollMs: options.pollMs,
  });
  // Erasures and tenant purges: what a request did not finish, and what a restart left running.
  const operations = startOperationRunner({ db, clock, log, bus, connections, pollMs: options.pollMs });

  // The alert sweep: time-based alerts (stale or overdue blockers…) and repair of derived state.
  const alertDeps = {
    db,
    clock,
    log,
    onEvents: () => pipeline.publisher.kick(),
  };
  const interval = config.TRIBUTARY_SWEEP_INTERVAL_SECONDS;
  const alertSweep = periodic('alert sweep', interval, () => sweepAlerts(alertDeps), log);
  // The views sweep (pipeline/views-sweep.ts): blocked-counter repair and the weekly digests.
  const viewsSweep = periodic('views sweep', interval, () => sweepViews({ db, clock, log, publisher }), log);
  // Reconciliation with the tools (connections with read credentials).
  const reconcileDeps = { db, connectors, clock, log, connections, onEvents: () => pipeline.publisher.kick(), ...(options.limits ? { limits: options.limits } : {}) };
  const reconcile = periodic('reconciliation', interval, (reconcileOptions?: ReconcileOptions) => reconcileConnections(reconcileDeps, reconcileOptions ?? {}), log);
  // The embedded engine has no TTL: expired rows (core/retention.ts) are deleted by a bounded, resumable sweep.
  const retention = periodic(
    'retention sweep',
    config.TRIBUTARY_RETENTION_SWEEP_SECONDS,
    (retentionOptions?: RetentionOptions) => sweepRetention({ db, clock, log }, retentionOptions ?? {}),
    log,
  );

  let publicUrl = config.TRIBUTARY_PUBLIC_URL ?? '';
  const app = createApp({
    db: appDb,
    connectors,
    connections,
    clock,
    log,
    get publicUrl() {
      return publicUrl;
    },
    maxBodyBytes: config.TRIBUTARY_MAX_BODY_BYTES,
    operatorToken: config.TRIBUTARY_ADMIN_TOKEN,
    metrics,
    metricsToken: config.TRIBUTARY_METRICS_TOKEN,
    readyMaxLagSeconds: config.TRIBUTARY_READY_MAX_LAG_SECONDS,
    bus,
    onAccepted: pipeline.onAccepted,
    onJobStarted: jobs.enqueue,
    onOperationStarted: operations.enqueue,
    webhookTargets,
    onSubscriptionWork: (tenantId, subscriptionId) => webhooks.kick(tenantId, subscriptionId),
    onEvents: () => pipeline.publisher.kick(),
  });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: '0.0.0.0' }) as Server;
  // Idle connections outlive those of the proxies and tunnels that pool them (load balancers idle
  // out at 60 s): a server that closes first races a request the proxy just sent on it.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  publicUrl ||= `http://localhost:${port}`;
  webhooks.start();

  return {
    url: `http://127.0.0.1:${port}`,
    publicUrl,
    bootstrapToken,
    /** the table as processing, jobs and sweeps reach it */
    db,
    /** the table as the HTTP app reaches it: its requests go first (store/request-lanes.ts) */
    appDb,
    bus,
    pipeline,
    /** the webhook dispatcher: `kickAll()` looks at every subscription now */
    webhooks,
    /** runs the alert sweep now (one at a time) */
    sweepAlerts: alertSweep.now,
    /** runs the views sweep now (one at a time): blocked-counter repair, weekly digests */
    sweepViews: viewsSweep.now,
    jobs,
    operations,
    /** reconciles every connection with read credentials now (one run at a time) */
    reconcile: reconcile.now,
    /** one pass of the retention sweep now (one at a time) */
    sweepRetention: retention.now,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const task of [retention, reconcile, alertSweep, viewsSweep]) await task.stop();
      await jobs.stop();
      await operations.stop();
      await webhooks.stop();
      await pipeline.stop();
      await engine?.close();
    },
  };
};

export type LocalHub = Awaited<ReturnType<typeof startLocalHub>>;
