import type * as z from 'zod';
import { type BottleneckSettings, BottlenecksQuery, rankBottlenecks } from '../../../core/bottlenecks.ts';
import type { Db } from '../../../store/db.ts';
import { readBlockingGraph } from '../../../store/blocked.ts';
import { itemsInStatus } from '../../../store/view-queries.ts';
import { snapshotOf } from '../../../store/view-snapshots.ts';
import { asViewed } from './viewed.ts';

/** The analysis: all blocked work (store/blocked.ts) and the work in progress, as the views see them. */
const analyse = async (db: Db, tenantId: string, now: Date, settings: BottleneckSettings) => {
  const [{ blockedBy, items }, inProgress, inReview, { folded }] = await Promise.all([
    readBlockingGraph(db, tenantId),
    itemsInStatus(db, tenantId, 'in_progress'),
    itemsInStatus(db, tenantId, 'in_review'),
    asViewed(db, tenantId),
  ]);
  const viewed = new Map([...items].map(([id, item]) => [id, folded(item)]));
  return rankBottlenecks({ blockedBy, items: viewed, inProgress: inProgress.map(folded), inReview: inReview.map(folded) }, settings, now);
};

/**
 * `GET /v1/views/bottlenecks`: what holds work up, from a snapshot at most `maxAgeSeconds` old
 * shared by every API instance (the analysis reads all blocked and in-progress work).
 */
export const loadBottlenecks = async (db: Db, tenantId: string, now: Date, query: Partial<z.input<typeof BottlenecksQuery>> = {}) => {
  const { maxAgeSeconds, ...settings } = BottlenecksQuery.parse(query);
  const snapshot = await snapshotOf(db, { tenantId, view: 'bottlenecks', parameters: settings, maxAgeSeconds, now }, () => analyse(db, tenantId, now, settings));
  return { ...snapshot.view, computedAt: snapshot.computedAt };
};
