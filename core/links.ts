import type { LinkType } from './work-item.ts';

/** How a link reads from its target's side: A `blocks` B means B is `blocked_by` A. */
export const INVERSE_LINK_TYPE: Readonly<Record<LinkType, LinkType>> = {
  blocks: 'blocked_by',
  blocked_by: 'blocks',
  parent: 'child',
  child: 'parent',
  implements: 'implemented_by',
  implemented_by: 'implements',
  duplicates: 'duplicates',
  relates: 'relates',
  mentions: 'mentions',
};

/** Link types, seen from the item that holds them, that name something it waits on. */
export const UPSTREAM_LINK_TYPES: ReadonlySet<LinkType> = new Set(['blocked_by']);
/** …and something that waits on it. */
export const DOWNSTREAM_LINK_TYPES: ReadonlySet<LinkType> = new Set(['blocks']);
