import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookSender } from '../../bus/webhook-sender.ts';
import { type Resolver, TargetRefusedError, checkTarget } from '../../bus/webhook-target.ts';
import { classifyHost, parseIpv4 } from '../../core/target-address.ts';
import { type Receiver, startReceiver } from '../support/webhook-receiver.ts';

/** A resolver that answers from a table, counting its calls: the tests never resolve a real name. */
const table = (answers: Record<string, string[] | (() => string[])>) => {
  const calls: string[] = [];
  const resolver: Resolver = async (name) => {
    calls.push(name);
    const entry = answers[name];
    if (!entry) throw Object.assign(new Error(`${name} unknown`), { code: 'ENOTFOUND' });
    return (typeof entry === 'function' ? entry() : entry).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolver, calls };
};

const refusal = async (url: string, policy: { allowPrivate: boolean; resolver: Resolver }) => {
  try {
    await checkTarget(url, policy);
  } catch (error) {
    if (error instanceof TargetRefusedError) return error.reason;
    throw error;
  }
  return undefined;
};

describe('the address classes behind the SSRF guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0x7f.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0', 'unspecified'],
    ['0.0.0.0', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['012.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['169.254.1.1', 'link_local'],
    ['169.254.169.254', 'metadata'],
    ['0xa9fea9fe', 'metadata'],
    ['2852039166', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['8.8.8.8', 'public'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['2002:7f00:1::', 'loopback'],
    ['fe80::1%eth0', 'link_local'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456::1', 'unique_local'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['2001::1', 'reserved'],
    ['2606:4700::1111', 'public'],
  ])('%s is %s', (host, expected) => {
    const kind = classifyHost(host);
    expect(kind.kind === 'name' ? 'name' : kind.class).toBe(expected);
  });

  it('reads names as names, and rejects numbers out of range', () => {
    expect(classifyHost('hooks.example.com').kind).toBe('name');
    expect(classifyHost('1.2.3.4.example.com').kind).toBe('name');
    expect(parseIpv4('256.0.0.1')).toBeUndefined();
    expect(parseIpv4('4294967296')).toBeUndefined();
    expect(parseIpv4('08.0.0.1')).toBeUndefined();
    expect(parseIpv4('1.2.3')).toEqual([1, 2, 0, 3]);
  });
});

describe('checkTarget: refused at creation and at send time, after resolution', () => {
  const strict = (resolver: Resolver) => ({ allowPrivate: false, resolver });
  const dns = table({
    'hooks.example.test': ['203.0.113.10'],
    'rebind.example.test': ['127.0.0.1'],
    'mixed.example.test': ['203.0.113.10', '10.0.0.5'],
    'metadata.example.test': ['169.254.169.254'],
    'mapped.example.test': ['::ffff:127.0.0.1'],
    'ula.example.test': ['fd00::1'],
    'weird.example.test': ['not-an-address'],
  });

  it('accepts https to a public address, and pins the address it checked', async () => {
    await expect(checkTarget('https://hooks.example.test/in', strict(dns.resolver))).resolves.toMatchObject({ address: '203.0.113.10', family: 4 });
    await expect(checkTarget('https://8.8.8.8/in', strict(dns.resolver))).resolves.toMatchObject({ address: '8.8.8.8' });
  });

  it('refuses every internal address, whichever spelling or name leads there', async () => {
    expect(await refusal('http://hooks.example.test/in', strict(dns.resolver))).toBe('scheme');
    expect(await refusal('ftp://hooks.example.test/in', strict(dns.resolver))).toBe('scheme');
    expect(await refusal('https://rebind.example.test/in', strict(dns.resolver))).toBe('loopback');
    expect(await refusal('https://mixed.example.test/in', strict(dns.resolver))).toBe('private');
    expect(await refusal('https://mapped.example.test/in', strict(dns.resolver))).toBe('loopback');
    expect(await refusal('https://ula.example.test/in', strict(dns.resolver))).toBe('unique_local');
    expect(await refusal('https://metadata.example.test/in', strict(dns.resolver))).toBe('metadata');
    expect(await refusal('https://weird.example.test/in', strict(dns.resolver))).toBe('unresolvable');
    expect(await refusal('https://nowhere.example.test/in', strict(dns.resolver))).toBe('unresolvable');
    expect(await refusal('https://2130706433/in', strict(dns.resolver))).toBe('loopback');
    expect(await refusal('https://0177.0.0.1/in', strict(dns.resolver))).toBe('loopback');
    expect(await refusal('https://0x7f.1/in', strict(dns.resolver))).toBe('loopback');
    expect(await refusal('https://[::ffff:127.0.0.1]/in', strict(dns.resolver))).toBe('loopback');
    expect(await refusal('https://[::]/in', strict(dns.resolver))).toBe('unspecified');
    expect(await refusal('https://0.0.0.0/in', strict(dns.resolver))).toBe('unspecified');
    expect(await refusal('https://[fe80::1]/in', strict(dns.resolver))).toBe('link_local');
    expect(await refusal('https://a:b@hooks.example.test/in', strict(dns.resolver))).toBe('credentials');
    expect(await refusal('not a url', strict(dns.resolver))).toBe('malformed');
  });

  it('with TRIBUTARY_ALLOW_PRIVATE_TARGETS allows http, loopback, private and unique-local targets, never cloud metadata or link-local', async () => {
    const relaxed = { allowPrivate: true, resolver: dns.resolver };
    await expect(checkTarget('http://127.0.0.1:8080/in', relaxed)).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(checkTarget('http://rebind.example.test/in', relaxed)).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(checkTarget('http://10.0.0.5/in', relaxed)).resolves.toMatchObject({ address: '10.0.0.5' });
    await expect(checkTarget('http://[fd00::1]/in', relaxed)).resolves.toMatchObject({ family: 6 });
    expect(await refusal('http://169.254.169.254/latest/meta-data/', relaxed)).toBe('metadata');
    expect(await refusal('http://metadata.example.test/', relaxed)).toBe('metadata');
    expect(await refusal('http://[fd00:ec2::254]/', relaxed)).toBe('metadata');
    expect(await refusal('http://[::ffff:169.254.169.254]/', relaxed)).toBe('metadata');
    expect(await refusal('http://169.254.10.10/', relaxed)).toBe('link_local');
    expect(await refusal('http://0.0.0.0:8080/', relaxed)).toBe('unspecified');
  });
});

describe('the sender: connects to the address it checked, follows no redirect, gives up after the timeout', () => {
  let receiver: Receiver;
  let other: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    other = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await other.close();
  });

  const request = (url: string) => ({ url, headers: { 'content-type': 'application/json', 'webhook-id': 'evt_test' }, body: '{"ok":true}' });

  it('sends to the checked address even when the name resolves elsewhere the next time (DNS rebinding)', async () => {
    const port = new URL(receiver.url).port;
    let answers = 0;
    // First answer: the receiver. Any later one: an address where nothing listens.
    const dns = table({ 'receiver.example.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['127.0.0.2']) });
    const send = createWebhookSender({ allowPrivate: true, resolver: dns.resolver });
    const before = receiver.received.length;
    const result = await send(request(`http://receiver.example.test:${port}/hooks/tributary`));
    expect(result).toMatchObject({ status: 204 });
    expect(dns.calls).toEqual(['receiver.example.test']);
    expect(receiver.received.length).toBe(before + 1);
    expect(receiver.received.at(-1)!.headers.host).toBe(`receiver.example.test:${port}`);
  });

  it('refuses, without connecting, a name that resolves to a private address at send time', async () => {
    const port = new URL(receiver.url).port;
    const dns = table({ 'receiver.example.test': ['127.0.0.1'] });
    const before = receiver.received.length;
    const result = await createWebhookSender({ allowPrivate: false, resolver: dns.resolver })(request(`https://receiver.example.test:${port}/`));
    expect(result).toMatchObject({ refused: true });
    expect(result.error).toMatch(/^refused: receiver\.example\.test, which resolves to 127\.0\.0\.1, is a loopback address/);
    expect(receiver.received.length).toBe(before);
  });

  it.each([301, 302, 303, 307, 308])('does not follow a redirect: a %i to a second receiver is an answer like any other non-2xx', async (status) => {
    // A receiver that redirects to another on loopback, which would answer 204 to a request that followed.
    const redirects: string[] = [];
    const redirecting = createServer((req, res) => {
      redirects.push(String(req.url));
      req.resume();
      req.on('end', () => res.writeHead(status, { location: other.url }).end());
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const before = other.received.length;
      const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hooks/tributary`;
      const result = await createWebhookSender({ allowPrivate: true, resolver: table({}).resolver })(request(url));
      expect(result.status).toBe(status);
      expect(redirects).toEqual(['/hooks/tributary']);
      // Give a follow-up request (if one were made) time to arrive: the second receiver gets none.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(other.received.length).toBe(before);
    } finally {
      redirecting.closeAllConnections();
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    }
  });

  it('gives up on a receiver that does not answer in time', async () => {
    receiver.respond = () => 'hang';
    try {
      const result = await createWebhookSender({ allowPrivate: true, resolver: table({}).resolver }, { timeoutMs: 300 })(request(receiver.url));
      expect(result.status).toBeUndefined();
      expect(result.error).toBe('no answer within 300 ms');
      expect(result.durationMs).toBeGreaterThanOrEqual(280);
    } finally {
      receiver.respond = () => 204;
    }
  });

  it('reports a connection refused as an error', async () => {
    const port = new URL(other.url).port;
    await other.close();
    const result = await createWebhookSender({ allowPrivate: true, resolver: table({}).resolver })(request(`http://127.0.0.1:${port}/`));
    expect(result.error).toMatch(/^ECONNREFUSED/);
    other = await startReceiver();
  });
});
