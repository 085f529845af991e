import type { RequestLimits } from '../../core/connector.ts';

/** Give up on a request the tool keeps rate limiting after this many waits. */
const MAX_WAITS = 8;
/** A 429 without any hint of how long to wait (RFC 6585 leaves it to the server): wait a minute. */
const DEFAULT_WAIT_MS = 60_000;

/** `Retry-After` is delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
const retryAfterMs = (value: string | null, now: number): number | undefined => {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

/** Epoch ms when GitHub's quota resets, when the response says the quota is spent. */
const quotaResetAt = (headers: Headers): number | undefined => {
  if (headers.get('x-ratelimit-remaining') !== '0') return undefined;
  const reset = Number(headers.get('x-ratelimit-reset'));
  return Number.isFinite(reset) && reset > 0 ? reset * 1000 : undefined;
};

/**
 * How long to wait before repeating a request that was refused for its rate, or `undefined` when
 * the answer stands. GitHub answers 403 or 429 with `retry-after` (secondary limits) or with
 * `x-ratelimit-remaining: 0` and the reset time (primary limit); Jira Cloud answers 429 with
 * `Retry-After`. A 403 without those headers is a real refusal and is returned to the caller.
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
 * https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
 */
export const waitBeforeRetry = (response: Response, now: number): number | undefined => {
  if (response.status !== 403 && response.status !== 429) return undefined;
  const retryAfter = retryAfterMs(response.headers.get('retry-after'), now);
  if (retryAfter !== undefined) return retryAfter;
  const reset = quotaResetAt(response.headers);
  if (reset !== undefined) return Math.max(0, reset - now) + 1000;
  return response.status === 429 ? DEFAULT_WAIT_MS : undefined;
};

/**
 * A `fetch` for the tools' API clients (Octokit's `request.fetch`, axios' `env.fetch` under
 * jira.js) that never sends more than `maxRequestsPerSecond`, waits out rate limits and repeats
 * the request, and stops before the next request when a response says the quota is spent.
 * All waiting goes through `limits.sleep`, so tests control time.
 */
export const rateLimitedFetch = (limits: RequestLimits): typeof fetch => {
  const inner = limits.fetch ?? globalThis.fetch;
  const interval = limits.maxRequestsPerSecond > 0 ? 1000 / limits.maxRequestsPerSecond : 0;
  let nextSlot = 0;
  let pausedUntil = 0;
  const wait = async (until: number) => {
    const ms = until - limits.now();
    if (ms > 0) await limits.sleep(ms);
  };
  return async function limitedFetch(input, init) {
    for (let waits = 0; ; waits++) {
      const start = Math.max(limits.now(), nextSlot, pausedUntil);
      nextSlot = start + interval;
      await wait(start);
      // A Request is single-use once its body was read; GETs have none, but keep the original intact.
      const response = await inner(input instanceof Request ? input.clone() : input, init);
      const now = limits.now();
      const retryIn = waitBeforeRetry(response, now);
      if (retryIn === undefined || waits >= MAX_WAITS) {
        const reset = response.ok ? quotaResetAt(response.headers) : undefined;
        if (reset !== undefined && reset > now) {
          pausedUntil = Math.max(pausedUntil, reset + 1000);
          limits.onWait?.(pausedUntil - now, 'quota spent until reset');
        }
        return response;
      }
      await response.body?.cancel();
      pausedUntil = Math.max(pausedUntil, now + retryIn);
      limits.onWait?.(retryIn, `rate limited (${response.status})`);
    }
  };
};
