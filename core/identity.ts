/**
 * Automatic identity resolution (pure): which people to merge because the same verified email
 * address was seen on them in different tools. "Verified" is decided by each connector (see
 * `Person.verifiedEmails`); here only the merge rules live:
 *
 * - people already merged count as their group (the person they were merged into);
 * - the group seen first absorbs the others (then the smaller id), so every process that sees the
 *   same records plans the same merges;
 * - two groups are never merged when an administrator split any member of one from the other:
 *   a manual split wins over the automatic merge, for good.
 */
export interface IdentityRecord {
  id: string;
  firstSeenAt: string;
  mergedInto?: string;
  /** people this one was split from by an administrator */
  splitFrom: readonly string[];
}

export interface MergePlan {
  into: string;
  absorb: string[];
}

const MAX_DEPTH = 20;

export const planVerifiedEmailMerge = (records: readonly IdentityRecord[], sharing: readonly string[]): MergePlan | undefined => {
  const byId = new Map(records.map((r) => [r.id, r]));
  const rootOf = (id: string): string => {
    let current = id;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const next = byId.get(current)?.mergedInto;
      if (!next) return current;
      current = next;
    }
    return current;
  };
  const roots = [...new Set(sharing.filter((id) => byId.has(id)).map(rootOf))].map((id) => byId.get(id)!);
  if (roots.length < 2) return undefined;
  roots.sort((a, b) => a.firstSeenAt.localeCompare(b.firstSeenAt) || a.id.localeCompare(b.id));
  const [into, ...others] = roots as [IdentityRecord, ...IdentityRecord[]];
  const groupOf = (root: string) => records.filter((r) => rootOf(r.id) === root);
  const intoGroup = groupOf(into.id);
  const wasSplit = (a: readonly IdentityRecord[], b: readonly IdentityRecord[]) =>
    a.some((x) => b.some((y) => x.splitFrom.includes(y.id) || y.splitFrom.includes(x.id)));
  const absorb = others.filter((root) => !wasSplit(groupOf(root.id), intoGroup)).map((r) => r.id);
  return absorb.length > 0 ? { into: into.id, absorb } : undefined;
};
