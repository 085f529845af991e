import type * as z from 'zod';
import type { ItemChange, Normalized } from './changes.ts';
import type { Source } from './work-item.ts';

/** A webhook request as the connector sees it: lowercase header names, the raw body bytes. */
export interface WebhookRequest {
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
}

/** A connection as the connector needs it at the edge: its settings and the secrets valid right now. */
export interface ConnectionForVerify {
  id: string;
  settings: Readonly<Record<string, unknown>>;
  /** the current secret first, then secrets still valid during a rotation window */
  secrets: readonly string[];
}

/** What the edge learns from a verified request before it is stored. */
export interface Received {
  /** the tool's delivery id; absent → the pipeline dedupes on the sha256 of the body */
  deliveryId?: string;
  /** the tool's event name, e.g. `issues` or `jira:issue_updated` */
  event: string;
  /** set for handshake requests (GitHub `ping`) answered without storing anything */
  reply?: { status: 200; body: Record<string, unknown> };
  /**
   * The bytes to store (and later normalize) instead of the request body, when the request only
   * points at the content (an SES notification of a message kept in S3). Stored, so a replay never
   * depends on the content still being where it was.
   */
  body?: Uint8Array;
}

/** A durably recorded delivery, as handed to `normalize`. */
export interface StoredDelivery {
  event: string;
  headers: Readonly<Record<string, string>>;
  body: Uint8Array;
  receivedAt: string;
}

/** Tenant knowledge a normalizer may need to resolve references; loaded by the pipeline, passed in as a value. */
export interface NormalizeContext {
  connection: { id: string; settings: Readonly<Record<string, unknown>> };
  /** Jira project key → site (`ACME` → `acme.atlassian.net`), so `ACME-12` resolves and `UTF-8` does not */
  jiraProjects: Readonly<Record<string, string>>;
  /** the tenant's Jira sites (of its connections and of known projects); with exactly one, unknown project keys resolve to it */
  jiraSites?: readonly string[];
}

/**
 * The contract every tool implements. A connector is a plain object: adding a tool means adding
 * a folder under `connectors/` and one entry in `connectors/index.ts`, nothing else.
 */
export interface Connector<
  Settings extends Record<string, unknown> = Record<string, unknown>,
  /** what `normalize` answers: a connector that never needs to wait declares `Normalized` */
  Result extends Normalized | Promise<Normalized> = Normalized | Promise<Normalized>,
> {
  source: Source;
  /** extra fields of `POST /v1/connections` for this source (e.g. Jira `site`), validated and stored */
  settings: z.ZodType<Settings>;
  /** headers carrying credentials; never stored with the delivery */
  secretHeaders: readonly string[];
  /** settings paths (`credentials.token`) that are secrets: stored, never returned by the API */
  secretSettings?: readonly string[];
  /** authenticate the raw request (timing-safe); throws UnauthorizedError */
  verify(request: WebhookRequest, connection: ConnectionForVerify): void | Promise<void>;
  /** reject requests that can never be processed (MalformedPayloadError, UnsupportedMediaTypeError) and identify the delivery */
  receive(request: WebhookRequest, connection: ConnectionForVerify): Received | Promise<Received>;
  /**
   * pure and deterministic: a stored delivery → changes to the index, or the reason it is ignored.
   * May answer with a promise (email parses MIME with postal-mime, which is asynchronous only).
   */
  normalize(delivery: StoredDelivery, context: NormalizeContext): Result;
  /** optional: read existing work through the tool's API (backfill, and reconciliation in the sweep) */
  backfill?: BackfillCapability;
}

/**
 * A record read from the tool's API, shaped exactly like the webhook delivery that would report it,
 * so it goes through the same inbox, `normalize` and merge as a webhook: a backfilled item and a
 * webhook for it produce the identical index state.
 */
export interface SyntheticDelivery {
  /**
   * Deterministic: the same source state always gives the same id (e.g. `sync:issue:octo/api#12@<updated_at>`),
   * so re-reading a page after a crash is deduplicated by the inbox and emits no event twice.
   */
  deliveryId: string;
  event: string;
  payload: unknown;
}

/** How requests to a tool's API are paced; time is injected so tests never sleep for real. */
export interface RequestLimits {
  /** never more requests than this per second (0: no pacing) */
  maxRequestsPerSecond: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** called when a rate limit makes the client wait, for progress reports */
  onWait?: (ms: number, reason: string) => void;
  /** a custom fetch (tests); defaults to the global one */
  fetch?: typeof fetch;
}

/** One page read from the tool. */
export interface SyncPage {
  deliveries: SyntheticDelivery[];
  /** changes no webhook can express (an item the credentials can no longer read: `access_lost`), with causation keys */
  changes?: { causationKey: string; change: ItemChange }[];
  /** where to resume after this page is applied; `null` when the run is complete */
  cursor: unknown;
  /** records still to read, when the tool tells (for the ETA) */
  remaining?: number;
}

export interface BackfillRequest {
  connection: { id: string; settings: Readonly<Record<string, unknown>> };
  /** open items, plus items updated at or after this time (ISO) */
  since: string;
  /** the checkpoint of an interrupted run; absent on the first run */
  cursor?: unknown;
  limits: RequestLimits;
}

export interface ReconcileRequest {
  connection: { id: string; settings: Readonly<Record<string, unknown>> };
  /** items updated at or after this time (ISO) are read again */
  since: string;
  /** refs of indexed, not deleted items of this connection to check still exist and are readable */
  verify: readonly string[];
  limits: RequestLimits;
  /** when the check runs (ISO): the time of tombstones the tool cannot date */
  now: string;
}

/**
 * The tool refused the credentials of a connection (401/403 on a listing), or a configured
 * container does not exist (404): retrying will not help until an operator acts.
 */
export class SourceAccessError extends Error {
  readonly status: number;
  constructor(message: string, status: number, cause?: unknown) {
    super(message, { cause });
    this.name = 'SourceAccessError';
    this.status = status;
  }
}

/** What a connector adds to read existing work from the tool's API (read credentials in its settings). */
export interface BackfillCapability {
  /** whether this connection's settings carry read credentials */
  canRead(settings: Readonly<Record<string, unknown>>): boolean;
  /** pages of open and recently updated items, resumable from any page's cursor */
  pages(request: BackfillRequest): AsyncIterable<SyncPage>;
  /** recently changed items, and the fate of the `verify` refs (deleted, transferred, access lost) */
  reconcile?(request: ReconcileRequest): AsyncIterable<SyncPage>;
}
