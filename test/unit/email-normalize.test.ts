import { beforeAll, describe, expect, it } from 'vitest';
import { cleanSubject, createEmailConnector, EmailSettings, messageFromMime, normalizeEmailMessage, priorityOf } from '../../connectors/email/index.ts';
import type { EmailMessage } from '../../connectors/email/message.ts';
import type { ItemChange, UpsertChange } from '../../core/changes.ts';
import { personIdFor } from '../../core/ids.ts';
import { applyChange } from '../../core/merge.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { emailFixture, storedDelivery } from '../support/email.ts';

const email = createEmailConnector();
const SETTINGS = { provider: 'raw', address: 'platform@acme.example' };
const ROOT_REF = 'email:platform@acme.example/CAH5o0vW1x+checkout-502@mail.gmail.com';
const ACME = { ACME: 'acme.atlassian.net' };

const normalizeFixture = async (name: string, settings: Record<string, unknown> = SETTINGS, jiraProjects: Record<string, string> = {}): Promise<UpsertChange> => {
  const result = await email.normalize(storedDelivery('raw.message', emailFixture(name)), {
    connection: { id: 'con_raw', settings: EmailSettings.parse(settings) },
    jiraProjects,
  });
  if (result.outcome !== 'changes') throw new Error(`expected changes, got: ${result.reason}`);
  expect(result.changes).toHaveLength(1);
  return result.changes[0] as UpsertChange;
};

/** A message edited from a fixture: the other fields stay as the fixture has them. */
const edited = async (name: string, edit: Partial<EmailMessage>): Promise<EmailMessage> => ({ ...(await messageFromMime(emailFixture(name))), ...edit });

const normalizeMessage = (message: EmailMessage, settings: Record<string, unknown> = SETTINGS): ItemChange[] => {
  const result = normalizeEmailMessage(message, {
    settings: EmailSettings.parse(settings),
    jiraProjects: {},
    receivedAt: '2024-03-10T00:00:00.000Z',
    fallbackId: 'sha256:0000',
    event: 'raw.message',
  });
  if (result.outcome !== 'changes') throw new Error(`expected changes, got: ${result.reason}`);
  return result.changes;
};

const applyInOrder = (changes: readonly ItemChange[]): WorkItem | undefined =>
  changes.reduce<WorkItem | undefined>((current, change) => applyChange(current, change) ?? current, undefined);

const permutations = <T>(list: readonly T[]): T[][] =>
  list.length <= 1 ? [[...list]] : list.flatMap((head, i) => permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((rest) => [head, ...rest]));

const ana = { id: personIdFor('email:ana.lima@customer.example'), name: 'Ana Lima', handles: [{ source: 'email', handle: 'ana.lima@customer.example' }], emails: ['ana.lima@customer.example'] };

describe('email normalize: the first message of a thread', () => {
  it('becomes a new request: ref from the Message-ID, title without tags, requester, priority, labels, links', async () => {
    const change = await normalizeFixture('request-multipart-qp.eml', SETTINGS, ACME);
    expect(change.item).toEqual({
      ref: ROOT_REF,
      source: 'email',
      kind: 'request',
      title: 'Checkout returns 502 in staging – blocks Friday release',
      container: { source: 'email', key: 'platform@acme.example', name: 'platform@acme.example' },
      status: { name: 'new', category: 'todo' },
      // the [urgent] tag outranks X-Priority 1 / Importance high
      priority: { name: '[urgent]', level: 'urgent' },
      owners: [],
      requester: ana,
      labels: ['urgent'],
      createdAt: '2024-03-04T17:15:02.000Z',
      updatedAt: '2024-03-04T17:15:02.000Z',
      links: [
        { type: 'relates', target: 'jira:acme.atlassian.net/ACME-42', origin: 'key_mention', confidence: 0.8 },
        { type: 'relates', target: 'github:octo/api#12', origin: 'key_mention', confidence: 0.8 },
      ],
    });
    expect(change).toMatchObject({ linkOrigins: [], activityAt: '2024-03-04T17:15:02.000Z', earliestFields: expect.arrayContaining(['requester', 'title']) });
  });

  it('names Jira keys of unknown projects with low confidence while no Jira connection is known', async () => {
    const change = await normalizeFixture('request-multipart-qp.eml');
    expect(change.item.links).toContainEqual({ type: 'relates', target: 'jira:ACME-42', origin: 'key_mention', confidence: 0.5 });
  });

  it('keeps dependency phrases: "blocked by ACME-9" is a blocked_by link; a GitHub issue URL relates', async () => {
    const change = await normalizeFixture('request-html-only.eml');
    expect(change.item.links).toEqual([
      { type: 'blocked_by', target: 'jira:ACME-9', origin: 'key_mention', confidence: 0.5 },
      { type: 'relates', target: 'github:acme/it#5', origin: 'key_mention', confidence: 0.8 },
    ]);
    // auto-generated mail (a bot's notification) is a request like any other
    expect(change.item.requester?.emails).toEqual(['noreply@facilities.example']);
  });

  it('maps a plus-addressed recipient to its team, and falls back to the connection team', async () => {
    const teams = { ...SETTINGS, teams: { 'platform+db@acme.example': 'databases' }, team: 'platform' };
    expect((await normalizeFixture('request-latin1.eml', teams)).item.team).toBe('databases');
    expect((await normalizeFixture('request-multipart-qp.eml', teams)).item.team).toBe('platform');
    expect((await normalizeFixture('request-multipart-qp.eml')).item.team).toBeUndefined();
  });

  it('dates the item from the Date header in UTC, or from the delivery when the header does not parse', async () => {
    expect((await normalizeFixture('request-latin1.eml')).item.createdAt).toBe('2024-03-05T09:02:09.000Z');
    const [change] = normalizeMessage(await edited('request-latin1.eml', { date: 'someday soon' }));
    expect((change as UpsertChange).item.createdAt).toBe('2024-03-10T00:00:00.000Z');
  });

  it('threads a message without Message-ID on its own, by the hash of the delivery', async () => {
    const { messageId: _, ...withoutId } = await messageFromMime(emailFixture('request-latin1.eml'));
    const [change] = normalizeMessage(withoutId);
    expect((change as UpsertChange).item.ref).toBe('email:platform@acme.example/sha256:0000');
  });
});

