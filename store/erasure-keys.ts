import { personKeys } from '../core/item-filter.ts';
import { personSubjectKey } from '../core/wip.ts';
import type { Person } from '../core/work-item.ts';
import { keys } from './keys.ts';

/**
 * The rows whose KEY names a person, built from the person's identifiers with the same key
 * templates that wrote them: owner entries (the partitions `T#{t}#owner#{id | source:handle |
 * address}`, and before schema version 5 `FACET#owner#…` rows in any item's partition),
 * work-in-progress rows (`person:{id}#…`) and the person's evaluation ticket.
 * An erasure deletes exactly these rows; it never deletes a row because an identifier happens to
 * be a substring of its key (a login `def` is part of the tenant id `default`, `team` of `TEAMS`).
 * Verified-address rows are keyed by a hash and shared with other people: see
 * store/verified-email-merge.ts `forgetVerifiedEmails`.
 */
export const personKeyedRows = (tenantId: string, people: readonly Person[]): ((row: { pk: string; sk: string }) => boolean) => {
  const itemPartition = keys.item(tenantId, '').pk;
  const ownerKeys = people.flatMap(personKeys);
  const ownerPartitions = new Set(ownerKeys.map((value) => keys.itemsByFacet(tenantId, 'owner', value)));
  // Before schema version 5 (and in a table still being upgraded), in the item's partition.
  const legacyFacets = new Set(ownerKeys.map((value) => keys.legacyFacetSk('owner', value)));
  const wipPartition = keys.wipOf(tenantId);
  // `{subject}#` with its delimiter: `person:p_ab#` is never the prefix of `person:p_abc#…`.
  const wipPrefixes = people.map((person) => keys.wipMember(tenantId, personSubjectKey(person.id), '').sk);
  const tickets = new Set(people.map((person) => keys.wipTicket(tenantId, personSubjectKey(person.id)).sk));
  const ticketPartition = keys.wipTicket(tenantId, '').pk;
  return ({ pk, sk }) =>
    ownerPartitions.has(pk) ||
    (pk.startsWith(itemPartition) && legacyFacets.has(sk)) ||
    (pk === wipPartition && wipPrefixes.some((prefix) => sk.startsWith(prefix))) ||
    (pk === ticketPartition && tickets.has(sk));
};
