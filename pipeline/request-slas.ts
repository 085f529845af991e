import type { WorkItem } from '../core/work-item.ts';
import { listConnections } from '../store/connections.ts';
import type { Db } from '../store/db.ts';

/** How long a process keeps a tenant's mailbox SLAs: a connection's new `slaHours` applies within it. */
const TTL_MS = 30_000;

type MailboxSlas = ReadonlyMap<string, number>;

const caches = new WeakMap<Db, Map<string, { slas: MailboxSlas; expires: number }>>();

/**
 * The `slaHours` each email connection of a tenant sets, by mailbox: `request_unanswered` takes a
 * request's mailbox SLA before the tenant's `requestSlaHours`. Read from the tenant's connections
 * (one query), cached per process for 30 s, since alerts are evaluated after every change.
 */
export const mailboxSlas = async (db: Db, tenantId: string): Promise<MailboxSlas> => {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const hit = cache.get(tenantId);
  if (hit && hit.expires > Date.now()) return hit.slas;
  const slas = new Map<string, number>();
  for (const connection of await listConnections(db, tenantId)) {
    const { address, slaHours } = connection.settings;
    if (connection.source === 'email' && typeof address === 'string' && typeof slaHours === 'number') slas.set(address.toLowerCase(), slaHours);
  }
  cache.set(tenantId, { slas, expires: Date.now() + TTL_MS });
  return slas;
};

/** The SLA of the mailbox an email request came through, when its connection sets one. */
export const requestSlaHoursOf = (slas: MailboxSlas, item: WorkItem): number | undefined =>
  item.source === 'email' ? slas.get(item.container.key.toLowerCase()) : undefined;
