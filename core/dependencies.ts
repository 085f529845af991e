import * as z from 'zod';
import { DOWNSTREAM_LINK_TYPES, INVERSE_LINK_TYPE, UPSTREAM_LINK_TYPES } from './links.ts';
import { itemIdForRef } from './ids.ts';
import { Link, LinkType, Status, type WorkItem } from './work-item.ts';

/** A link another item holds to this one, read from this item's side. */
export const IncomingLink = Link.extend({
  type: LinkType.describe('the link as read from this item (the inverse of what the other item holds)'),
  target: z.string().describe('ref of the item that holds the link'),
});
export type IncomingLink = z.infer<typeof IncomingLink>;

export const RelatedItem = z.object({
  id: z.string(),
  ref: z.string(),
  /** false while the other item is not in the index yet (a pending edge) */
  indexed: z.boolean(),
  title: z.string().optional(),
  url: z.string().optional(),
  status: Status.optional(),
  via: Link.pick({ type: true, origin: true, confidence: true }),
});
export type RelatedItem = z.infer<typeof RelatedItem>;

export const Dependencies = z.object({
  upstream: z.array(RelatedItem).describe('what this item waits on'),
  downstream: z.array(RelatedItem).describe('what waits on this item'),
});
export type Dependencies = z.infer<typeof Dependencies>;

/**
 * Links stored at this item as reverse edges, kept only while the other item still holds them
 * (a reverse edge written before a crash, or left by a removed link, is ignored).
 */
export const confirmedIncoming = (
  itemRef: string,
  edges: readonly { from: string; link: Link }[],
  holders: ReadonlyMap<string, WorkItem>,
): IncomingLink[] =>
  edges
    .filter(({ from, link }) => holders.get(itemIdForRef(from))?.links.some((l) => l.type === link.type && l.target === itemRef))
    .map(({ from, link }) => ({ ...link, type: INVERSE_LINK_TYPE[link.type], target: from }));

/** Upstream and downstream neighbours of an item from its links in both directions. */
export const directDependencies = (
  item: WorkItem,
  incoming: readonly IncomingLink[],
  related: ReadonlyMap<string, WorkItem>,
): Dependencies => {
  const all = [...item.links, ...incoming];
  const describe = (link: Link): RelatedItem => {
    const other = related.get(itemIdForRef(link.target));
    return {
      id: itemIdForRef(link.target),
      ref: link.target,
      indexed: other !== undefined,
      ...(other ? { title: other.title, url: other.url, status: other.status } : {}),
      via: { type: link.type, origin: link.origin, confidence: link.confidence },
    };
  };
  // Both items often hold the same dependency (Jira shows a link on both issues): one entry per neighbour.
  const neighbours = (types: ReadonlySet<Link['type']>) => {
    const byTarget = new Map<string, Link>();
    for (const link of all) {
      const seen = byTarget.get(link.target);
      if (types.has(link.type) && (!seen || link.confidence > seen.confidence)) byTarget.set(link.target, link);
    }
    return [...byTarget.values()].map(describe);
  };
  return { upstream: neighbours(UPSTREAM_LINK_TYPES), downstream: neighbours(DOWNSTREAM_LINK_TYPES) };
};