describe('email normalize: replies', () => {
  it('a reply from the team answers the request: same ref, in progress, requester guessed from the recipients', async () => {
    const change = await normalizeFixture('reply-from-team.eml');
    expect(change.item).toMatchObject({
      ref: ROOT_REF,
      title: 'Checkout returns 502 in staging – blocks Friday release',
      status: { name: 'answered', category: 'in_progress' },
      requester: ana,
      updatedAt: '2024-03-04T18:40:00.000Z',
    });
    // PLAT-310 is named by the team; OLD-1 only in the quoted history
    expect(change.item.links.map((l) => l.target)).toEqual(['jira:ACME-42', 'jira:PLAT-310']);
  });

  it('a later reply from the requester makes it wait for the team again', async () => {
    const change = await normalizeFixture('reply-from-requester.eml');
    expect(change.item).toMatchObject({ ref: ROOT_REF, status: { name: 'waiting', category: 'todo' }, requester: ana });
    expect(change.item.links).toEqual([{ type: 'relates', target: 'github:octo/web#88', origin: 'key_mention', confidence: 0.8 }]);
  });

  it('threads a reply without References under the message it answers (In-Reply-To)', async () => {
    const [change] = normalizeMessage(await edited('reply-from-requester.eml', { references: [] }));
    expect((change as UpsertChange).item.ref).toBe('email:platform@acme.example/SN6PR04MB4976A1B2C3D4E5F6@SN6PR04MB4976.namprd04.prod.outlook.com');
  });

  it('closes on a close word in the subject or a copy to the close address; a later reply reopens', async () => {
    const closedByWord = normalizeMessage(await edited('reply-from-team.eml', { subject: 'RE: [Resolved] Checkout returns 502' }))[0] as UpsertChange;
    expect(closedByWord.item).toMatchObject({ status: { name: 'closed', category: 'done' }, closedAt: '2024-03-04T18:40:00.000Z' });
    const cc = [{ address: 'platform+close@acme.example' }];
    const closedByAddress = normalizeMessage(await edited('reply-from-team.eml', { cc }))[0] as UpsertChange;
    expect(closedByAddress.item.status.category).toBe('done');
    const custom = { ...SETTINGS, closeWords: ['#done'], closeAddress: 'done@acme.example' };
    expect((normalizeMessage(await edited('reply-from-team.eml', { subject: 'RE: #done' }), custom)[0] as UpsertChange).item.status.category).toBe('done');

    const root = await normalizeFixture('request-multipart-qp.eml');
    const reopened = applyInOrder([root, closedByWord, await normalizeFixture('reply-from-requester.eml')]);
    expect(reopened?.status).toEqual({ name: 'waiting', category: 'todo' });
    expect(reopened?.closedAt).toBeUndefined();
  });

  it('counts explicit team addresses as the team, and only them when teamDomains is empty (an internal mailbox)', async () => {
    const internal = { ...SETTINGS, teamDomains: [], teamAddresses: ['joe.park@acme.example'] };
    const fromColleague = await edited('reply-from-requester.eml', { from: { address: 'kim@acme.example' } });
    expect((normalizeMessage(fromColleague, internal)[0] as UpsertChange).item.status.name).toBe('waiting');
    expect((normalizeMessage(fromColleague)[0] as UpsertChange).item.status.name).toBe('answered');
    expect((await normalizeFixture('reply-from-team.eml', internal)).item.status.name).toBe('answered');
  });

  it('ignores automatic replies (out of office, delivery reports)', async () => {
    const outOfOffice = await edited('reply-from-requester.eml', {
      headers: [...(await messageFromMime(emailFixture('reply-from-requester.eml'))).headers, { name: 'auto-submitted', value: 'auto-replied (vacation)' }],
    });
    const result = normalizeEmailMessage(outOfOffice, {
      settings: EmailSettings.parse(SETTINGS),
      jiraProjects: {},
      receivedAt: '2024-03-10T00:00:00.000Z',
      fallbackId: 'x',
      event: 'raw.message',
    });
    expect(result).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/automatic reply/) });
  });
});

