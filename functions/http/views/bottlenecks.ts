import type * as z from 'zod';
import { type BottleneckSettings, BottlenecksQuery, rankBottlenecks, rankedItemOf } from '../../../core/bottlenecks.ts';
import type { WorkItem } from '../../../core/work-item.ts';
import type { Db } from '../../../store/db.ts';
import { readBlockingGraph } from '../../../store/blocked.ts';
import { itemsInStatus } from '../../../store/view-queries.ts';
import { snapshotOf } from '../../../store/view-snapshots.ts';
import { asViewed } from './viewed.ts';

/**
 * The analysis: all blocked work (store/blocked.ts) and the work in progress, as the views see them.
 * Work in progress and in review is kept as the ranking reads it, page by page (28,000 items at 100k).
 */
const analyse = async (db: Db, tenantId: string, now: Date, settings: BottleneckSettings) => {
  const { folded } = await asViewed(db, tenantId);
  const select = (item: WorkItem) => rankedItemOf(folded(item));
  const [{ blockedBy, items }, inProgress, inReview] = await Promise.all([
    readBlockingGraph(db, tenantId),
    itemsInStatus(db, tenantId, 'in_progress', { select }),
    itemsInStatus(db, tenantId, 'in_review', { select }),
  ]);
  const viewed = new Map([...items].map(([id, item]) => [id, folded(item)]));
  return rankBottlenecks({ blockedBy, items: viewed, inProgress, inReview }, settings, now);
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
