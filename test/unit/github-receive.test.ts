import { describe, expect, it } from 'vitest';
import { receiveGithubDelivery } from '../../connectors/github/index.ts';
import type { WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError, UnsupportedMediaTypeError } from '../../core/errors.ts';
import { githubExample, toBody } from '../fixtures/github-examples.ts';

const request = (headers: Record<string, string>, body: Uint8Array | string): WebhookRequest => ({
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
});

const issueOpened = toBody(githubExample('issues', 'opened').payload);

describe('receiveGithubDelivery', () => {
  it('identifies a delivery by X-GitHub-Event and X-GitHub-Delivery', () => {
    const received = receiveGithubDelivery(
      request({ 'x-github-event': 'issues', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }, issueOpened),
    );
    expect(received).toEqual({ event: 'issues', deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
  });

  it('leaves the delivery id out when GitHub did not send one', () => {
    expect(receiveGithubDelivery(request({ 'x-github-event': 'issues' }, issueOpened))).toEqual({ event: 'issues' });
  });

  it('accepts a JSON content type with parameters', () => {
    const received = receiveGithubDelivery(
      request({ 'x-github-event': 'issues', 'content-type': 'Application/JSON; charset=utf-8' }, issueOpened),
    );
    expect(received.event).toBe('issues');
  });

  it('answers a ping with GitHub zen and the hook id, so creating the webhook shows a green tick', () => {
    const ping = githubExample('ping').payload as { zen: string; hook_id: number };
    const received = receiveGithubDelivery(request({ 'x-github-event': 'ping', 'x-github-delivery': 'd1' }, toBody(ping)));
    expect(received).toEqual({
      event: 'ping',
      deliveryId: 'd1',
      reply: { status: 200, body: { ok: true, zen: ping.zen, hookId: ping.hook_id } },
    });
  });

  it('rejects a request without X-GitHub-Event as malformed', () => {
    expect(() => receiveGithubDelivery(request({}, issueOpened))).toThrow(MalformedPayloadError);
    expect(() => receiveGithubDelivery(request({}, issueOpened))).toThrow(/X-GitHub-Event/);
  });

  it('rejects form-encoded deliveries, telling the user to choose the JSON content type', () => {
    const form = request(
      { 'x-github-event': 'issues', 'content-type': 'application/x-www-form-urlencoded' },
      `payload=${encodeURIComponent('{}')}`,
    );
    expect(() => receiveGithubDelivery(form)).toThrow(UnsupportedMediaTypeError);
    expect(() => receiveGithubDelivery(form)).toThrow(/Content type.*application\/json/);
  });

  it('rejects other content types', () => {
    expect(() => receiveGithubDelivery(request({ 'x-github-event': 'issues', 'content-type': 'text/plain' }, '{}'))).toThrow(
      UnsupportedMediaTypeError,
    );
  });

  it.each([
    ['is not JSON', '{"action": "opened"', /not valid JSON/],
    ['is an array', '[1, 2]', /an array/],
    ['is null', 'null', /null/],
    ['is a string', '"hello"', /a string/],
  ])('rejects a body that %s, naming the problem', (_, body, message) => {
    const bad = request({ 'x-github-event': 'issues' }, body);
    expect(() => receiveGithubDelivery(bad)).toThrow(MalformedPayloadError);
    expect(() => receiveGithubDelivery(bad)).toThrow(message);
  });

  it('rejects a body that is not UTF-8', () => {
    const bad = request({ 'x-github-event': 'issues' }, new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(() => receiveGithubDelivery(bad)).toThrow(/UTF-8/);
  });
});
