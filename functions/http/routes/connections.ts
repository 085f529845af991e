import { Hono } from 'hono';
import * as z from 'zod';
import type { ConnectorRegistry } from '../../../connectors/index.ts';
import type { Clock } from '../../../core/ports.ts';
import { NotFoundError, ValidationError } from '../../../core/errors.ts';
import { randomId, randomSecret } from '../../../core/ids.ts';
import { Source } from '../../../core/work-item.ts';
import type { ConnectionCache } from '../../../pipeline/connection-cache.ts';
import type { Db } from '../../../store/db.ts';
import { type ConnectionRecord, deleteConnection, getConnection, listConnections, putConnection } from '../../../store/connections.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody, validationError } from '../problem.ts';
import { pageOf } from './items.ts';
import { BackfillBody, jobView, startBackfill } from '../../../pipeline/backfill.ts';
import { putReconcileState } from '../../../store/jobs.ts';
import { Job } from './jobs.ts';
import { recordAudit } from '../../../store/audit.ts';
import { applyMergePatch, valueAtPath } from '../../../core/merge-patch.ts';
import { deepEqual } from '../../../core/equal.ts';

const CreateConnection = z.looseObject({
  source: Source,
  name: z.string().min(1).max(200),
});

/** JSON Merge Patch (RFC 7396) of `name` and the settings: `null` removes a setting, objects merge. */
const UpdateConnection = z
  .looseObject({ name: z.string().min(1).max(200).optional() })
  .describe('`name` and any non-secret settings of the connection\'s source (e.g. Jira `customFields`, `statusRules`), merged into the current ones (RFC 7396)');

const RotateSecret = z.object({
  graceSeconds: z.number().int().min(0).max(30 * 86_400).default(86_400).describe('how long the previous secret stays valid'),
});

export const Connection = z.object({
  id: z.string(),
  source: Source,
  name: z.string(),
  settings: z.record(z.string(), z.unknown()),
  webhookUrl: z.string(),
  createdAt: z.string(),
  secretRotatedAt: z.string().optional(),
});

const ConnectionWithSecret = Connection.extend({
  secret: z.string().describe('shown once: configure it as the webhook secret in the tool'),
});

export const connectionOperations: Operation[] = [
  {
    method: 'post',
    path: '/v1/connections',
    summary: 'Connect a tool: returns the webhook URL and secret',
    tag: 'connections',
    scope: 'admin',
    body: CreateConnection,
    responses: { 201: { description: 'Created', schema: ConnectionWithSecret }, 422: { description: 'Invalid body' } },
  },
  { method: 'get', path: '/v1/connections', summary: 'List connections', tag: 'connections', scope: 'admin', responses: { 200: { description: 'All connections', schema: pageOf(Connection) } } },
  { method: 'get', path: '/v1/connections/{id}', summary: 'One connection', tag: 'connections', scope: 'admin', responses: { 200: { description: 'The connection', schema: Connection } } },
  {
    method: 'patch',
    path: '/v1/connections/{id}',
    summary: 'Change a connection\'s name or non-secret settings (mapping rules); replay applies them to stored deliveries',
    tag: 'connections',
    scope: 'admin',
    body: UpdateConnection,
    responses: {
      200: { description: 'The connection as updated', schema: Connection },
      422: { description: 'The settings are invalid for the source, or the patch touches the source or a secret' },
    },
  },
  {
    method: 'post',
    path: '/v1/connections/{id}/rotate-secret',
    summary: 'Issue a new secret; the previous one stays valid for `graceSeconds`',
    tag: 'connections',
    scope: 'admin',
    body: RotateSecret,
    responses: { 200: { description: 'The new secret', schema: ConnectionWithSecret } },
  },
  {
    method: 'post',
    path: '/v1/connections/{id}/backfill',
    summary: 'Read existing work with the connection\'s read credentials: starts a job (or returns the one running)',
    tag: 'connections',
    scope: 'admin',
    body: BackfillBody,
    responses: {
      202: { description: 'Job started', schema: Job },
      200: { description: 'A backfill of this connection is already running', schema: Job },
      422: { description: 'The connection has no read credentials' },
    },
  },
  { method: 'delete', path: '/v1/connections/{id}', summary: 'Disconnect: its webhooks answer 404 from now on', tag: 'connections', scope: 'admin', responses: { 204: { description: 'Deleted' } } },
];

export interface ConnectionRouteDeps {
  db: Db;
  connectors: ConnectorRegistry;
  connections: ConnectionCache;
  clock: Clock;
  publicUrl: string;
  /** told about each started backfill job, so a local runner can start it at once */
  onJobStarted?: (jobId: string) => void;
}

