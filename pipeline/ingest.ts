import type { ConnectorRegistry } from '../connectors/index.ts';
import type { Clock, Logger } from '../core/ports.ts';
import { NotFoundError } from '../core/errors.ts';
import { sha256Hex } from '../core/ids.ts';
import type { WebhookRequest } from '../core/connector.ts';
import type { ConnectionCache } from './connection-cache.ts';
import type { Db } from '../store/db.ts';
import { recordDelivery } from '../store/inbox.ts';
import { validSecrets } from '../store/connections.ts';
import type { HubMetrics } from './hub-metrics.ts';

export interface IngestDeps {
  db: Db;
  connectors: ConnectorRegistry;
  connections: ConnectionCache;
  clock: Clock;
  log: Logger;
  /** told about each newly recorded delivery, so a local processor can start at once */
  onAccepted?: (deliveryPk: string) => void;
  /** counts accepted and duplicate deliveries (the hook route counts what is received and rejected) */
  metrics?: HubMetrics;
}

export type IngestResult =
  | { kind: 'recorded'; deliveryId: string; status: 'accepted' | 'duplicate' }
  | { kind: 'reply'; body: Record<string, unknown> };

/** Headers never stored with a delivery: credentials, and the connector's own signature headers. */
const UNSTORED_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * The ack path: verify, identify, then exactly one durable write. GitHub waits 10 s for the answer
 * and never retries a failed delivery, so nothing else happens before the 202.
 */
export const ingestWebhook = async (
  deps: IngestDeps,
  target: { source: string; connectionId: string },
  request: WebhookRequest,
): Promise<IngestResult> => {
  const connector = deps.connectors.get(target.source);
  const connection = connector ? await deps.connections.get(target.connectionId) : undefined;
  if (!connector || !connection || connection.source !== connector.source) {
    throw new NotFoundError(`Connection ${target.connectionId} for source ${target.source}`);
  }
  const now = deps.clock();
  const forVerify = { id: connection.id, settings: connection.settings, secrets: validSecrets(connection, now) };
  await connector.verify(request, forVerify);
  const received = await connector.receive(request, forVerify);
  if (received.reply) return { kind: 'reply', body: received.reply.body };

  const body = received.body ?? request.body;
  const bodySha256 = sha256Hex(body);
  // Tools that send no delivery id are deduplicated by content.
  const deliveryId = received.deliveryId ?? `sha256:${bodySha256}`;
  const secretHeaders = new Set(connector.secretHeaders);
  const headers = Object.fromEntries(
    Object.entries(request.headers).filter(([name]) => !UNSTORED_HEADERS.has(name) && !secretHeaders.has(name)),
  );
  const { pk, status } = await recordDelivery(deps.db, {
    tenantId: connection.tenantId,
    connectionId: connection.id,
    source: connector.source,
    deliveryId,
    event: received.event,
    headers,
    body,
    bodySha256,
    bodyBytes: body.byteLength,
    receivedAt: now.toISOString(),
  });
  deps.log.info('delivery recorded', { tenantId: connection.tenantId, source: connector.source, deliveryId, event: received.event, status });
  deps.metrics?.[status].inc({ source: connector.source });
  if (status === 'accepted') deps.onAccepted?.(pk);
  return { kind: 'recorded', deliveryId, status };
};
