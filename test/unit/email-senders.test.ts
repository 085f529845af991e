import { describe, expect, it } from 'vitest';
import { parseAddressList, senderOf, whyNoSender } from '../../connectors/email/addresses.ts';
import { parseHeaderSection } from '../../connectors/email/header-section.ts';
import { createEmailConnector, EmailSettings } from '../../connectors/email/index.ts';
import type { UpsertChange } from '../../core/changes.ts';
import type { WebhookRequest } from '../../core/connector.ts';
import { sha256Hex } from '../../core/ids.ts';
import { emailFixture, storedDelivery, tributarySignature } from '../support/email.ts';

const email = createEmailConnector();
const SECRET = 'whsec_senders';
const connection = { id: 'con_raw', settings: EmailSettings.parse({ provider: 'raw', address: 'platform@acme.example' }), secrets: [SECRET] };
const context = { connection, jiraProjects: { ACME: 'acme.atlassian.net' } };
const request = (body: Uint8Array): WebhookRequest => ({
  headers: { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(body, SECRET) },
  body,
});

/** The upsert a raw message becomes; fails the test with the reason when it is ignored. */
const upsertOf = async (body: Uint8Array): Promise<UpsertChange> => {
  const result = await email.normalize(storedDelivery('raw.message', body), context);
  if (result.outcome !== 'changes') throw new Error(`expected changes, got ignored: ${result.reason}`);
  return result.changes[0] as UpsertChange;
};
const senderOfFixture = async (name: string) => (await upsertOf(emailFixture(name))).item.requester;
const headers = (text: string) => parseHeaderSection(text.replace(/\n/g, '\r\n'));

describe('email senders, in every form RFC 5322 and RFC 6532 allow, and the common malformed ones', () => {
  it('reads a sender written as a name and a bare address without angle brackets', async () => {
    expect(await senderOfFixture('sender-name-without-brackets.eml')).toMatchObject({ name: 'Big Bug', emails: ['bb@bug.com'] });
  });

  it('reads a sender written as a bare address', async () => {
    const requester = await senderOfFixture('sender-bare-address.eml');
    expect(requester).toMatchObject({ emails: ['deploy@ci.acme.example'] });
    expect(requester).not.toHaveProperty('name');
  });

  it('reads the name an RFC 5322 comment gives after the address (cron)', async () => {
    expect(await senderOfFixture('sender-comment-cron.eml')).toMatchObject({ name: 'Cron Daemon', emails: ['root@build-01.acme.example'] });
  });

  it('reads comments anywhere, escaped parentheses and comments inside the angle brackets included (RFC 5322 A.5)', async () => {
    expect(await parseAddressList('Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>')).toEqual([{ name: 'Pete', address: 'pete@silly.test' }]);
    expect(await parseAddressList('(Big Bug) bb@bug.com')).toEqual([{ name: 'Big Bug', address: 'bb@bug.com' }]);
    expect(await parseAddressList('Big Bug <bb@bug.com> (work)')).toEqual([{ name: 'Big Bug', address: 'bb@bug.com' }]);
  });

  it('reads quoted names with specials, unquoted names with dots, and encoded-word names', async () => {
    expect(await parseAddressList('"Giant; \\"Big\\" Box" <sysservices@example.net>')).toEqual([{ name: 'Giant; "Big" Box', address: 'sysservices@example.net' }]);
    expect(await parseAddressList('John Q. Public <JQP@Example.COM>')).toEqual([{ name: 'John Q. Public', address: 'jqp@example.com' }]);
    expect(await parseAddressList('=?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@vm1.ulg.ac.be>')).toEqual([{ name: 'André Pirard', address: 'pirard@vm1.ulg.ac.be' }]);
    expect(await parseAddressList('Ana =?utf-8?q?Lima?= ana@customer.example')).toEqual([{ name: 'Ana Lima', address: 'ana@customer.example' }]);
  });

  it('reads a name with a comma that Outlook did not quote as one name', async () => {
    expect(await parseAddressList('Bug, Big <bb@bug.com>')).toEqual([{ name: 'Bug, Big', address: 'bb@bug.com' }]);
  });

  it('reads a quoted local part, a domain literal, an obsolete source route and spaces around @ (RFC 5322 §4.4)', async () => {
    expect(await parseAddressList('"big bug"@bug.com')).toEqual([{ address: '"big bug"@bug.com' }]);
    expect(await parseAddressList('ops@[192.0.2.1]')).toEqual([{ address: 'ops@[192.0.2.1]' }]);
    expect(await parseAddressList('<@relay.example:bb@bug.com>')).toEqual([{ address: 'bb@bug.com' }]);
    expect(await parseAddressList('Big Bug bb @ bug.com')).toEqual([{ name: 'Big Bug', address: 'bb@bug.com' }]);
  });

  it('reads raw UTF-8 names and an internationalized address (RFC 6532)', async () => {
    const upsert = await upsertOf(emailFixture('sender-utf8-headers.eml'));
    expect(upsert.item.requester).toMatchObject({ name: 'Jörg Müller', emails: ['jörg@müller.example'] });
    expect(upsert.item.title).toBe('Größere Festplatte für den Build-Server');
  });

  it('takes the Sender when From names several authors (RFC 5322 §3.6.2)', async () => {
    expect(await senderOfFixture('sender-several-authors.eml')).toMatchObject({ name: 'Assistenz Vertrieb', emails: ['assistenz@retail.example'] });
  });

  it('takes the first author when From names several and there is no Sender, and the first member of a group', async () => {
    expect(await senderOf(headers('From: Lena <lena@retail.example>, Tom <tom@retail.example>\n'))).toEqual({ name: 'Lena', address: 'lena@retail.example' });
    expect(await senderOf(headers('From: Ops team: kim@acme.example, lee@acme.example;\n'))).toEqual({ address: 'kim@acme.example' });
  });

  it('keeps the author in From when a list or a delegate adds a Sender', async () => {
    const viaList = headers('From: Ana Lima <ana@customer.example>\nSender: platform-users-bounces@lists.acme.example\n');
    expect(await senderOf(viaList)).toEqual({ name: 'Ana Lima', address: 'ana@customer.example' });
  });

  it('takes the Sender when From names nobody usable', async () => {
    expect(await senderOf(headers('From: undisclosed-recipients:;\nSender: relay@partner.example\n'))).toEqual({ address: 'relay@partner.example' });
  });

  it('says why a message names no sender', async () => {
    expect(await senderOf(headers('Subject: x\n'))).toBeUndefined();
    expect(whyNoSender(headers('Subject: x\n'))).toBe('it has no From header and no Sender');
    expect(whyNoSender(headers('From: undisclosed\nSender: nobody\n'))).toBe('its From header ("undisclosed") names no address, nor does its Sender ("nobody")');
  });
});

