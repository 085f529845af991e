import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type EventEnvelope } from '../core/events.ts';
import type { EventPublisher, Logger } from '../core/ports.ts';
import type { PointerEnvelope } from './pointer-envelope.ts';

/** PutEvents takes at most 10 entries per request (EventBridge API reference, PutEvents `Entries`). */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * The PutEvents entry size limit, and the limit of one request's entries together. EventBridge
 * raised it from 256 KB to 1 MB on 2026-01-29; pass `maxEntryBytes: 262_144` where the old limit
 * still applies.
 */
export const PUT_EVENTS_MAX_ENTRY_BYTES = 1024 * 1024;

/**
 * An entry's size as EventBridge computes it: 14 bytes for `Time`, plus the UTF-8 bytes of
 * `Source`, `DetailType`, `Detail` and each of `Resources`
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
 */
export const putEventsEntrySize = (entry: PutEventsRequestEntry): number =>
  (entry.Time ? 14 : 0) +
  Buffer.byteLength(entry.Source ?? '') +
  Buffer.byteLength(entry.DetailType ?? '') +
  Buffer.byteLength(entry.Detail ?? '') +
  (entry.Resources ?? []).reduce((sum, r) => sum + Buffer.byteLength(r), 0);


/** Keeps an event too large to publish and answers where consumers fetch it. */
export interface OversizeEventStore {
  keep(event: EventEnvelope): Promise<{ href: string; bytes: number }>;
}

export interface EventBridgePublisherOptions {
  client: EventBridgeClient;
  /** name or ARN of the bus */
  busName: string;
  oversize: OversizeEventStore;
  maxEntryBytes?: number;
  /** attempts per batch, the first included; failed entries are re-sent, never the whole batch */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  log?: Logger;
}

/** Nothing of a publish call reached the bus; every event stays pending and is retried later. */
export class EventPublishError extends Error {
  constructor(
    readonly failedIds: string[],
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`No event of ${failedIds.length} could be published: ${reason}`, options);
    this.name = 'EventPublishError';
  }
}

/** Per-entry error codes worth re-sending; others (MalformedDetail, AccessDenied…) fail at once. */
const RETRYABLE_ENTRY_CODES = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', 'ServiceUnavailable']);
const THROTTLING_CODES = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException']);

const isRetryableEntry = (result: PutEventsResultEntry | undefined) => !result?.ErrorCode || RETRYABLE_ENTRY_CODES.has(result.ErrorCode);

const isRetryableRequestError = (error: unknown): boolean => {
  const e = error as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ?? 0;
  return Boolean(e.$retryable) || THROTTLING_CODES.has(e.name ?? '') || RETRYABLE_ENTRY_CODES.has(e.name ?? '') || status === 429 || status >= 500;
};

interface Prepared {
  id: string;
  entry: PutEventsRequestEntry;
  size: number;
}

/**
 * Publishes event envelopes to an EventBridge bus: `source` is `tributary`, `detail-type` the
 * event type, `detail` the envelope, `time` the event time. Batches hold at most 10 entries and
 * 1 MB; after a partial failure only the failed entries are re-sent, with exponential backoff and
 * jitter (longer when throttled). Ids still failing are returned so the outbox keeps them.
 */
export class EventBridgePublisher implements EventPublisher {
  readonly #options: Required<Omit<EventBridgePublisherOptions, 'log'>> & { log?: Logger };

