import * as z from 'zod';
import { Category, Kind, Source, StatusCategory, type Person, type WorkItem } from './work-item.ts';

/** Filters of `GET /v1/items`. Values are matched exactly; `owner` takes a person id, `source:handle` or an email address. */
export const ItemFilter = z.object({
  source: Source.optional(),
  kind: Kind.optional(),
  category: Category.optional(),
  status: StatusCategory.optional().describe('status category'),
  owner: z.string().optional().describe('person id (p_…), `github:octocat`, or an email address'),
  container: z.string().optional().describe('`{source}:{key}`, e.g. `github:octo/api`'),
  label: z.string().optional(),
  updatedSince: z.iso.datetime({ offset: true }).optional(),
  includeDeleted: z.stringbool().optional().describe('include tombstones of deleted or transferred items'),
  blocked: z.stringbool().optional().describe('only items with (true) or without (false) an open blocker, from any tool'),
});
export type ItemFilter = z.infer<typeof ItemFilter>;

/** Every key a person can be found by in an owner filter. */
export const personKeys = (person: Person): string[] => [
  person.id,
  ...person.handles.map((h) => `${h.source}:${h.handle}`.toLowerCase()),
  ...person.emails.map((e) => e.toLowerCase()),
];

export const containerKey = (item: Pick<WorkItem, 'container'>): string => `${item.container.source}:${item.container.key}`;

/**
 * The whole filter as a predicate. Queries narrow with an index first, then apply this to what
 * they read, so a stale index row (written before a crash, or by an eventually consistent GSI)
 * can never put a wrong item in a result. `blocked` is derived from other items: queries check it
 * against the item's dependency state, not here.
 */
export const matchesFilter = (item: WorkItem, filter: ItemFilter): boolean =>
  (filter.includeDeleted || !item.deleted) &&
  (!filter.source || item.source === filter.source) &&
  (!filter.kind || item.kind === filter.kind) &&
  (!filter.category || item.category === filter.category) &&
  (!filter.status || item.status.category === filter.status) &&
  (!filter.container || containerKey(item) === filter.container) &&
  (!filter.label || item.labels.includes(filter.label)) &&
  (!filter.owner || item.owners.some((p) => personKeys(p).includes(filter.owner!.toLowerCase()))) &&
  (!filter.updatedSince || Date.parse(item.updatedAt) >= Date.parse(filter.updatedSince));
