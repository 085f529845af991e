import type { ItemChange } from '../core/changes.ts';
import { itemIdForRef } from '../core/ids.ts';
import { isProvisionalRef, parseJiraRef } from '../core/references.ts';
import type { WorkItem } from '../core/work-item.ts';
import { listConnections } from '../store/connections.ts';
import type { Db } from '../store/db.ts';
import { loadItem } from '../store/items.ts';
import {
  type PendingChange,
  deletePendingChange,
  getRefAlias,
  listIncomingEdges,
  listJiraProjects,
  listPendingChanges,
  putPendingChange,
  putRefAlias,
  rememberJiraProject,
} from '../store/references.ts';

/*
 * Cross-tool references resolve "whichever arrives first":
 *
 * 1. Normalizers get the tenant's known Jira projects (key → site, one row per project, written here
 *    the first time an issue of the project is indexed) and the tenant's Jira sites (of its Jira
 *    connections and known projects). `ACME-12` in a pull request resolves to `jira:{site}/ACME-12`
 *    when ACME is known, or when the tenant has exactly one Jira site (low confidence until ACME is
 *    known). Only without any of that does it stay provisional: `jira:ACME-12`.
 * 2. A Jira issue's upsert names its other refs (aliases): `jira:ACME-12`, `jira:{site}/id/10012`
 *    (Jira's link events name issues by id only), its key before a move. After applying it, the
 *    processor records each alias → ref, then re-points the links other items hold to the alias
 *    (found in the alias's reverse-edge partition) with a `retarget` change.
 * 3. After any change, the processor resolves the provisional targets of the item's own links
 *    through the alias records, so a link written concurrently with step 2 is re-pointed too: each
 *    side writes first and reads the other's write after (strongly consistent single-item reads),
 *    so at least one of them sees the other.
 * 4. Link, activity and delete changes addressed to or naming a provisional ref are resolved before
 *    they apply; one still waiting on a ref, or whose item is not indexed yet, is kept in that ref's
 *    partition until it is.
 *
 * Everything is a strongly consistent read of the main table or a single-item conditional write,
 * and idempotent, so a crash anywhere is repaired by re-running the delivery. Reading the tenant's
 * connections goes through a GSI, but only speeds resolution up: a link made while a new connection
 * is not visible yet is provisional, and steps 2–3 re-point it.
 */

export interface JiraReferenceContext {
  jiraProjects: Readonly<Record<string, string>>;
  jiraSites: readonly string[];
}

/** Applies one change to an item and returns its state after (the pipeline's `applyOne`). */
export type ApplyChange = (change: ItemChange, causationKey: string) => Promise<WorkItem | undefined>;

/** How many settled aliases a process remembers before it starts over (each is re-checked cheaply). */
const MAX_SETTLED_ALIASES = 50_000;

