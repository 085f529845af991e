import { describe, expect, it } from 'vitest';
import { github } from '../../connectors/github/index.ts';
import { DevelopmentChange, type ItemChange } from '../../core/changes.ts';
import { erasedPerson, identifierHash, personIdentifiers, pseudonymizeChanges, scrubBody, scrubItem, termsOf } from '../../core/erasure.ts';
import { EventData, EventEnvelope, type EventContext, eventsForChange } from '../../core/events.ts';
import { applyChange } from '../../core/merge.ts';
import type { Branch, Commit, Person, WorkItem } from '../../core/work-item.ts';
import { DANA, DANA_TERMS, danaUser } from '../fixtures/erasable-person.ts';
import { githubExamples, toBody } from '../fixtures/github-examples.ts';
import { at, indexedItem, upsert } from '../fixtures/work-items.ts';
import { DevelopmentSection } from '../../web/development.tsx';

const REF = 'github:octo/api#1';
const CONTEXT: EventContext = { tenantId: 'ten_acme', causationKey: 'github:delivery-1:0', time: '2024-01-01T12:00:00.000Z' };

const commit = (n: number, overrides: Partial<Commit> = {}): Commit => ({
  sha: n.toString(16).padStart(40, '0'),
  repository: 'octo/api',
  message: `Retry the login, part ${n} (#1)`,
  author: { name: 'Mona Lisa', login: 'monalisa' },
  at: at(n),
  url: `https://github.com/octo/api/commit/${n.toString(16).padStart(40, '0')}`,
  branches: ['main'],
  ...overrides,
});

const branch = (name: string, minute: number, deleted = false): Branch => ({
  repository: 'octo/api',
  name,
  at: at(minute),
  ...(deleted ? { deleted: true } : { url: `https://github.com/octo/api/tree/${name}` }),
});

const development = (minute: number, parts: { commits?: Commit[]; branches?: Branch[] }): DevelopmentChange =>
  DevelopmentChange.parse({ op: 'development', ref: REF, at: at(minute), ...parts });

const applied = (current: WorkItem, change: ItemChange): WorkItem => {
  const next = applyChange(current, change);
  if (!next) throw new Error(`expected ${change.op} to change the item`);
  return next;
};

describe('eventsForChange: development', () => {
  it('announces pushed commits and a new branch in one work.item.development_changed, with only what is new', () => {
    const before = applied(indexedItem(), development(3, { commits: [commit(2)] }));
    const after = applied(before, development(5, { commits: [commit(2), commit(4)], branches: [branch('ACME-1-login', 5)] }));
    const events = eventsForChange(before, after, CONTEXT);
    expect(events.map((e) => e.type)).toEqual(['work.item.development_changed']);
    const data = EventData['work.item.development_changed'].parse(events[0]!.data);
    expect(data).toEqual({
      item: expect.objectContaining({ ref: REF, version: after.version }),
      commitsAdded: [commit(4)],
      branchesAdded: [branch('ACME-1-login', 5)],
      branchesRemoved: [],
    });
    expect(EventEnvelope.parse(JSON.parse(JSON.stringify(events[0])))).toEqual(events[0]);
  });

  it('announces a deleted branch as removed, and says nothing of another push to a branch it knows', () => {
    const created = applied(indexedItem(), development(5, { branches: [branch('ACME-1-login', 5)] }));
    const pushedAgain = applied(created, development(7, { branches: [branch('ACME-1-login', 7)] }));
    expect(eventsForChange(created, pushedAgain, CONTEXT)).toEqual([]);
    const deleted = applied(pushedAgain, development(9, { branches: [branch('ACME-1-login', 9, true)] }));
    const [event] = eventsForChange(pushedAgain, deleted, CONTEXT);
    expect(event!.type).toBe('work.item.development_changed');
    expect(event!.data).toMatchObject({ commitsAdded: [], branchesAdded: [], branchesRemoved: [branch('ACME-1-login', 9, true)] });
  });

  it('does not repeat the development lists in work.item.updated when the item is observed again', () => {
    const before = applied(indexedItem({ updatedAt: at(1) }), development(3, { commits: [commit(2)] }));
    const after = applied(before, upsert({ title: 'Renamed', updatedAt: at(4) }));
    expect(after.development).toEqual(before.development);
    const events = eventsForChange(before, after, CONTEXT);
    expect(events.map((e) => e.type)).toEqual(['work.item.updated']);
    expect(Object.keys((events[0]!.data as { changes: object }).changes)).toEqual(['title']);
  });
});

