import { describe, expect, it } from 'vitest';
import { github } from '../../connectors/github/index.ts';
import type { UpsertChange } from '../../core/changes.ts';
import { erasedPerson, identifierHash, personIdentifiers, pseudonymizeChanges, scrubBody, scrubJson, scrubText, termsOf } from '../../core/erasure.ts';
import { personIdFor } from '../../core/ids.ts';
import type { Person } from '../../core/work-item.ts';
import { DANA, DANA_TERMS, issueAssignedToDana } from '../fixtures/erasable-person.ts';
import { toBody } from '../fixtures/github-examples.ts';

const TENANT = 'ten_test';
const PSEUDONYM = 'erased-0123456789abcdef';

const upsertOf = (payload: unknown): UpsertChange => {
  const result = github.normalize(
    { event: 'issues', headers: { 'x-github-event': 'issues' }, body: toBody(payload), receivedAt: '2030-01-01T00:00:00.000Z' },
    { connection: { id: 'con_test', settings: {} }, jiraProjects: {} },
  );
  if (result.outcome !== 'changes' || result.changes[0]?.op !== 'upsert') throw new Error('expected an upsert');
  return result.changes[0];
};

const dana = (): Person => upsertOf(issueAssignedToDana(1)).item.owners[0]!;
const tombstoneOf = (person: Person) => {
  const hashes = new Map(personIdentifiers(person).map((i) => [identifierHash(TENANT, i), PSEUDONYM]));
  return (hash: string) => hashes.get(hash);
};
const mentions = (text: string) => DANA_TERMS.filter((term) => text.toLowerCase().includes(term.toLowerCase()));

describe('erasure (pure)', () => {
  it('pseudonymizes an erased owner and her @mention in a later delivery, from hashes alone', () => {
    const change = upsertOf(issueAssignedToDana(7));
    expect(change.item.owners[0]!.id).toBe(personIdFor(`github:${DANA.id}`));
    const { changes, recognized } = pseudonymizeChanges(TENANT, [change], tombstoneOf(dana()));
    const item = (changes[0] as UpsertChange).item;
    expect(item.owners).toEqual([erasedPerson(PSEUDONYM)]);
    expect(item.title).toBe(`Spelling error 7, cc @${PSEUDONYM}`);
    expect(recognized.map((r) => r.person.handles[0]!.handle)).toEqual([DANA.login]);
    expect(mentions(JSON.stringify(changes))).toEqual([]);
  });

  it('leaves people who were not erased alone', () => {
    const change = upsertOf(issueAssignedToDana(7));
    const { changes, recognized } = pseudonymizeChanges(TENANT, [change], () => undefined);
    expect(changes).toEqual([change]);
    expect(recognized).toEqual([]);
  });

  it('rewrites a raw body so that it names no one, and a replay of it gives the same pseudonymized state', () => {
    const body = JSON.stringify(issueAssignedToDana(3));
    const rewritten = scrubBody(body, termsOf(TENANT, [{ person: dana(), pseudonym: PSEUDONYM }]))!;
    expect(mentions(body)).not.toEqual([]);
    expect(mentions(rewritten)).toEqual([]);
    // The repository (owned by another account) and the item's identity are untouched.
    const replayed = upsertOf(JSON.parse(rewritten));
    expect(replayed.item.ref).toBe(upsertOf(JSON.parse(body)).item.ref);
    expect(replayed.item.url).toBe(upsertOf(JSON.parse(body)).item.url);
    // Replayed without any tombstone (a rebuilt table): the pseudonym in the payload is enough.
    const { changes } = pseudonymizeChanges(TENANT, [replayed], () => undefined);
    expect((changes[0] as UpsertChange).item.owners).toEqual([erasedPerson(PSEUDONYM)]);
    expect((changes[0] as UpsertChange).item.title).toBe(`Spelling error 3, cc @${PSEUDONYM}`);
  });

  it('returns nothing for a body that does not name the person', () => {
    const other = structuredClone(issueAssignedToDana(3));
    const terms = termsOf(TENANT, [{ person: { id: 'p_x', name: 'Zed Nobody', handles: [{ source: 'github', handle: 'zed-nobody' }], emails: [] }, pseudonym: PSEUDONYM }]);
    expect(scrubBody(JSON.stringify(other), terms)).toBeUndefined();
  });

  it('replaces display names and logins in alert messages, and people in events, but never refs', () => {
    const terms = termsOf(TENANT, [{ person: dana(), pseudonym: PSEUDONYM }]);
    expect(scrubText(`octo/api#1 (GitHub issue, owned by ${DANA.name}) waits`, terms, { logins: true })).toBe(`octo/api#1 (GitHub issue, owned by ${PSEUDONYM}) waits`);
    const event = { id: 'evt_1', subject: `github:${DANA.login}/repo#1`, data: { owners: [dana()], alert: { message: `owned by ${DANA.login}` } } };
    const scrubbed = scrubJson(event, terms) as typeof event;
    expect(scrubbed.subject).toBe(event.subject);
    expect(scrubbed.data.owners).toEqual([erasedPerson(PSEUDONYM)]);
    expect(scrubbed.data.alert.message).toBe(`owned by ${PSEUDONYM}`);
  });
});
