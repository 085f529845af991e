import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { ATTEMPT_TIMEOUT_MS } from '../core/subscriptions.ts';
import { type CheckedTarget, type TargetPolicy, TargetRefusedError, checkTarget } from './webhook-target.ts';

/** What one attempt came to: the receiver's status, or why there was none. */
export interface SendResult {
  status?: number;
  error?: string;
  /** the guard refused the target (after resolution): no connection was made */
  refused?: boolean;
  durationMs: number;
}

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Sends one webhook; never throws (a failure is a result). */
export type WebhookSender = (request: WebhookRequest) => Promise<SendResult>;

/** A socket `lookup` that answers the address the guard checked, whatever the name resolves to now. */
const pinnedLookup =
  (target: CheckedTarget): LookupFunction =>
  (_hostname, options, callback) => {
    // Node ≥ 20 asks for every address (`all`) when it races IPv4 and IPv6 (autoSelectFamily).
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };

/** Bytes of a response body read before the connection is dropped: a receiver's answer is not stored. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** POSTs to a checked target, within the timeout, never following a redirect. */
const post = (target: CheckedTarget, request: WebhookRequest, timeoutMs: number): Promise<{ status?: number; error?: string }> =>
  new Promise((resolve) => {
    const { url } = target;
    const body = Buffer.from(request.body);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (result: { status?: number; error?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        // A new connection each time: a pooled socket would skip the check of this attempt's address.
        agent: false,
        lookup: pinnedLookup(target),
        headers: { ...request.headers, 'content-length': String(body.length) },
      },
      (res) => {
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) res.destroy();
        });
        const status = res.statusCode;
        res.on('end', () => finish({ status }));
        res.on('close', () => finish({ status }));
        res.on('error', () => finish({ status }));
      },
    );
    // One deadline for connecting, sending and the answer (Standard Webhooks receivers answer fast and work later).
    const timer = setTimeout(() => {
      finish({ error: `no answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.code ? `${error.code}: ${error.message}` : error.message }));
    req.end(body);
  });

/**
 * The sender of the hub: the guard (checked again at every attempt, after resolution), then one
 * POST to the checked address. Redirects are answers like any other non-2xx: not followed.
 */
export const createWebhookSender =
  (policy: TargetPolicy, options: { timeoutMs?: number } = {}): WebhookSender =>
  async (request) => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let target: CheckedTarget;
    try {
      target = await checkTarget(request.url, policy);
    } catch (error) {
      if (error instanceof TargetRefusedError) return { error: `refused: ${error.detail}`, refused: true, durationMs: elapsed() };
      return { error: String(error), durationMs: elapsed() };
    }
    const result = await post(target, request, options.timeoutMs ?? ATTEMPT_TIMEOUT_MS);
    return { ...result, durationMs: elapsed() };
  };