  constructor(options: EventBridgePublisherOptions) {
    this.#options = {
      maxEntryBytes: PUT_EVENTS_MAX_ENTRY_BYTES,
      maxAttempts: 5,
      baseDelayMs: 50,
      maxDelayMs: 2000,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
      ...options,
    };
  }

  /** The PutEvents entry for one envelope. */
  entryFor(event: EventEnvelope | PointerEnvelope): PutEventsRequestEntry {
    return {
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify(event),
      EventBusName: this.#options.busName,
      Time: new Date(event.time),
    };
  }

  async publish(events: readonly EventEnvelope[]): Promise<{ failedIds: string[] }> {
    if (events.length === 0) return { failedIds: [] };
    const failedIds: string[] = [];
    const prepared: Prepared[] = [];
    for (const event of events) {
      const item = await this.#prepare(event).catch((error: unknown) => {
        this.#options.log?.error('could not keep an oversize event', { eventId: event.id, tenantId: event.tenantId, error: String(error) });
        return undefined;
      });
      if (item) prepared.push(item);
      else failedIds.push(event.id);
    }
    let lastReason = 'the oversize event store failed';
    for (const batch of this.#batches(prepared)) {
      const result = await this.#sendBatch(batch);
      failedIds.push(...result.failedIds);
      if (result.reason) lastReason = result.reason;
    }
    if (failedIds.length === events.length) throw new EventPublishError(failedIds, lastReason);
    return { failedIds };
  }

  async #prepare(event: EventEnvelope): Promise<Prepared> {
    const entry = this.entryFor(event);
    const size = putEventsEntrySize(entry);
    if (size <= this.#options.maxEntryBytes) return { id: event.id, entry, size };
    const kept = await this.#options.oversize.keep(event);
    const { data: _data, ...head } = event;
    const pointer: PointerEnvelope = { ...head, data: {}, pointer: { reason: 'oversize', href: kept.href, bytes: kept.bytes } };
    const pointerEntry = this.entryFor(pointer);
    const pointerSize = putEventsEntrySize(pointerEntry);
    if (pointerSize > this.#options.maxEntryBytes) throw new Error(`even the pointer of event ${event.id} is ${pointerSize} bytes`);
    this.#options.log?.warn('event published as a pointer', { eventId: event.id, tenantId: event.tenantId, bytes: size });
    return { id: event.id, entry: pointerEntry, size: pointerSize };
  }

  /** Consecutive batches of at most 10 entries and `maxEntryBytes` in total, in order. */
  *#batches(prepared: Prepared[]): Generator<Prepared[]> {
    let batch: Prepared[] = [];
    let bytes = 0;
    for (const item of prepared) {
      if (batch.length === PUT_EVENTS_MAX_ENTRIES || (batch.length > 0 && bytes + item.size > this.#options.maxEntryBytes)) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(item);
      bytes += item.size;
    }
    if (batch.length > 0) yield batch;
  }

  #delay(attempt: number, throttled: boolean): number {
    const { baseDelayMs, maxDelayMs, random } = this.#options;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * (throttled ? 4 : 1) * 2 ** (attempt - 1));
    // "Equal jitter": at least half the ceiling, so attempts spread out but never collapse to zero.
    return ceiling / 2 + random() * (ceiling / 2);
  }

  async #sendBatch(batch: Prepared[]): Promise<{ failedIds: string[]; reason?: string }> {
    const { client, maxAttempts, sleep, log } = this.#options;
    const rejected: string[] = [];
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      let results: PutEventsResultEntry[];
      try {
        const response = await client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
        if (!response.FailedEntryCount) return { failedIds: rejected };
        results = response.Entries ?? [];
      } catch (error) {
        const reason = `${(error as Error).name}: ${(error as Error).message}`;
        if (!isRetryableRequestError(error) || attempt >= maxAttempts) {
          log?.warn('PutEvents failed', { attempt, events: pending.length, reason });
          return { failedIds: [...rejected, ...pending.map((p) => p.id)], reason };
        }
        await sleep(this.#delay(attempt, THROTTLING_CODES.has((error as Error).name)));
        continue;
      }
      // Result entries line up with request entries by position; a successful one has an EventId and no ErrorCode.
      const failed = pending.flatMap((p, i) => (results[i]?.EventId && !results[i]?.ErrorCode ? [] : [{ p, result: results[i] }]));
      const codes = [...new Set(failed.map((f) => f.result?.ErrorCode ?? 'NoResult'))];
      const reason = `PutEvents entries failed: ${codes.join(', ')}`;
      const permanent = failed.filter((f) => !isRetryableEntry(f.result)).map((f) => f.p.id);
      if (permanent.length > 0) {
        log?.error('PutEvents rejected entries', { eventIds: permanent, reason });
        rejected.push(...permanent);
      }
      pending = failed.filter((f) => isRetryableEntry(f.result)).map((f) => f.p);
      if (pending.length === 0) return { failedIds: rejected, reason };
      if (attempt >= maxAttempts) {
        log?.warn('PutEvents entries still failing', { attempt, eventIds: pending.map((p) => p.id), reason });
        return { failedIds: [...rejected, ...pending.map((p) => p.id)], reason };
      }
      await sleep(this.#delay(attempt, codes.some((code) => THROTTLING_CODES.has(code))));
    }
  }
}
