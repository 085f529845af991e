import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudPayload, signJira } from '../fixtures/jira-examples.ts';
import { basicAuth, emailFixture, tributarySignature } from '../support/email.ts';
import { type FaultLedger, faultLedger } from '../support/fault-ledger.ts';
import { issueOpened, issueRef } from '../support/fault-payloads.ts';
import { OPERATOR_TOKEN, type TestHub, settled, startTestHub } from '../support/hub.ts';
import { sign } from '@octokit/webhooks-methods';

const MAILBOX = 'platform@acme.example';

/** Every delivery record in the hub's table (the inbox), whatever its tenant or status. */
const storedDeliveries = async (hub: TestHub): Promise<number> => {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await hub.hub.db.doc.send(
      new ScanCommand({ TableName: hub.hub.db.table, FilterExpression: 'sk = :dlv', ExpressionAttributeValues: { ':dlv': 'DLV' }, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
};

interface Signed {
  body: Uint8Array;
  headers: Record<string, string>;
}

/** How each tool signs: a request is `sign(secret, body)` plus the tool's headers. */
interface Tool {
  source: string;
  create: Record<string, unknown>;
  body: () => Uint8Array;
  sign: (secret: string, body: Uint8Array) => Promise<Signed>;
  /** the header that carries the credential */
  credential: string;
  /** the item the body creates */
  ref: string;
  /**
   * Whether the credential covers the body. Postmark and SendGrid send basic-auth credentials
   * (over TLS): they prove the sender, not the bytes, so a changed body is not theirs to catch.
   */
  signsBody: boolean;
}

const text = (body: Uint8Array) => new TextDecoder().decode(body);

const TOOLS: Tool[] = [
  {
    source: 'github',
    create: {},
    body: () => new TextEncoder().encode(JSON.stringify(issueOpened(4242, 'Signed by the real secret'))),
    sign: async (secret, body) => ({
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': crypto.randomUUID(),
        'x-hub-signature-256': await sign(secret, text(body)),
      },
    }),
    credential: 'x-hub-signature-256',
    ref: issueRef(4242),
    signsBody: true,
  },
  {
    source: 'jira',
    create: { site: 'acme.atlassian.net' },
    body: () => new TextEncoder().encode(JSON.stringify(cloudPayload('issue-created-acme-101'))),
    sign: async (secret, body) => ({
      body,
      headers: { 'content-type': 'application/json', 'x-atlassian-webhook-identifier': crypto.randomUUID(), 'x-hub-signature': signJira(secret, body) },
    }),
    credential: 'x-hub-signature',
    ref: 'jira:acme.atlassian.net/ACME-101',
    signsBody: true,
  },
  {
    source: 'email',
    create: { provider: 'raw', address: MAILBOX },
    body: () => Uint8Array.from(emailFixture('request-multipart-qp.eml')),
    sign: async (secret, body) => ({ body, headers: { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(body, secret) } }),
    credential: 'x-tributary-signature',
    ref: `email:${MAILBOX}/CAH5o0vW1x+checkout-502@mail.gmail.com`,
    signsBody: true,
  },
  {
    source: 'email',
    create: { provider: 'postmark', address: MAILBOX },
    body: () => Uint8Array.from(emailFixture('postmark-inbound.json')),
    sign: async (secret, body) => ({ body, headers: { 'content-type': 'application/json', authorization: basicAuth('tributary', secret) } }),
    credential: 'authorization',
    ref: `email:${MAILBOX}/CAGXpo2WKfxHWZ5UFYCR3H_J9SNMG+5AXUovfEFL6DjWBJSyZaA@mail.gmail.com`,
    signsBody: false,
  },
];

const tamper = (body: Uint8Array): Uint8Array => {
  const out = Uint8Array.from(body);
  // One byte in the middle, as a proxy or an attacker would change a field.
  const at = Math.floor(out.length / 2);
  out[at] = out[at] === 0x41 ? 0x42 : 0x41;
  return out;
};

describe('fault: signature attacks on every connector', () => {
  let hub: TestHub;
  let otherTenant: { id: string; adminToken: string };
  beforeAll(async () => {
    hub = await startTestHub();
    otherTenant = (await hub.api('POST', '/v1/tenants', { name: 'other tenant' })).body;
  });
  afterAll(() => hub.close());

  const post = async (source: string, connectionId: string, request: Signed) => {
    const response = await fetch(`${hub.url}/hooks/${source}/${connectionId}`, { method: 'POST', headers: request.headers, body: new Uint8Array(request.body) });
    const body = await response.text();
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: body ? JSON.parse(body) : undefined };
  };

  /** Sends an attack and checks it was refused with a problem, and that nothing at all was stored. */
  const refused = async (ledger: FaultLedger, attack: string, expected: number, send: () => Promise<{ status: number; type: string; body: any }>) => {
    const before = { deliveries: await storedDeliveries(hub), events: hub.publishedEvents().length };
    ledger.sent();
    const answer = await send();
    if (answer.status < 300) ledger.acked(attack);
    expect(answer.status, attack).toBe(expected);
    expect(answer.type, attack).toContain('application/problem+json');
    expect(typeof answer.body.detail, attack).toBe('string');
    // The ack path's one write is the only way in: no delivery record, nothing for the processor.
    expect({ deliveries: await storedDeliveries(hub), events: hub.publishedEvents().length }, `${attack}: nothing stored`).toEqual(before);
  };

  for (const tool of TOOLS) {
    const name = `${tool.source}${tool.create.provider ? ` (${tool.create.provider})` : ''}`;

    const attacks = tool.signsBody ? 9 : 7;
    it(`${name}: refuses a wrong secret, a missing or garbled credential,${tool.signsBody ? ' a tampered body,' : ''} another tenant's connection, an unknown or deleted connection`, async () => {
      const ledger = faultLedger(`signatures: ${name}, ${attacks} attacks`, { tracksIndex: false });
      const connection = await hub.createConnection(tool.source, OPERATOR_TOKEN, { name: `attacked ${name}`, ...tool.create });
      const theirs = await hub.createConnection(tool.source, otherTenant.adminToken, { name: `other tenant ${name}`, ...tool.create });
      const body = tool.body();

      await refused(ledger, 'wrong secret', 401, async () => post(tool.source, connection.id, await tool.sign('whsec_not-the-secret-of-this-connection', body)));
      await refused(ledger, 'missing credential', 401, async () => {
        const request = await tool.sign(connection.secret, body);
        delete request.headers[tool.credential];
        return post(tool.source, connection.id, request);
      });
      await refused(ledger, 'garbled credential', 401, async () => {
        const request = await tool.sign(connection.secret, body);
        request.headers[tool.credential] = request.headers[tool.credential]!.slice(0, -3) + 'zz!';
        return post(tool.source, connection.id, request);
      });
      if (tool.signsBody) {
        await refused(ledger, 'tampered body', 401, async () => {
          const request = await tool.sign(connection.secret, body);
          return post(tool.source, connection.id, { ...request, body: tamper(body) });
        });
        await refused(ledger, 'signed for a shorter body', 401, async () => {
          const request = await tool.sign(connection.secret, body.slice(0, -1));
          return post(tool.source, connection.id, { ...request, body });
        });
      }
      // The other tenant's connection exists, so its secret decides: ours does not match it.
      await refused(ledger, "another tenant's connection id", 401, async () => post(tool.source, theirs.id, await tool.sign(connection.secret, body)));
      // Another source's route names no connection of that source.
      const otherSource = tool.source === 'github' ? 'jira' : 'github';
      await refused(ledger, 'connection under another source', 404, async () => post(otherSource, connection.id, await tool.sign(connection.secret, body)));
      await refused(ledger, 'unknown connection', 404, async () => post(tool.source, 'con_doesnotexist0000', await tool.sign(connection.secret, body)));
      const doomed = await hub.createConnection(tool.source, OPERATOR_TOKEN, { name: `deleted ${name}`, ...tool.create });
      expect((await hub.api('DELETE', `/v1/connections/${doomed.id}`)).status).toBe(204);
      await refused(ledger, 'deleted connection', 404, async () => post(tool.source, doomed.id, await tool.sign(doomed.secret, body)));

      expect(ledger.counts()).toMatchObject({ sent: attacks, acked: 0, lost: 0, duplicated: 0 });
      await settled(hub, { timeoutMs: 60_000 });
      expect((await hub.api('GET', '/v1/items', undefined, otherTenant.adminToken)).body.items).toEqual([]);
    });

    it(`${name}: answers a replayed delivery as a duplicate and applies it once`, async () => {
      const ledger = faultLedger(`signatures: ${name}, a delivery replayed 3× byte for byte`);
      const connection = await hub.createConnection(tool.source, OPERATOR_TOKEN, { name: `replayed ${name}`, ...tool.create });
      const original = await tool.sign(connection.secret, tool.body());
      const answers: string[] = [];
      for (let copy = 0; copy < 4; copy++) {
        ledger.sent();
        const answer = await post(tool.source, connection.id, original);
        answers.push(`${answer.status} ${answer.body?.status}`);
        if (answer.status === 202) ledger.acked('original');
      }
      expect(answers).toEqual(['202 accepted', '202 duplicate', '202 duplicate', '202 duplicate']);
      await settled(hub, { timeoutMs: 60_000 });
      const item = await hub.api('GET', `/v1/items/${encodeURIComponent(tool.ref)}`);
      if (item.status === 200) ledger.indexed('original');
      if (item.status === 200 && item.body.version !== 1) ledger.appliedTwice('original');
      for (const e of hub.publishedEvents().filter((e) => e.type === 'work.item.created' && e.subject === tool.ref)) ledger.published('original', e.id);
      expect(ledger.counts()).toEqual({ sent: 4, acked: 1, indexed: 1, published: 1, lost: 0, duplicated: 0 });
    });
  }
});
