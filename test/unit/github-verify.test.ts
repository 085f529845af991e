import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { github } from '../../connectors/github/index.ts';
import type { ConnectionForVerify, WebhookRequest } from '../../core/connector.ts';
import { UnauthorizedError } from '../../core/errors.ts';
import { githubExample } from '../fixtures/github-examples.ts';

const payload = JSON.stringify(githubExample('issues', 'opened').payload);
const connection = (...secrets: string[]): ConnectionForVerify => ({ id: 'con_test', settings: {}, secrets });

const signedRequest = async (secret: string, body = payload): Promise<WebhookRequest> => ({
  headers: {
    'content-type': 'application/json',
    'x-github-event': 'issues',
    'x-hub-signature-256': await sign(secret, body),
  },
  body: new TextEncoder().encode(body),
});

/** The UnauthorizedError `verify` throws, for assertions on its type and message. */
const rejectionOf = (request: WebhookRequest, against: ConnectionForVerify): UnauthorizedError => {
  try {
    github.verify(request, against);
  } catch (error) {
    if (error instanceof UnauthorizedError) return error;
    throw error;
  }
  throw new Error('verify accepted the request');
};

describe('github.verify', () => {
  it('accepts a delivery signed with the connection secret', async () => {
    const request = await signedRequest('s3cret');
    expect(() => github.verify(request, connection('s3cret'))).not.toThrow();
  });

  it('accepts a delivery signed with an older secret still valid during a rotation', async () => {
    const request = await signedRequest('old');
    expect(() => github.verify(request, connection('new', 'old'))).not.toThrow();
  });

  it('accepts an upper-case hex signature', async () => {
    const request = await signedRequest('s3cret');
    const header = request.headers['x-hub-signature-256']!;
    const upper = { ...request, headers: { ...request.headers, 'x-hub-signature-256': `sha256=${header.slice(7).toUpperCase()}` } };
    expect(() => github.verify(upper, connection('s3cret'))).not.toThrow();
  });

  it('rejects a delivery signed with another secret, telling the user to compare secrets', async () => {
    const error = rejectionOf(await signedRequest('wrong'), connection('s3cret', 'older'));
    expect(error.status).toBe(401);
    expect(error.type).toBe('invalid-signature');
    expect(error.detail).toMatch(/secret/);
  });

  it('rejects a body changed after signing', async () => {
    const request = await signedRequest('s3cret');
    const tampered = { ...request, body: new TextEncoder().encode(payload.replace('opened', 'closed')) };
    expect(rejectionOf(tampered, connection('s3cret')).type).toBe('invalid-signature');
  });

  it('rejects a delivery without X-Hub-Signature-256, telling the user to set the secret on GitHub', async () => {
    const { 'x-hub-signature-256': _, ...headers } = (await signedRequest('s3cret')).headers;
    const error = rejectionOf({ headers, body: new TextEncoder().encode(payload) }, connection('s3cret'));
    expect(error.type).toBe('invalid-signature');
    expect(error.detail).toMatch(/X-Hub-Signature-256/);
    expect(error.detail).toMatch(/Secret/);
  });

  it('does not trust the legacy SHA-1 X-Hub-Signature alone', async () => {
    const request = await signedRequest('s3cret');
    const { 'x-hub-signature-256': _, ...headers } = request.headers;
    const sha1Only = { ...request, headers: { ...headers, 'x-hub-signature': 'sha1=0123456789abcdef0123456789abcdef01234567' } };
    expect(rejectionOf(sha1Only, connection('s3cret')).type).toBe('invalid-signature');
  });

  it.each(['sha256=', 'sha256=xyz', 'sha1=abc', 'deadbeef', `sha256=${'a'.repeat(63)}`])(
    'rejects the garbled signature header %j',
    async (header) => {
      const request = await signedRequest('s3cret');
      const garbled = { ...request, headers: { ...request.headers, 'x-hub-signature-256': header } };
      const error = rejectionOf(garbled, connection('s3cret'));
      expect(error.type).toBe('invalid-signature');
      expect(error.detail).toMatch(/sha256=/);
    },
  );

  it('rejects every delivery of a connection without secrets', async () => {
    expect(rejectionOf(await signedRequest('s3cret'), connection()).type).toBe('invalid-signature');
  });
});
