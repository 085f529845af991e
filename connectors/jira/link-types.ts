import type { LinkType } from '../../core/work-item.ts';

/**
 * The link each side of a Jira issue link holds: the outward issue ("A blocks B": A) holds
 * `outward` pointing at the inward one, which holds `inward` pointing back.
 */
export interface LinkTypePair {
  outward: LinkType;
  inward: LinkType;
}

const pair = (outward: LinkType, inward: LinkType): LinkTypePair => ({ outward, inward });

/*
 * Jira's default link types by name. A duplicate is held as `duplicates` by the duplicate and as
 * `relates` by the original (the catalog has no "duplicated by"). Sub-task and epic links are
 * parent/child: the parent holds `parent`, the child holds `child` (each reads "holder {type} target").
 */
const BY_NAME: Readonly<Record<string, LinkTypePair>> = {
  blocks: pair('blocks', 'blocked_by'),
  duplicate: pair('duplicates', 'relates'),
  relates: pair('relates', 'relates'),
  cloners: pair('relates', 'relates'),
  'problem/incident': pair('relates', 'relates'),
  jira_subtask_link: pair('parent', 'child'),
  'epic-story link': pair('parent', 'child'),
};

/** Custom link types, by the words of their outward description. */
const BY_WORDS: readonly [RegExp, LinkTypePair][] = [
  [/\bblocks\b/i, pair('blocks', 'blocked_by')],
  [/\b(?:depends on|is blocked by|blocked by|requires|needs)\b/i, pair('blocked_by', 'blocks')],
  [/\bduplicat/i, pair('duplicates', 'relates')],
  [/\bimplements\b/i, pair('implements', 'implemented_by')],
  [/\b(?:is implemented by|implemented by)\b/i, pair('implemented_by', 'implements')],
  [/\b(?:parent of|has child|contains)\b/i, pair('parent', 'child')],
  [/\b(?:child of|is part of|belongs to)\b/i, pair('child', 'parent')],
];

/** The links a Jira link type gives its two sides; anything not recognized relates them. */
export function linkTypesOf(type: { name: string; outward?: string | null }): LinkTypePair {
  const known = BY_NAME[type.name.trim().toLowerCase()];
  if (known) return known;
  const outward = type.outward ?? '';
  return BY_WORDS.find(([words]) => words.test(outward))?.[1] ?? pair('relates', 'relates');
}
