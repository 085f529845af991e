import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';

/**
 * The I/O the email connector does at the edge, as injectable functions: the hub wires real ones
 * (HTTPS, S3), tests wire in-memory ones, so no test ever reaches the network.
 */

/** Fetches an SNS signing certificate (PEM) from a URL already checked to be Amazon SNS's. */
export type CertificateFetcher = (url: string) => Promise<string>;

/** Confirms an SNS subscription by visiting its `SubscribeURL` (already checked to be SNS's). */
export type SubscriptionConfirmer = (subscribeUrl: string) => Promise<void>;

/** Where an SES S3 action stored a message. */
export interface ObjectLocation {
  bucket: string;
  key: string;
  /** the AWS region of the notification (from its SNS topic), when known */
  region?: string;
}

/** Reads a stored object, at most `maxBytes` of it (`truncated` tells when there was more). */
export interface ObjectReader {
  read(location: ObjectLocation, options: { maxBytes: number }): Promise<{ bytes: Uint8Array; truncated: boolean }>;
}

const FETCH_TIMEOUT_MS = 5000;

/** GETs a certificate over HTTPS with a timeout: SNS waits ~15 s for the answer to its POST. */
export const fetchCertificateOverHttps: CertificateFetcher = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.text();
};

/** GETs the SubscribeURL, which is how an HTTP endpoint confirms an SNS subscription. */
export const confirmSubscriptionOverHttps: SubscriptionConfirmer = async (subscribeUrl) => {
  const response = await fetch(subscribeUrl, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
  if (!response.ok) throw new Error(`GET SubscribeURL answered ${response.status}`);
  await response.arrayBuffer();
};

/**
 * Parsed certificates by URL, fetched at most once per `ttlMs` (SNS signs every message with one
 * of a few certificates; fetching each time would add a round trip to every delivery). A failed
 * fetch is not cached.
 */
export const createCertificateCache = (
  fetcher: CertificateFetcher,
  options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
): ((url: string) => Promise<X509Certificate>) => {
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  const maxEntries = options.maxEntries ?? 64;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { certificate: Promise<X509Certificate>; expires: number }>();
  return (url) => {
    const hit = entries.get(url);
    if (hit && hit.expires > now()) return hit.certificate;
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
    const certificate = fetcher(url).then((pem) => new X509Certificate(pem));
    entries.set(url, { certificate, expires: now() + ttlMs });
    certificate.catch(() => entries.delete(url));
    return certificate;
  };
};

/**
 * Objects as files under a directory, `{root}/{bucket}/{key}`: the local stand-in for S3 (and
 * what tests use). Keys that would leave the directory are refused.
 */
export const createDirectoryObjectReader = (root: string): ObjectReader => ({
  async read(location, { maxBytes }) {
    const base = resolve(root);
    const path = resolve(base, location.bucket, location.key);
    if (!path.startsWith(base + sep)) throw new Error(`Object key ${location.bucket}/${location.key} leaves ${root}`);
    const bytes = await readFile(path);
    return { bytes: bytes.subarray(0, maxBytes), truncated: bytes.byteLength > maxBytes };
  },
});
