import type { Db } from '../../../store/db.ts';
import type { Page } from '../../../store/item-queries.ts';
import { type PersonView, listPersonRecords, peopleViews } from '../../../store/people.ts';

export type { PersonView } from '../../../store/people.ts';

/**
 * `GET /v1/people` and `/people`: every person of the tenant seen as an owner or requester, people
 * merged into another folded into it, in one page (`nextCursor` null). Reads the tenant's person
 * records (one Query).
 */
export const loadPeople = async (db: Db, tenantId: string): Promise<Page<PersonView>> => ({
  items: peopleViews(await listPersonRecords(db, tenantId)),
  nextCursor: null,
});