/** Read credentials are stored with the connection but never shown: each secret path reads `********`. */
const maskSettings = (settings: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> => {
  const masked = structuredClone(settings);
  for (const path of paths) {
    const parts = path.split('.');
    let node: unknown = masked;
    for (const part of parts.slice(0, -1)) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    const last = parts.at(-1)!;
    if (node && typeof node === 'object' && last in node) (node as Record<string, unknown>)[last] = '********';
  }
  return masked;
};

export const connectionRoutes = (deps: ConnectionRouteDeps) => {
  const view = (c: ConnectionRecord): z.infer<typeof Connection> => ({
    id: c.id,
    source: c.source,
    name: c.name,
    settings: maskSettings(c.settings, deps.connectors.get(c.source)?.secretSettings ?? []),
    webhookUrl: `${deps.publicUrl}/hooks/${c.source}/${c.id}`,
    createdAt: c.createdAt,
    ...(c.secrets.length > 1 ? { secretRotatedAt: c.secrets[0]!.createdAt } : {}),
  });
  const own = async (tenantId: string, id: string): Promise<ConnectionRecord> => {
    const connection = await getConnection(deps.db, id);
    if (!connection || connection.tenantId !== tenantId) throw new NotFoundError(`Connection ${id}`);
    return connection;
  };

  return new Hono<AuthEnv>()
    .post('/', async (c) => {
      const { source, name, ...rest } = await parseJsonBody(c, CreateConnection);
      const connector = deps.connectors.get(source);
      if (!connector) throw new ValidationError([{ path: 'source', message: `this hub has no ${source} connector` }], 'The request body');
      const settings = connector.settings.safeParse(rest);
      if (!settings.success) throw validationError(settings.error, 'The connection settings');
      const now = deps.clock().toISOString();
      const secret = randomSecret('whsec');
      const connection: ConnectionRecord = {
        id: randomId('con'),
        tenantId: c.get('principal').tenantId,
        source,
        name,
        settings: settings.data,
        secrets: [{ value: secret, createdAt: now }],
        createdAt: now,
      };
      await putConnection(deps.db, connection);
      // With read credentials, the sweep reconciles the index with the tool from now on.
      if (connector.backfill?.canRead(connection.settings)) await putReconcileState(deps.db, connection.id, { lastRunAt: now });
      // Name and source only: settings may hold read credentials, and the secret is never recorded.
      const { tenantId, tokenId } = c.get('principal');
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'connection.created', target: connection.id, detail: { source, name }, at: now });
      return c.json({ ...view(connection), secret }, 201);
    })
    .get('/', async (c) => c.json({ items: (await listConnections(deps.db, c.get('principal').tenantId)).map(view), nextCursor: null }))
    .get('/:id', async (c) => c.json(view(await own(c.get('principal').tenantId, c.req.param('id')))))
    .patch('/:id', async (c) => {
      const { tenantId, tokenId } = c.get('principal');
      const connection = await own(tenantId, c.req.param('id'));
      const { name, ...patch } = await parseJsonBody(c, UpdateConnection);
      if ('source' in patch) {
        throw new ValidationError([{ path: 'source', message: 'a connection keeps its source: create a new connection for another tool' }], 'The request body');
      }
      const connector = deps.connectors.get(connection.source);
      if (!connector) throw new ValidationError([{ path: 'source', message: `this hub has no ${connection.source} connector` }], 'The connection');
      const parsed = connector.settings.safeParse(applyMergePatch(connection.settings, patch));
      if (!parsed.success) throw validationError(parsed.error, 'The connection settings');
      // Secrets are set when the connection is created, and never shown: a patch cannot change them unseen.
      const touched = (connector.secretSettings ?? []).filter((path) => !deepEqual(valueAtPath(connection.settings, path), valueAtPath(parsed.data, path)));
      if (touched.length > 0) {
        throw new ValidationError(
          touched.map((path) => ({ path, message: 'is a secret and cannot be changed here: create a new connection with it' })),
          'The request body',
        );
      }
      const updated: ConnectionRecord = { ...connection, ...(name ? { name } : {}), settings: parsed.data };
      await putConnection(deps.db, updated);
      deps.connections.invalidate(connection.id);
      const changed = [...(name && name !== connection.name ? ['name'] : []), ...Object.keys(patch)];
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'connection.updated', target: connection.id, detail: { changed }, at: deps.clock().toISOString() });
      return c.json(view(updated));
    })
    .post('/:id/rotate-secret', async (c) => {
      const connection = await own(c.get('principal').tenantId, c.req.param('id'));
      const { graceSeconds } = await parseJsonBody(c, RotateSecret);
      const now = deps.clock();
      const secret = randomSecret('whsec');
      const expiresAt = new Date(now.getTime() + graceSeconds * 1000).toISOString();
      const rotated: ConnectionRecord = {
        ...connection,
        // Only the secret being replaced gets a grace window; older ones end now.
        secrets: [{ value: secret, createdAt: now.toISOString() }, { ...connection.secrets[0]!, expiresAt }],
      };
      await putConnection(deps.db, rotated);
      deps.connections.invalidate(connection.id);
      await recordAudit(deps.db, {
        tenantId: connection.tenantId,
        actor: c.get('principal').tokenId,
        action: 'connection.secret_rotated',
        target: connection.id,
        detail: { graceSeconds, previousSecretExpiresAt: expiresAt },
        at: now.toISOString(),
      });
      return c.json({ ...view(rotated), secret, previousSecretExpiresAt: expiresAt });
    })
    .post('/:id/backfill', async (c) => {
      const connection = await own(c.get('principal').tenantId, c.req.param('id'));
      const body = await parseJsonBody(c, BackfillBody);
      const { job, created } = await startBackfill(deps, connection.tenantId, connection.id, body);
      if (created) deps.onJobStarted?.(job.id);
      if (created) {
        const detail = { jobId: job.id, since: job.since };
        await recordAudit(deps.db, { tenantId: connection.tenantId, actor: c.get('principal').tokenId, action: 'connection.backfill_started', target: connection.id, detail, at: deps.clock().toISOString() });
      }
      return c.json(jobView(job, deps.clock()), created ? 202 : 200);
    })
    .delete('/:id', async (c) => {
      const connection = await own(c.get('principal').tenantId, c.req.param('id'));
      await deleteConnection(deps.db, connection.id);
      deps.connections.invalidate(connection.id);
      const detail = { source: connection.source, name: connection.name };
      await recordAudit(deps.db, { tenantId: connection.tenantId, actor: c.get('principal').tokenId, action: 'connection.deleted', target: connection.id, detail, at: deps.clock().toISOString() });
      return c.body(null, 204);
    });
};