describe('email normalize: a thread in the index', () => {
  let thread: UpsertChange[] = [];
  beforeAll(async () => {
    thread = [
      await normalizeFixture('request-multipart-qp.eml'),
      await normalizeFixture('reply-from-team.eml'),
      await normalizeFixture('reply-from-requester.eml'),
    ];
  });

  it('is one item whose state follows the latest message and whose identity follows the first, in every arrival order', () => {
    const results = permutations(thread).map(applyInOrder);
    for (const item of results) {
      expect(item).toMatchObject({
        ref: ROOT_REF,
        category: 'request',
        title: 'Checkout returns 502 in staging – blocks Friday release',
        status: { name: 'waiting', category: 'todo' },
        requester: ana,
        priority: { level: 'urgent' },
        labels: ['urgent'],
        createdAt: '2024-03-04T17:15:02.000Z',
        updatedAt: '2024-03-04T21:05:31.000Z',
        activityAt: '2024-03-04T21:05:31.000Z',
        startedAt: '2024-03-04T18:40:00.000Z',
      });
      expect(item?.links.map((l) => l.target).sort()).toEqual(['github:octo/api#12', 'github:octo/web#88', 'jira:ACME-42', 'jira:PLAT-310']);
    }
    const { version: _, ...first } = results[0]!;
    for (const item of results) expect({ ...item, version: undefined }).toEqual({ ...first, version: undefined });
  });

  it('changes nothing when a message is applied twice', () => {
    const item = applyInOrder(thread)!;
    for (const change of thread) expect(applyChange(item, change)).toBeUndefined();
  });
});

describe('email subjects and priorities', () => {
  it.each([
    ['Re: Fwd: [urgent] Deploy broken', 'Deploy broken', ['urgent']],
    ['AW: WG: Zugang zum Cluster', 'Zugang zum Cluster', []],
    ['RE[2]: [EXTERNAL] [billing] Invoice', 'Invoice', ['external', 'billing']],
    ['Re:', '(no subject)', []],
    ['Release 2.0 [done]', 'Release 2.0 [done]', []],
  ])('cleans %j', (subject, title, tags) => {
    expect(cleanSubject(subject)).toEqual({ title, tags });
  });

  it('reads a subject of a prefix and a long run of spaces in one pass', () => {
    const subject = `Re${' '.repeat(200_000)}[2] x`;
    expect(cleanSubject(subject)).toEqual({ title: subject.trim(), tags: [] });
  });

  it.each([
    [{ subject: 'x [P1]' }, { name: '[P1]', level: 'high' }],
    [{ subject: 'x', headers: [{ name: 'importance', value: 'Low' }] }, { name: 'Importance: low', level: 'low' }],
    [{ subject: 'x', headers: [{ name: 'x-priority', value: '2 (High)' }] }, { name: 'X-Priority: 2', level: 'high' }],
    [{ subject: 'x', headers: [{ name: 'x-priority', value: '3 (Normal)' }] }, { level: 'none' }],
    [{ subject: 'x', headers: [{ name: 'priority', value: 'urgent' }] }, { name: 'Priority: urgent', level: 'urgent' }],
  ])('reads the priority of %j', (message, priority) => {
    expect(priorityOf({ headers: [], ...message })).toEqual(priority);
  });
});
