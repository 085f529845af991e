import { describe, expect, it } from 'vitest';
import { jira } from '../../connectors/jira/index.ts';
import type { ConnectionForVerify, WebhookRequest } from '../../core/connector.ts';
import { UnauthorizedError } from '../../core/errors.ts';
import { cloudPayload, jiraSettings, signJira } from '../fixtures/jira-examples.ts';

const payload = JSON.stringify(cloudPayload('issue-updated-acme-101-in-progress'));
const hmac = (...secrets: string[]): ConnectionForVerify => ({ id: 'con_jira', settings: jiraSettings(), secrets });
const basic = (...secrets: string[]): ConnectionForVerify => ({ id: 'con_jira', settings: jiraSettings({ auth: 'basic' }), secrets });

const signed = (secret: string, body = payload): WebhookRequest => ({
  headers: { 'content-type': 'application/json; charset=UTF-8', 'x-hub-signature': signJira(secret, body) },
  body: new TextEncoder().encode(body),
});

const withBasic = (user: string, password: string): WebhookRequest => ({
  headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
  body: new TextEncoder().encode(payload),
});

const unsigned: WebhookRequest = { headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(payload) };

const rejectionOf = (request: WebhookRequest, connection: ConnectionForVerify): UnauthorizedError => {
  try {
    jira.verify(request, connection);
  } catch (error) {
    if (error instanceof UnauthorizedError) return error;
    throw error;
  }
  throw new Error('verify accepted the request');
};

describe('jira.verify', () => {
  it('accepts a delivery whose X-Hub-Signature is the HMAC-SHA256 of the body with the connection secret', () => {
    expect(() => jira.verify(signed('s3cret'), hmac('s3cret'))).not.toThrow();
  });

  it('accepts a delivery signed with the previous secret during a rotation', () => {
    expect(() => jira.verify(signed('old'), hmac('new', 'old'))).not.toThrow();
  });

  it('rejects a delivery signed with another secret, telling the user to compare the webhook secret', () => {
    const error = rejectionOf(signed('wrong'), hmac('s3cret'));
    expect(error.status).toBe(401);
    expect(error.type).toBe('invalid-signature');
    expect(error.detail).toMatch(/"Secret" of the Jira webhook/);
  });

  it('rejects a body changed after signing', () => {
    const request = signed('s3cret');
    const tampered = { ...request, body: new TextEncoder().encode(payload.replace('In Progress', 'Done')) };
    expect(rejectionOf(tampered, hmac('s3cret')).type).toBe('invalid-signature');
  });

  it('never accepts an unsigned delivery on an hmac connection, and says where to set the secret', () => {
    const error = rejectionOf(unsigned, hmac('s3cret'));
    expect(error.type).toBe('invalid-signature');
    expect(error.detail).toMatch(/X-Hub-Signature/);
    expect(error.detail).toMatch(/"auth": "basic"/);
  });

  it('does not take Basic credentials on an hmac connection', () => {
    expect(rejectionOf(withBasic('tributary', 's3cret'), hmac('s3cret')).type).toBe('invalid-signature');
  });

  it.each(['sha256=', 'sha256=xyz', 'sha1=0123456789abcdef0123456789abcdef01234567', 'deadbeef', `sha256=${'a'.repeat(63)}`])(
    'rejects the garbled signature header %j',
    (header) => {
      const request = { ...signed('s3cret'), headers: { 'x-hub-signature': header } };
      expect(rejectionOf(request, hmac('s3cret')).detail).toMatch(/sha256=/);
    },
  );

  it('rejects every delivery of a connection without secrets', () => {
    expect(rejectionOf(signed('s3cret'), hmac()).type).toBe('invalid-signature');
  });

  describe('with "auth": "basic" (Data Center without webhook secrets)', () => {
    it('accepts user tributary with the connection secret as password, also during a rotation', () => {
      expect(() => jira.verify(withBasic('tributary', 's3cret'), basic('s3cret'))).not.toThrow();
      expect(() => jira.verify(withBasic('tributary', 'old'), basic('new', 'old'))).not.toThrow();
    });

    it('accepts a password that contains colons', () => {
      expect(() => jira.verify(withBasic('tributary', 'a:b:c'), basic('a:b:c'))).not.toThrow();
    });

    it('rejects a wrong password or user, naming the expected user', () => {
      expect(rejectionOf(withBasic('tributary', 'nope'), basic('s3cret'))).toMatchObject({ type: 'invalid-credentials' });
      expect(rejectionOf(withBasic('admin', 's3cret'), basic('s3cret')).detail).toMatch(/"tributary"/);
    });

    it('rejects a delivery with neither a signature nor credentials', () => {
      const error = rejectionOf(unsigned, basic('s3cret'));
      expect(error.type).toBe('invalid-credentials');
      expect(error.detail).toMatch(/https:\/\/tributary:<connection secret>@/);
    });

    it('still checks a signature when Jira sends one', () => {
      expect(() => jira.verify(signed('s3cret'), basic('s3cret'))).not.toThrow();
      expect(rejectionOf(signed('wrong'), basic('s3cret')).type).toBe('invalid-signature');
    });
  });
});
