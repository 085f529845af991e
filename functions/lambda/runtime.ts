import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Resource } from 'sst/resource';
import { createConnectorRegistry, type ConnectorRegistry } from '../../connectors/index.ts';
import type { Clock, EventPublisher, Logger } from '../../core/ports.ts';
import { onceSucceeded } from '../../core/once.ts';
import { withEventLog } from '../../bus/logged-publisher.ts';
import { type WebhookSender, createWebhookSender } from '../../bus/webhook-sender.ts';
import { type Resolver, systemResolver } from '../../bus/webhook-target.ts';
import { type Db, checkSchemaVersion, createDb } from '../../store/db.ts';
import { keepEventPayload } from '../../store/event-payloads.ts';
import { type LambdaConfig, loadLambdaConfig, requireBusName } from '../aws-config.ts';
import { createJsonLogger } from '../log.ts';
import { retentionPolicyOf } from '../retention-config.ts';
import { type HubMetrics, countPublishes, createHubMetrics } from '../../pipeline/hub-metrics.ts';

/** What every function needs, built once per cold start and shared by the invocations that follow. */
export interface LambdaRuntime {
  config: LambdaConfig;
  db: Db;
  log: Logger;
  clock: Clock;
  connectors: ConnectorRegistry;
  /** built on first use: only the functions that publish need the bus */
  publisher(): EventPublisher;
  /** sends webhooks through the SSRF guard (the dispatcher, the sweep) */
  webhookSender(): WebhookSender;
  /** this execution environment's figures, printed as EMF after each invocation (./metrics.ts) */
  metrics: HubMetrics;
  /** the SST stage, a dimension of every metric (`local` outside a deployment) */
  stage: string;
  /** where EMF records go: stdout, one JSON line each, which CloudWatch Logs reads */
  emit(line: string): void;
}

export interface RuntimeOverrides {
  eventBridge?: EventBridgeClient;
  log?: Logger;
  clock?: Clock;
  stage?: string;
  emit?: (line: string) => void;
  /** how webhook targets' names resolve (tests inject one) */
  resolver?: Resolver;
}

/** Wires the runtime from a configuration; handlers' tests call it with a local engine's endpoint. */
export const createLambdaRuntime = (config: LambdaConfig, overrides: RuntimeOverrides = {}): LambdaRuntime => {
  // Retention periods become each record's `expiresAt`, which the table's TTL acts on (infra/storage.ts).
  const metrics = createHubMetrics();
  const db = createDb({
    endpoint: config.DYNAMODB_ENDPOINT,
    table: config.TRIBUTARY_TABLE,
    retention: retentionPolicyOf(config),
    onRequest: (operation) => metrics.storageRequests.inc({ operation }),
  });
  const log = overrides.log ?? createJsonLogger(config.TRIBUTARY_LOG_LEVEL);
  const clock = overrides.clock ?? (() => new Date());
  let publisher: EventPublisher | undefined;
  let sender: WebhookSender | undefined;
  return {
    config,
    db,
    log,
    clock,
    connectors: createConnectorRegistry(),
    publisher() {
      // Events published without a cursor (the weekly digests) are logged first, like every other (bus/logged-publisher.ts).
      if (publisher) return publisher;
      const busName = requireBusName(config);
      publisher = countPublishes(
        withEventLog(
          loadedOnFirstPublish(async () => {
            const [{ EventBridgePublisher }, { EventBridgeClient }] = await Promise.all([import('../../bus/eventbridge-publisher.ts'), import('@aws-sdk/client-eventbridge')]);
            return new EventBridgePublisher({
              client: overrides.eventBridge ?? new EventBridgeClient(config.EVENTBRIDGE_ENDPOINT ? { endpoint: config.EVENTBRIDGE_ENDPOINT } : {}),
              busName,
              oversize: { keep: (event) => keepEventPayload(db, event, clock()) },
              log,
            });
          }),
          db,
        ),
        metrics,
      );
      return publisher;
    },
    webhookSender() {
      sender ??= createWebhookSender({ allowPrivate: config.TRIBUTARY_ALLOW_PRIVATE_TARGETS, resolver: overrides.resolver ?? systemResolver });
      return sender;
    },
    metrics,
    stage: overrides.stage ?? 'local',
    // Lambda's Node runtime prefixes console.log lines; CloudWatch reads EMF only from a bare JSON line.
    emit: overrides.emit ?? ((line) => void process.stdout.write(`${line}\n`)),
  };
};

/**
 * SST links the `App` resource (name, stage) to every function it deploys; outside SST (a bundle
 * run by hand, DYNAMODB_ENDPOINT configuration) its proxy throws, and there is no stage.
 */
const deployedStage = (): string | undefined => {
  try {
    return (Resource as unknown as { App?: { stage?: string } }).App?.stage;
  } catch {
    return undefined;
  }
};

/**
 * A publisher whose code loads when it first publishes: the EventBridge client is about 55 KB of
 * a bundle, and the API function never publishes. A failed load is tried again on the next publish.
 */
const loadedOnFirstPublish = (load: () => Promise<EventPublisher>): EventPublisher => {
  const loaded = onceSucceeded(load);
  return { publish: async (events, cursors) => (await loaded()).publish(events, cursors) };
};

/**
 * The runtime of this execution environment: configuration from SST links (or the environment),
 * and a schema version check, once. A failed start is not cached, so the next invocation retries.
 */
export const lambdaRuntime: () => Promise<LambdaRuntime> = onceSucceeded(async () => {
  const stage = deployedStage();
  const runtime = createLambdaRuntime(loadLambdaConfig(process.env, Resource), stage ? { stage } : {});
  await checkSchemaVersion(runtime.db);
  return runtime;
});
