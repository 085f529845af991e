import { afterEach, describe, expect, it } from 'vitest';
import { githubExample } from '../fixtures/github-examples.ts';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { emailFixture, tributarySignature } from '../support/email.ts';
import { faultLedger } from '../support/fault-ledger.ts';
import { allItems, issueOpened, issueRef } from '../support/fault-payloads.ts';
import { OPERATOR_TOKEN, type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';

const SITE = 'acme.atlassian.net';
const MAILBOX = 'platform@acme.example';
const GITHUB = 30;
const JIRA = 10;
const EMAIL = 10;

/** One delivery of the case: how to send one copy of it, and the ref of the item it creates. */
interface Delivery {
  unit: string;
  ref: string;
  send: (copy: number) => Promise<{ status: number; body: any }>;
}

const jiraIssueCreated = (n: number) => {
  const payload = cloudPayload('issue-created-acme-101');
  payload.issue.id = String(20_000 + n);
  payload.issue.key = `ACME-${200 + n}`;
  payload.issue.self = `https://${SITE}/rest/api/2/issue/${20_000 + n}`;
  payload.issue.fields.summary = `Duplicated Jira story ${n}`;
  return payload;
};

/** The real Gmail-style request with a Message-ID of its own: email deliveries are deduplicated by it. */
const emailRequest = (n: number) => {
  const text = emailFixture('request-multipart-qp.eml').toString('latin1');
  return { messageId: `dup-${n}@faults.example`, body: Buffer.from(text.replace('<CAH5o0vW1x+checkout-502@mail.gmail.com>', `<dup-${n}@faults.example>`), 'latin1') };
};

const blockedPullRequest = (number: number) => {
  const payload = githubExample('pull_request', 'opened').payload as any;
  payload.pull_request.number = number;
  payload.pull_request.title = 'Retry the tax service';
  payload.pull_request.body = 'Blocked by ACME-101';
  payload.pull_request.created_at = '2024-03-01T10:00:00.000Z';
  payload.pull_request.updated_at = '2024-03-01T10:00:00.000Z';
  return payload;
};

describe('fault: every delivery sent 3×, concurrently and spread over time', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it('records each GitHub, Jira and email delivery once, applies it once and publishes one set of events', async () => {
    const ledger = faultLedger(`duplicates: ${GITHUB + JIRA + EMAIL} deliveries × 3 (2 at once, 1 during or after processing)`);
    hub = await startTestHub();
    const url = hub.url;
    const github = await hub.createConnection('github');
    const jira = await hub.createConnection('jira', OPERATOR_TOKEN, { site: SITE });
    const email = await hub.createConnection('email', OPERATOR_TOKEN, { provider: 'raw', address: MAILBOX });

    const deliveries: Delivery[] = [
      ...Array.from({ length: GITHUB }, (_, i): Delivery => {
        const deliveryId = crypto.randomUUID();
        return { unit: `github #${i + 1}`, ref: issueRef(i + 1), send: () => postGithub(url, github, 'issues', issueOpened(i + 1), { deliveryId }) };
      }),
      ...Array.from({ length: JIRA }, (_, i): Delivery => {
        const identifier = crypto.randomUUID();
        // Jira marks its own redeliveries with X-Atlassian-Webhook-Retry; the identifier stays.
        return { unit: `jira ACME-${201 + i}`, ref: `jira:${SITE}/ACME-${201 + i}`, send: (copy) => postJira(url, jira, jiraIssueCreated(i + 1), { identifier, ...(copy > 1 ? { retry: copy - 1 } : {}) }) };
      }),
      ...Array.from({ length: EMAIL }, (_, i): Delivery => {
        const { messageId, body } = emailRequest(i + 1);
        return {
          unit: `email ${messageId}`,
          ref: `email:${MAILBOX}/${messageId}`,
          send: async () => {
            const response = await fetch(`${url}/hooks/email/${email.id}`, {
              method: 'POST',
              headers: { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(body, email.secret) },
              body: new Uint8Array(body),
            });
            return { status: response.status, body: await response.json() };
          },
        };
      }),
    ];

    const answers = new Map<string, string[]>();
    const send = async (delivery: Delivery, copy: number) => {
      ledger.sent();
      const answer = await delivery.send(copy);
      if (answer.status === 202) ledger.acked(delivery.unit);
      answers.set(delivery.unit, [...(answers.get(delivery.unit) ?? []), `${answer.status} ${answer.body?.status}`]);
    };
    // Copies 1 and 2 of every delivery at the same moment, 8 deliveries at a time.
    for (let i = 0; i < deliveries.length; i += 8) await Promise.all(deliveries.slice(i, i + 8).flatMap((d) => [send(d, 1), send(d, 2)]));
    // Copy 3 of half of them while the processor works on the first copies…
    await Promise.all(deliveries.filter((_, i) => i % 2 === 0).map((d) => send(d, 3)));
    await settled(hub, { timeoutMs: 60_000 });
    // …and of the other half long after they were processed.
    await Promise.all(deliveries.filter((_, i) => i % 2 === 1).map((d) => send(d, 3)));
    await settled(hub, { timeoutMs: 60_000 });

    const items = await allItems(hub);
    const created = hub.publishedEvents().filter((e) => e.type === 'work.item.created');
    for (const delivery of deliveries) {
      const item = items.get(delivery.ref);
      if (item) ledger.indexed(delivery.unit);
      // One delivery, one write: a second would be the same change applied twice.
      if (item && item.version !== 1) ledger.appliedTwice(delivery.unit);
      for (const event of created.filter((e) => e.subject === delivery.ref)) ledger.published(delivery.unit, event.id);
      expect(answers.get(delivery.unit)!.sort(), delivery.unit).toEqual(['202 accepted', '202 duplicate', '202 duplicate']);
    }
    const total = deliveries.length;
    expect(ledger.counts()).toEqual({ sent: 3 * total, acked: total, indexed: total, published: total, lost: 0, duplicated: 0 });
    const events = hub.publishedEvents();
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  }, 120_000);

  it('opens one unblocked alert when the blocker closes while its dependents are redelivered concurrently', async () => {
    const ledger = faultLedger('duplicates: blocker closes while 3 dependents are redelivered 2× at once');
    hub = await startTestHub();
    const jira = await hub.createConnection('jira', OPERATOR_TOKEN, { site: SITE });
    const github = await hub.createConnection('github');
    const prs = [50, 51, 52].map(blockedPullRequest);
    const refs = prs.map((pr) => `github:${String(pr.repository.full_name).toLowerCase()}#${pr.pull_request.number}`);
    const send = async (unit: string, post: Promise<{ status: number }>) => {
      ledger.sent();
      if ((await post).status === 202) ledger.acked(unit);
    };
    await send('ACME-101 created', postJira(hub.url, jira, cloudPayload('issue-created-acme-101')));
    await settled(hub, { timeoutMs: 60_000 });
    const prDeliveries = prs.map(() => crypto.randomUUID());
    for (const [i, pr] of prs.entries()) await send(`PR ${refs[i]}`, postGithub(hub.url, github, 'pull_request', pr, { deliveryId: prDeliveries[i] }));
    await settled(hub, { timeoutMs: 60_000 });
    expect((await hub.api('GET', '/v1/items?blocked=true')).body.items).toHaveLength(3);

    // The blocker closes while every dependent and the closing update itself are delivered again, at once.
    const done = cloudPayload('issue-updated-acme-101-done');
    await Promise.all([
      send('ACME-101 done', postJira(hub.url, jira, done, { identifier: 'done-1' })),
      send('ACME-101 done', postJira(hub.url, jira, done, { identifier: 'done-2' })),
      ...prs.flatMap((pr, i) => [
        send(`PR ${refs[i]}`, postGithub(hub!.url, github, 'pull_request', pr, { deliveryId: prDeliveries[i] })),
        send(`PR ${refs[i]}`, postGithub(hub!.url, github, 'pull_request', pr)),
      ]),
    ]);
    await settled(hub, { timeoutMs: 60_000 });

    const unblocked = (await hub.api('GET', '/v1/alerts?kind=unblocked')).body.items as any[];
    expect(unblocked.map((a) => a.subject.ref).sort()).toEqual([...refs].sort());
    const items = await allItems(hub);
    if (items.get(`jira:${SITE}/ACME-101`)?.status.category === 'done') ledger.indexed('ACME-101 done');
    if (items.has(`jira:${SITE}/ACME-101`)) ledger.indexed('ACME-101 created');
    const events = hub.publishedEvents();
    for (const [i, ref] of refs.entries()) {
      if (items.has(ref)) ledger.indexed(`PR ${ref}`);
      for (const e of events.filter((e) => e.type === 'work.item.created' && e.subject === ref)) ledger.published(`PR ${refs[i]}`, e.id);
    }
    for (const e of events.filter((e) => e.type === 'work.item.created' && e.subject.endsWith('ACME-101'))) ledger.published('ACME-101 created', e.id);
    const raised = events.filter((e) => e.type === 'work.alert.raised' && (e.data as any).alert.kind === 'unblocked');
    for (const e of raised) ledger.published('ACME-101 done', e.id, (e.data as any).alert.subject.ref);
    expect(raised).toHaveLength(3);
    expect(ledger.counts()).toEqual({ sent: 12, acked: 5, indexed: 5, published: 5, lost: 0, duplicated: 0 });
    expect((await hub.api('GET', '/v1/items?blocked=true')).body.items).toEqual([]);
  }, 60_000);
});
