import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Resource } from 'sst/resource';
import { createConnectorRegistry, type ConnectorRegistry } from '../../connectors/index.ts';
import type { Clock, EventPublisher, Logger } from '../../core/ports.ts';
import { EventBridgePublisher } from '../../bus/eventbridge-publisher.ts';
import { type Db, checkSchemaVersion, createDb } from '../../store/db.ts';
import { keepEventPayload } from '../../store/event-payloads.ts';
import { type LambdaConfig, loadLambdaConfig, requireBusName } from '../aws-config.ts';
import { createJsonLogger } from '../log.ts';

/** What every function needs, built once per cold start and shared by the invocations that follow. */
export interface LambdaRuntime {
  config: LambdaConfig;
  db: Db;
  log: Logger;
  clock: Clock;
  connectors: ConnectorRegistry;
  /** built on first use: only the functions that publish need the bus */
  publisher(): EventPublisher;
}

export interface RuntimeOverrides {
  eventBridge?: EventBridgeClient;
  log?: Logger;
  clock?: Clock;
}

/** Wires the runtime from a configuration; handlers' tests call it with a local engine's endpoint. */
export const createLambdaRuntime = (config: LambdaConfig, overrides: RuntimeOverrides = {}): LambdaRuntime => {
  const db = createDb({ endpoint: config.DYNAMODB_ENDPOINT, table: config.TRIBUTARY_TABLE });
  const log = overrides.log ?? createJsonLogger(config.TRIBUTARY_LOG_LEVEL);
  const clock = overrides.clock ?? (() => new Date());
  let publisher: EventPublisher | undefined;
  return {
    config,
    db,
    log,
    clock,
    connectors: createConnectorRegistry(),
    publisher() {
      publisher ??= new EventBridgePublisher({
        client:
          overrides.eventBridge ??
          new EventBridgeClient(config.EVENTBRIDGE_ENDPOINT ? { endpoint: config.EVENTBRIDGE_ENDPOINT } : {}),
        busName: requireBusName(config),
        oversize: { keep: (event) => keepEventPayload(db, event, clock()) },
        log,
      });
      return publisher;
    },
  };
};

let cold: Promise<LambdaRuntime> | undefined;

/**
 * The runtime of this execution environment: configuration from SST links (or the environment),
 * and a schema version check, once. A failed start is not cached, so the next invocation retries.
 */
export const lambdaRuntime = (): Promise<LambdaRuntime> => {
  cold ??= (async () => {
    const runtime = createLambdaRuntime(loadLambdaConfig(process.env, Resource));
    await checkSchemaVersion(runtime.db);
    return runtime;
  })().catch((error: unknown) => {
    cold = undefined;
    throw error;
  });
  return cold;
};