/** The processor's view of each tenant's Jira projects and sites, and the aliases it has settled. */
export class ReferenceDirectory {
  readonly #contexts = new Map<string, { value: JiraReferenceContext; expires: number }>();
  readonly #reading = new Map<string, Promise<JiraReferenceContext>>();
  readonly #projects = new Set<string>();
  readonly #settled = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly ttlMs = 2000,
  ) {}

  /**
   * The tenant's Jira projects and sites, cached for `ttlMs`; what this process learns shows at once.
   * Callers asking while it is read share that read: a batch normalizes its deliveries at once, and
   * each would otherwise read the same two partitions.
   */
  async jiraContext(tenantId: string): Promise<JiraReferenceContext> {
    const hit = this.#contexts.get(tenantId);
    if (hit && hit.expires > Date.now()) return hit.value;
    const reading = this.#reading.get(tenantId);
    if (reading) return reading;
    const read: Promise<JiraReferenceContext> = this.#readJiraContext(tenantId).finally(() => {
      if (this.#reading.get(tenantId) === read) this.#reading.delete(tenantId);
    });
    this.#reading.set(tenantId, read);
    return read;
  }

  async #readJiraContext(tenantId: string): Promise<JiraReferenceContext> {
    const [jiraProjects, connections] = await Promise.all([
      listJiraProjects(this.db, tenantId),
      listConnections(this.db, tenantId).catch(() => []),
    ]);
    const connectionSites = connections
      .filter((c) => c.source === 'jira' && typeof c.settings.site === 'string')
      .map((c) => String(c.settings.site));
    const value = { jiraProjects, jiraSites: sitesOf(jiraProjects, connectionSites) };
    this.#contexts.set(tenantId, { value, expires: Date.now() + this.ttlMs });
    return value;
  }

  /** Records the project of a Jira item the first time this process sees it. */
  async rememberJiraItem(tenantId: string, ref: string): Promise<void> {
    const parsed = parseJiraRef(ref);
    if (!parsed || this.#projects.has(`${tenantId}\u0000${parsed.project}`)) return;
    await rememberJiraProject(this.db, tenantId, parsed.project, parsed.site);
    this.#projects.add(`${tenantId}\u0000${parsed.project}`);
    // A read started before this write may miss it: later callers do not join that one.
    this.#reading.delete(tenantId);
    const cached = this.#contexts.get(tenantId);
    if (cached && cached.value.jiraProjects[parsed.project] === undefined) {
      const jiraProjects = { ...cached.value.jiraProjects, [parsed.project]: parsed.site };
      cached.value = { jiraProjects, jiraSites: sitesOf(jiraProjects, cached.value.jiraSites) };
    }
  }

  isSettled(tenantId: string, alias: string, ref: string): boolean {
    return this.#settled.get(`${tenantId}\u0000${alias}`) === ref;
  }

  /** Once an alias is recorded and the links to it re-pointed, later links to it are resolved by step 3. */
  settle(tenantId: string, alias: string, ref: string): void {
    if (this.#settled.size >= MAX_SETTLED_ALIASES) this.#settled.clear();
    this.#settled.set(`${tenantId}\u0000${alias}`, ref);
  }
}

const sitesOf = (projects: Readonly<Record<string, string>>, sites: readonly string[]): string[] =>
  [...new Set([...sites, ...Object.values(projects)])].sort();

const directories = new WeakMap<Db, ReferenceDirectory>();

/** One directory per table handle, for callers that do not bring their own (e.g. a Lambda processor). */
export const referenceDirectoryFor = (db: Db): ReferenceDirectory => {
  let directory = directories.get(db);
  if (!directory) {
    directory = new ReferenceDirectory(db);
    directories.set(db, directory);
  }
  return directory;
};

const resolveRef = async (db: Db, tenantId: string, ref: string): Promise<string> =>
  isProvisionalRef(ref) ? ((await getRefAlias(db, tenantId, ref)) ?? ref) : ref;

/** Step 4: a change addressed to or naming a provisional ref (a Jira issue id) names the item it stands for, once known. */
export const resolveChangeRefs = async (db: Db, tenantId: string, change: ItemChange): Promise<ItemChange> => {
  if (change.op === 'upsert' || change.op === 'retarget') return change;
  const ref = await resolveRef(db, tenantId, change.ref);
  if (change.op !== 'link') return { ...change, ref };
  const add = await Promise.all(change.add.map(async (link) => ({ ...link, target: await resolveRef(db, tenantId, link.target) })));
  const remove = await Promise.all(change.remove.map(async (link) => ({ ...link, target: await resolveRef(db, tenantId, link.target) })));
  return { ...change, ref, add, remove };
};

/**
 * The provisional ref a resolved change still waits on: its own, or for a link change any target
 * (a link must name its target by the ref the target's own observations use, or the two paths of a
 * Jira issue link would give two edges).
 */
const waitingOn = (change: ItemChange): string | undefined => {
  if (change.op === 'upsert' || change.op === 'retarget') return undefined;
  const refs = change.op === 'link' ? [change.ref, ...change.add.map((l) => l.target), ...change.remove.map((l) => l.target)] : [change.ref];
  return refs.find(isProvisionalRef);
};

export interface ReferenceDeps {
  db: Db;
  directory: ReferenceDirectory;
  apply: ApplyChange;
  clock: () => Date;
}

/** Re-deferral can only move a change to another ref it waits on: a change names at most this many. */
const MAX_DEPTH = 8;

/**
 * Applies one normalized change with everything that makes references resolve whichever side
 * arrives first: its provisional refs are resolved; a change still waiting on a ref, or addressed to
 * an item the index does not hold yet, is kept until that arrives (Jira may deliver a link or a
 * deletion before the creation); after an upsert, the item's aliases are recorded, links to
 * them re-pointed and the changes kept for it applied. Resolves with the item's state after, if any.
 */
export const applyWithReferences = async (
  deps: ReferenceDeps,
  tenantId: string,
  change: ItemChange,
  causationKey: string,
  depth = 0,
): Promise<WorkItem | undefined> => {
  const resolved = await resolveChangeRefs(deps.db, tenantId, change);
  const waiting = waitingOn(resolved);
  if (waiting) {
    await deferChange(deps, tenantId, waiting, resolved, causationKey, depth);
    return undefined;
  }
  const item = await deps.apply(resolved, causationKey);
  if (!item) {
    // Only amendments of an item the index does not hold leave nothing: they wait for it.
    if (resolved.op !== 'upsert' && resolved.op !== 'retarget') await deferChange(deps, tenantId, resolved.ref, resolved, causationKey, depth);
    return undefined;
  }
  return settleReferences(deps, tenantId, resolved, item, causationKey, depth);
};

/**
 * Keeps `change` in the partition of `ref` (an item not indexed yet, or a provisional ref). It is
 * kept first and `ref` looked up after, while the item's first upsert records itself first and
 * looks for kept changes after: whichever comes second applies them.
 */
const deferChange = async (deps: ReferenceDeps, tenantId: string, ref: string, change: ItemChange, causationKey: string, depth: number): Promise<void> => {
  await putPendingChange(deps.db, tenantId, itemIdForRef(ref), { causationKey, change }, deps.clock());
  const target = isProvisionalRef(ref) ? await getRefAlias(deps.db, tenantId, ref) : ref;
  if (target === undefined || depth >= MAX_DEPTH) return;
  const { item } = await loadItem(deps.db, tenantId, itemIdForRef(target));
  if (item) await applyPendingChanges(deps, tenantId, ref, depth + 1);
};

/** Applies the changes kept in the partition of `ref`, in the order they happened, and drops them. */
const applyPendingChanges = async (deps: ReferenceDeps, tenantId: string, ref: string, depth: number): Promise<void> => {
  const partition = itemIdForRef(ref);
  const pending = await listPendingChanges(deps.db, tenantId, partition);
  const timeOf = (p: PendingChange): string => ('at' in p.change ? p.change.at : '');
  pending.sort((a, b) => timeOf(a).localeCompare(timeOf(b)) || a.causationKey.localeCompare(b.causationKey));
  for (const { causationKey, change } of pending) {
    await applyWithReferences(deps, tenantId, change, causationKey, depth + 1);
    await deletePendingChange(deps.db, tenantId, partition, causationKey);
  }
};

/** {@link settleReferences} for an item a batch wrote (processing/batch.ts), when its references need more than the batch did. */
export const settleItemReferences = (deps: ReferenceDeps, tenantId: string, change: ItemChange, item: WorkItem, causationKey: string) =>
  settleReferences(deps, tenantId, change, item, causationKey, 0);

/**
 * After `change` left `item` in the index: for an upsert, record the item's project and aliases,
 * re-point links made to its aliases and apply changes kept for it (steps 2 and 4); for any change,
 * resolve the provisional targets of the item's own links (step 3).
 */
const settleReferences = async (
  deps: ReferenceDeps,
  tenantId: string,
  change: ItemChange,
  item: WorkItem,
  causationKey: string,
  depth: number,
): Promise<WorkItem | undefined> => {
  const { db, directory, apply } = deps;
  let current: WorkItem | undefined = item;
  const reload = async () => (await loadItem(db, tenantId, item.id)).item ?? current;
  if (change.op === 'upsert' && change.item.ref === item.ref) {
    if (item.source === 'jira') await directory.rememberJiraItem(tenantId, item.ref);
    // Changes can only have been kept for the item before this process first saw it (see deferChange).
    if (!directory.isSettled(tenantId, item.ref, item.ref)) {
      await applyPendingChanges(deps, tenantId, item.ref, depth);
      directory.settle(tenantId, item.ref, item.ref);
      current = await reload();
    }
    for (const alias of change.aliases ?? []) {
      if (alias === item.ref || directory.isSettled(tenantId, alias, item.ref)) continue;
      if (!(await putRefAlias(db, tenantId, alias, item.ref, change.item.updatedAt))) continue;
      const holders = new Set((await listIncomingEdges(db, tenantId, itemIdForRef(alias))).map((edge) => edge.from));
      for (const holder of [...holders].sort()) {
        await apply({ op: 'retarget', ref: holder, from: alias, to: item.ref }, `${causationKey}#retarget#${alias}#${holder}`);
      }
      await applyPendingChanges(deps, tenantId, alias, depth);
      directory.settle(tenantId, alias, item.ref);
      current = await reload();
    }
  }
  const provisional = [...new Set((current?.links ?? []).map((link) => link.target).filter(isProvisionalRef))].sort();
  for (const target of provisional) {
    const resolved = await getRefAlias(db, tenantId, target);
    if (resolved && resolved !== target && current) {
      current = (await apply({ op: 'retarget', ref: current.ref, from: target, to: resolved }, `${causationKey}#resolve#${target}`)) ?? current;
    }
  }
  return current;
};