describe('erasure of commit authors', () => {
  const TENANT = 'ten_test';
  const PSEUDONYM = 'erased-0123456789abcdef';
  const dana: Person = { id: 'p_dana', name: DANA.name, handles: [{ source: 'github', handle: DANA.login, externalId: String(DANA.id) }], emails: [DANA.email] };
  const tombstone = () => {
    const hashes = new Map(personIdentifiers(dana).map((i) => [identifierHash(TENANT, i), PSEUDONYM]));
    return (hash: string) => hashes.get(hash);
  };

  /** A real push of a commit by Dana naming issue #1. */
  const pushByDana = () => {
    const payload = githubExamples('push').find((e) => (e.payload as any).commits?.length > 0)!.payload as any;
    payload.commits[0].message = `Retry the login (#1), thanks @${DANA.login}`;
    payload.commits[0].author = { name: DANA.name, email: DANA.email, username: DANA.login };
    payload.pusher = { name: DANA.login, email: DANA.email };
    payload.sender = danaUser();
    return payload;
  };
  const normalizePush = (payload: unknown): ItemChange[] => {
    const result = github.normalize(
      { event: 'push', headers: {}, body: toBody(payload), receivedAt: '2030-01-01T00:00:00.000Z' },
      { connection: { id: 'con_test', settings: {} }, jiraProjects: {} },
    );
    if (result.outcome !== 'changes') throw new Error(result.reason);
    return result.changes;
  };
  const mentions = (text: string) => DANA_TERMS.filter((term) => text.toLowerCase().includes(term.toLowerCase()));

  it('pseudonymizes an erased author and her @mention in a later push, and recognizes her for the raw body', () => {
    const changes = normalizePush(pushByDana());
    expect(mentions(JSON.stringify(changes))).not.toEqual([]);
    const { changes: out, recognized } = pseudonymizeChanges(TENANT, changes, tombstone());
    expect(mentions(JSON.stringify(out))).toEqual([]);
    const [change] = out as DevelopmentChange[];
    expect(change!.commits[0]!.author).toEqual({ name: PSEUDONYM });
    expect(change!.commits[0]!.message).toBe(`Retry the login (#1), thanks @${PSEUDONYM}`);
    expect(recognized.map((r) => r.pseudonym)).toEqual([PSEUDONYM]);
    // The raw push rewritten with what was recognized names her no more, and replays to the same state.
    const rewritten = scrubBody(JSON.stringify(pushByDana()), termsOf(TENANT, recognized))!;
    expect(mentions(rewritten)).toEqual([]);
    expect(pseudonymizeChanges(TENANT, normalizePush(JSON.parse(rewritten)), () => undefined).changes).toEqual(out);
  });

  it('removes an erased author from the commits an item holds', () => {
    const item = applied(indexedItem(), development(5, { commits: [commit(4, { author: { name: DANA.name, login: DANA.login } }), commit(3)] }));
    const scrubbed = scrubItem(item, termsOf(TENANT, [{ person: dana, pseudonym: PSEUDONYM }]))!;
    expect(mentions(JSON.stringify(scrubbed))).toEqual([]);
    expect(scrubbed.development!.commits.map((c) => c.author)).toEqual([{ name: PSEUDONYM, login: PSEUDONYM }, { name: 'Mona Lisa', login: 'monalisa' }]);
    expect(scrubbed.development!.commits.map((c) => c.sha)).toEqual(item.development!.commits.map((c) => c.sha));
    expect(erasedPerson(PSEUDONYM).name).toBe(PSEUDONYM);
  });
});

describe('the item page development section', () => {
  const render = (props: Parameters<typeof DevelopmentSection>[0]) => String(DevelopmentSection(props) ?? '');

  it('lists branches and commits with their links, author and time', () => {
    const html = render({
      development: { commits: [commit(4)], branches: [branch('ACME-1-login', 5), branch('ACME-1-old', 3, true)] },
    });
    expect(html).toContain('<h2>Development</h2>');
    expect(html).toContain('href="https://github.com/octo/api/tree/ACME-1-login"');
    expect(html).toContain('<s>ACME-1-old</s>');
    expect(html).toContain(`href="${commit(4).url}"`);
    expect(html).toContain('Retry the login, part 4 (#1)');
    expect(html).toContain('Mona Lisa');
  });

  it('escapes text from the tools and links only to web addresses', () => {
    const html = render({
      development: { commits: [commit(4, { message: '<img src=x onerror=alert(1)>', url: 'javascript:alert(1)' })], branches: [] },
    });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('javascript:');
  });

  it('shows nothing when no push or branch named the item', () => {
    expect(render({ development: undefined })).toBe('');
  });
});
