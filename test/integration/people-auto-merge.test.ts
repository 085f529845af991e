import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudPayload } from '../fixtures/jira-examples.ts';
import { emailFixture, tributarySignature } from '../support/email.ts';
import { type TestHub, settled, startTestHub } from '../support/hub.ts';
import { postJira } from '../support/jira.ts';
import { readAllRows } from '../support/table-rows.ts';

/**
 * The SES fixture as Alana would send it: `verified` keeps the Received-SPF verdict SES prepends
 * (a pass for acme.example), otherwise the message arrives without any verdict.
 */
const alanaWrites = (messageId: string, verified: boolean): Buffer => {
  let text = emailFixture('ses-message.eml').toString('utf8').replaceAll('carol@partner.example', 'alana@acme.example').replaceAll('Carol Nguyen', 'Alana Grant');
  text = text.replace('designates 203.0.113.7', 'designates 198.51.100.2').replace('domain of partner.example', 'domain of acme.example');
  text = text.replace(/^Message-ID: .*$/m, `Message-ID: <${messageId}@acme.example>`);
  if (!verified) text = text.replace(/^Received-SPF: .*\r?\n/m, '');
  return Buffer.from(text, 'utf8');
};

describe('people merged automatically on a verified email, across Jira and email', () => {
  let hub: TestHub;
  let token: string;
  let email: { id: string; secret: string };
  const api = (method: string, path: string, body?: unknown) => hub.api(method, path, body, token);
  const people = async () => (await api('GET', '/v1/people')).body.items as any[];
  const alanas = async () => (await people()).filter((p) => p.name === 'Alana Grant');
  const sendEmail = async (message: Buffer) => {
    const response = await fetch(`${hub.url}/hooks/email/${email.id}`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(message, email.secret) },
      body: new Uint8Array(message),
    });
    await response.text();
    expect(response.status).toBe(202);
    await settled(hub);
  };
  const systemMerges = async () => ((await api('GET', '/v1/audit?action=person.merged')).body.items as any[]).filter((e) => e.actor === 'system');

  beforeAll(async () => {
    hub = await startTestHub();
    token = (await hub.api('POST', '/v1/tenants', { name: 'identity' })).body.adminToken;
    const jira = await hub.createConnection('jira', token, { site: 'acme.atlassian.net' });
    email = await hub.createConnection('email', token, { provider: 'raw', address: 'platform@help.example' });
    for (const name of ['issue-created-acme-101', 'issue-updated-acme-101-in-progress'] as const) {
      expect((await postJira(hub.url, jira, cloudPayload(name))).status).toBe(202);
    }
    await settled(hub);
  });
  afterAll(() => hub?.close());

  it('keeps a sender without a DKIM or SPF pass apart from the Jira account with the same address', async () => {
    await sendEmail(alanaWrites('unverified-1', false));
    const found = await alanas();
    expect(found).toHaveLength(2);
    expect(found.map((p) => p.handles[0].source).sort()).toEqual(['email', 'jira']);
    expect(found.find((p) => p.handles[0].source === 'jira').verifiedEmails).toEqual(['alana@acme.example']);
    expect(found.find((p) => p.handles[0].source === 'email').verifiedEmails).toBeUndefined();
    expect(await systemMerges()).toEqual([]);
  });

  it('merges them once the address arrives with the receiver’s SPF pass, and audits it as the system', async () => {
    await sendEmail(alanaWrites('verified-1', true));
    const [alana, ...others] = await alanas();
    expect(others).toEqual([]);
    expect(alana.handles.map((h: any) => h.source).sort()).toEqual(['email', 'jira']);
    expect(alana.merged).toHaveLength(1);
    const merges = await systemMerges();
    expect(merges).toEqual([
      expect.objectContaining({ actor: 'system', action: 'person.merged', target: alana.id, detail: { others: alana.merged, reason: 'verified_email' } }),
    ]);
    // The address is neither in the audit log nor in the key (or any attribute) of the row that matched it.
    const rows = await readAllRows(hub.hub.db);
    const audit = rows.filter(({ row }) => String(row.pk).endsWith('#AUDIT'));
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.filter(({ text }) => text.includes('alana@acme.example'))).toEqual([]);
    const lookups = rows.filter(({ row }) => String(row.pk).includes('#VEMAIL#'));
    expect(lookups.map(({ row }) => String(row.pk))).toEqual([expect.stringMatching(/#VEMAIL#[0-9a-f]{64}$/)]);
    expect(lookups.filter(({ text }) => text.includes('alana@acme.example'))).toEqual([]);
    expect(rows.filter(({ row }) => Object.entries(row).some(([name, value]) => /^(pk|sk|gsi\dpk|gsi\dsk)$/.test(name) && String(value).includes('#VEMAIL#alana'))).map(({ row }) => row.pk)).toEqual([]);
    expect((await api('GET', '/v1/people/audit')).body.items[0]).toMatchObject({ action: 'merge', by: 'system', personId: alana.id });

    // A replay of the same message (another delivery id) merges nothing again.
    await sendEmail(Buffer.from(alanaWrites('verified-1', true).toString('utf8').replace('Subject: ', 'Subject: Re: ')));
    expect(await systemMerges()).toHaveLength(1);
  });

  it('never undoes a manual split, however often the verified address comes back', async () => {
    const [alana] = await alanas();
    const split = await api('POST', `/v1/people/${alana.id}/split`, {});
    expect(split.status).toBe(200);
    await sendEmail(alanaWrites('verified-2', true));
    expect(await alanas()).toHaveLength(2);
    expect(await systemMerges()).toHaveLength(1);
  });
});
