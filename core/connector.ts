import type { z } from 'zod';
import type { Normalized } from './changes.ts';
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
export interface Connector<Settings extends Record<string, unknown> = Record<string, unknown>> {
  source: Source;
  /** extra fields of `POST /v1/connections` for this source (e.g. Jira `site`), validated and stored */
  settings: z.ZodType<Settings>;
  /** headers carrying credentials; never stored with the delivery */
  secretHeaders: readonly string[];
  /** authenticate the raw request (timing-safe); throws UnauthorizedError */
  verify(request: WebhookRequest, connection: ConnectionForVerify): void | Promise<void>;
  /** reject requests that can never be processed (MalformedPayloadError, UnsupportedMediaTypeError) and identify the delivery */
  receive(request: WebhookRequest, connection: ConnectionForVerify): Received | Promise<Received>;
  /** pure: a stored delivery → changes to the index, or the reason it is ignored */
  normalize(delivery: StoredDelivery, context: NormalizeContext): Normalized;
}