describe('email messages without a sender, a Message-ID or a Date', () => {
  it('accepts a message without Message-ID and Date, named by the sha256 of its headers and body, so a retried POST dedupes', async () => {
    const body = emailFixture('no-message-id-no-date.eml');
    const deliveryId = `platform@acme.example/sha256:${sha256Hex(body)}`;
    expect(await email.receive(request(body), connection)).toEqual({ event: 'raw.message', deliveryId });
    expect((await email.receive(request(Buffer.from(body)), connection)).deliveryId).toBe(deliveryId);
  });

  it('indexes a message without Message-ID and Date under that name, dated when it was received', async () => {
    const upsert = await upsertOf(emailFixture('no-message-id-no-date.eml'));
    expect(upsert.item).toMatchObject({
      ref: `email:platform@acme.example/sha256:${sha256Hex(emailFixture('no-message-id-no-date.eml'))}`,
      title: 'Checkout p99 latency above 2s',
      labels: ['firing:1'],
      requester: { name: 'Grafana Alerts', emails: ['alerts@grafana.acme.example'] },
      status: { name: 'new', category: 'todo' },
      createdAt: '2024-03-10T00:00:00.000Z',
    });
    expect(upsert.item.links).toEqual([{ type: 'relates', target: 'github:acme/runbooks#14', origin: 'key_mention', confidence: 0.8 }]);
  });

  it('dates a message without a Date header but with a Message-ID when it was received, and names it by its Message-ID', async () => {
    const withoutDate = Buffer.from(emailFixture('sender-bare-address.eml').toString('latin1').replace(/^Date:.*\r\n/m, ''), 'latin1');
    const upsert = await upsertOf(withoutDate);
    expect(upsert.item).toMatchObject({ ref: 'email:platform@acme.example/20240313164512.11A4C1E0512@ci-runner-7.acme.example', createdAt: '2024-03-10T00:00:00.000Z' });
  });

  it('accepts a message with no sender at all, then ignores it with that reason', async () => {
    const body = emailFixture('no-sender.eml');
    expect(await email.receive(request(body), connection)).toEqual({ event: 'raw.message', deliveryId: 'platform@acme.example/000001da7911$2b6c3f50$0a00141f@scanner-2f' });
    expect(await email.normalize(storedDelivery('raw.message', body), context)).toEqual({
      outcome: 'ignored',
      event: 'raw.message',
      reason: 'The message names no sender: it has no From header and no Sender.',
    });
  });
});

describe('email subjects and names in other scripts', () => {
  it('decodes a Japanese subject of adjacent ISO-2022-JP encoded words, the sender\'s name and the ISO-2022-JP body', async () => {
    const upsert = await upsertOf(emailFixture('subject-iso-2022-jp.eml'));
    expect(upsert.item).toMatchObject({
      title: '【至急】ステージング環境のデプロイが失敗しています',
      requester: { name: '田中太郎', emails: ['tanaka@example.jp'] },
      createdAt: '2024-03-19T01:20:07.000Z',
    });
    expect(upsert.item.links).toEqual([{ type: 'relates', target: 'jira:acme.atlassian.net/ACME-42', origin: 'key_mention', confidence: 0.8 }]);
  });

  it('decodes a subject and a name whose UTF-8 characters are split between base64 encoded words', async () => {
    const upsert = await upsertOf(emailFixture('subject-utf8-split-words.eml'));
    expect(upsert.item).toMatchObject({ title: 'Déploiement bloqué — テスト環境 ✅', requester: { name: 'Renée Dupré', emails: ['renee@chantier.example'] } });
  });
});
