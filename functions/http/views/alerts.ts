import * as z from 'zod';
import { type Alert, AlertKind, AlertState } from '../../../core/alerts.ts';
import { listAlerts } from '../../../store/alerts.ts';
import type { Db } from '../../../store/db.ts';
import type { Page } from '../../../store/item-queries.ts';

/**
 * `GET /v1/alerts` and `/alerts`: the filters, one schema for both. `team` is compared with the
 * alert's team as read (never part of a key), so it has no length limit of its own.
 */
export const AlertListFilter = z.object({ state: AlertState.optional(), kind: AlertKind.optional(), team: z.string().optional() });
export type AlertListFilter = z.infer<typeof AlertListFilter>;

/**
 * The alert list: newest opened first, through the narrowest alert index (store/alerts.ts), every
 * condition re-checked on the alert read. A cursor of another filter is refused (400).
 */
export const loadAlertList = (db: Db, tenantId: string, filter: AlertListFilter, page: { limit: number; cursor?: string }): Promise<Page<Alert>> =>
  listAlerts(db, tenantId, filter, page);
