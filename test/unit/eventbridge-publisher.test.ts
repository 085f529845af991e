import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry, ThrottlingException } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EventBridgePublisher,
  EventPublishError,
  PUT_EVENTS_MAX_ENTRIES,
  PUT_EVENTS_MAX_ENTRY_BYTES,
  putEventsEntrySize,
} from '../../bus/eventbridge-publisher.ts';
import { PointerEnvelope } from '../../bus/pointer-envelope.ts';
import { EVENT_SCHEMA_VERSION, EVENT_SOURCE, EventEnvelope, type EventType } from '../../core/events.ts';
import { LOCAL_AWS, startFakeEventBridge } from '../support/fake-eventbridge.ts';

const BUS = 'tributary-test-Events';

const event = (n: number, options: { type?: EventType; dataBytes?: number } = {}): EventEnvelope => ({
  id: `evt_${String(n).padStart(4, '0')}`,
  type: options.type ?? 'work.item.updated',
  time: new Date(Date.UTC(2026, 0, 1, 12, 0, n)).toISOString(),
  tenantId: 'ten_test',
  subject: `github:octo/api#${n}`,
  schemaVersion: EVENT_SCHEMA_VERSION,
  data: { note: 'x'.repeat(options.dataBytes ?? 10) },
});

const events = (count: number, options?: { dataBytes?: number }) => Array.from({ length: count }, (_, i) => event(i, options));

const accepted = (entries: readonly PutEventsRequestEntry[]) => ({
  FailedEntryCount: 0,
  Entries: entries.map((_, i) => ({ EventId: `eb-${i}` })),
});

const idsOf = (entries: readonly PutEventsRequestEntry[] | undefined) => (entries ?? []).map((e) => (JSON.parse(e.Detail!) as EventEnvelope).id);

describe('EventBridgePublisher (aws-sdk-client-mock)', () => {
  const eventBridge = mockClient(EventBridgeClient);
  let sleeps: number[];
  let kept: EventEnvelope[];

  const publisher = (options: Partial<ConstructorParameters<typeof EventBridgePublisher>[0]> = {}) =>
    new EventBridgePublisher({
      client: new EventBridgeClient(LOCAL_AWS),
      busName: BUS,
      oversize: {
        keep: async (e) => {
          kept.push(e);
          return { href: `/v1/events/${e.id}`, bytes: JSON.stringify(e).length };
        },
      },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      ...options,
    });

  const sent = () => eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);

  beforeEach(() => {
    eventBridge.reset();
    sleeps = [];
    kept = [];
  });
  afterAll(() => eventBridge.restore());

  it('sends nothing for no events', async () => {
    expect(await publisher().publish([])).toEqual({ failedIds: [] });
    expect(sent()).toHaveLength(0);
  });

  it('batches 25 events as 10 + 10 + 5 entries, in order', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => accepted(input.Entries));
    const all = events(25);
    expect(await publisher().publish(all)).toEqual({ failedIds: [] });
    expect(sent().map((entries) => entries.length)).toEqual([10, 10, 5]);
    expect(sent().flatMap(idsOf)).toEqual(all.map((e) => e.id));
  });

  it('also closes a batch before its entries together exceed the request limit', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => accepted(input.Entries));
    const all = events(6, { dataBytes: 3000 });
    await publisher({ maxEntryBytes: 8000 }).publish(all);
    expect(sent().map((entries) => entries.length)).toEqual([2, 2, 2]);
    for (const entries of sent()) expect(entries.reduce((sum, e) => sum + putEventsEntrySize(e), 0)).toBeLessThanOrEqual(8000);
  });

  it('maps each envelope to source, detail-type, detail, bus and time', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input) => accepted(input.Entries));
    const one = event(7, { type: 'work.item.status_changed' });
    await publisher().publish([one]);
    const [entry] = sent()[0]!;
    expect(entry).toEqual({
      Source: EVENT_SOURCE,
      DetailType: 'work.item.status_changed',
      Detail: JSON.stringify(one),
      EventBusName: BUS,
      Time: new Date(one.time),
    });
  });

  it('re-sends only the entries that failed, then reports none failed', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [
          { EventId: 'eb-0' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' },
          { EventId: 'eb-2' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
        ],
      })
      .callsFake((input) => accepted(input.Entries));
    const all = events(4);
    expect(await publisher().publish(all)).toEqual({ failedIds: [] });
    expect(sent().map(idsOf)).toEqual([all.map((e) => e.id), [all[1]!.id, all[3]!.id]]);
    expect(sleeps).toHaveLength(1);
  });

  it('returns the ids that still fail after the last attempt, and publishes the rest', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: input.Entries.filter((e) => idsOf([e])[0] === 'evt_0002').length,
      Entries: input.Entries.map((e) => (idsOf([e])[0] === 'evt_0002' ? { ErrorCode: 'InternalFailure' } : { EventId: 'ok' })),
    }));
    const result = await publisher({ maxAttempts: 3 }).publish(events(5));
    expect(result).toEqual({ failedIds: ['evt_0002'] });
    expect(sent().map((entries) => entries.length)).toEqual([5, 1, 1]);
  });

  it('does not re-send entries EventBridge rejects for good (MalformedDetail)', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'eb-0' }, { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }],
    });
    expect(await publisher().publish(events(2))).toEqual({ failedIds: ['evt_0001'] });
    expect(sent()).toHaveLength(1);
  });

  it('backs off exponentially while throttled, longer than for other failures', async () => {
    const throttled = { FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] };
    eventBridge.on(PutEventsCommand).resolvesOnce(throttled).resolvesOnce(throttled).resolvesOnce(throttled).resolves(accepted([{}]));
    expect(await publisher({ baseDelayMs: 50, maxDelayMs: 10_000 }).publish(events(1))).toEqual({ failedIds: [] });
    // equal jitter at random() = 0.5: 3/4 of a ceiling that doubles from 4 × 50 ms when throttled
    expect(sleeps).toEqual([150, 300, 600]);

    eventBridge.reset();
    sleeps = [];
    eventBridge.on(PutEventsCommand).resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] }).resolves(accepted([{}]));
    await publisher({ baseDelayMs: 50 }).publish(events(1));
    expect(sleeps).toEqual([37.5]);
  });

  it('caps the backoff', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] });
    await expect(publisher({ maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 1000 }).publish(events(1))).rejects.toThrow(EventPublishError);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(1000);
    expect(sleeps).toHaveLength(7);
  });

  it('retries a whole request refused for throttling, then succeeds', async () => {
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }))
      .callsFake((input) => accepted(input.Entries));
    expect(await publisher().publish(events(3))).toEqual({ failedIds: [] });
    expect(sent()).toHaveLength(2);
    expect(sleeps).toEqual([150]);
  });

  it('rejects with every id when nothing could be published, so the outbox keeps them', async () => {
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('User is not authorized to perform: events:PutEvents'), { name: 'AccessDeniedException' }));
    const error = await publisher().publish(events(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventPublishError);
    expect((error as EventPublishError).failedIds).toEqual(['evt_0000', 'evt_0001', 'evt_0002']);
    expect(sent()).toHaveLength(1);
  });

  describe('an event over the entry limit', () => {
    it('is kept and published as a pointer with the same id, type and subject', async () => {
      eventBridge.on(PutEventsCommand).callsFake((input) => accepted(input.Entries));
      const small = event(1);
      const large = event(2, { type: 'work.item.created', dataBytes: 5000 });
      const result = await publisher({ maxEntryBytes: 4096 }).publish([small, large]);
      expect(result).toEqual({ failedIds: [] });
      expect(kept).toEqual([large]);
      const entries = sent().flat();
      expect(entries.map((e) => e.DetailType)).toEqual(['work.item.updated', 'work.item.created']);
      const pointer = PointerEnvelope.parse(JSON.parse(entries[1]!.Detail!));
      expect(pointer).toMatchObject({ id: large.id, type: large.type, subject: large.subject, tenantId: large.tenantId, data: {} });
      expect(pointer.pointer).toEqual({ reason: 'oversize', href: `/v1/events/${large.id}`, bytes: JSON.stringify(large).length });
      expect(putEventsEntrySize(entries[1]!)).toBeLessThanOrEqual(4096);
    });

    it('defaults to the 1 MB limit', async () => {
      eventBridge.on(PutEventsCommand).callsFake((input) => accepted(input.Entries));
      const fits = event(1, { dataBytes: 1000 * 1000 });
      const over = event(2, { dataBytes: PUT_EVENTS_MAX_ENTRY_BYTES });
      await publisher().publish([fits, over]);
      expect(kept.map((e) => e.id)).toEqual([over.id]);
      // the event that fits and the pointer still share one request under the 1 MB total
      expect(sent().map((entries) => entries.length)).toEqual([2]);
      expect(sent()[0]!.reduce((sum, e) => sum + putEventsEntrySize(e), 0)).toBeLessThanOrEqual(PUT_EVENTS_MAX_ENTRY_BYTES);
    });

    it('stays pending when it cannot be kept, without holding back the others', async () => {
      eventBridge.on(PutEventsCommand).callsFake((input) => accepted(input.Entries));
      const p = publisher({
        maxEntryBytes: 4096,
        oversize: {
          keep: async () => {
            throw new Error('store unavailable');
          },
        },
      });
      expect(await p.publish([event(1), event(2, { dataBytes: 5000 })])).toEqual({ failedIds: ['evt_0002'] });
      expect(sent().flat().map((e) => e.DetailType)).toEqual(['work.item.updated']);
    });
  });
});

describe('PutEvents requests on the wire (contract)', () => {
  let fake: Awaited<ReturnType<typeof startFakeEventBridge>>;
  let client: EventBridgeClient;
  beforeAll(async () => {
    fake = await startFakeEventBridge();
    client = new EventBridgeClient({ ...LOCAL_AWS, endpoint: fake.endpoint });
  });
  afterEach(() => {
    fake.requests.length = 0;
  });
  afterAll(async () => {
    client.destroy();
    await fake.close();
  });

  // Constraints from the EventBridge API reference (PutEvents, PutEventsRequestEntry).
  const EVENT_BUS_NAME = /^(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/.\-_A-Za-z0-9]+$/;
  const ENTRY_FIELDS = ['Detail', 'DetailType', 'EventBusName', 'Resources', 'Source', 'Time', 'TraceHeader'];

  it('matches what EventBridge accepts: operation, fields, sizes, Source, DetailType, EventBusName, Time', async () => {
    const publisher = new EventBridgePublisher({
      client,
      busName: BUS,
      oversize: { keep: async (e) => ({ href: `/v1/events/${e.id}`, bytes: 0 }) },
    });
    const all = [...events(12, { dataBytes: 2000 }), event(99, { type: 'work.link.added', dataBytes: 300 })];
    expect(await publisher.publish(all)).toEqual({ failedIds: [] });

    expect(fake.requests.length).toBe(2);
    for (const request of fake.requests) {
      expect(request.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
      expect(request.headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(Object.keys(request.body)).toEqual(['Entries']);
      const { Entries } = request.body;
      expect(Entries.length).toBeGreaterThanOrEqual(1);
      expect(Entries.length).toBeLessThanOrEqual(PUT_EVENTS_MAX_ENTRIES);
      let total = 0;
      for (const entry of Entries) {
        for (const field of Object.keys(entry)) expect(ENTRY_FIELDS).toContain(field);
        expect(entry.Source).toBe('tributary');
        expect(String(entry.Source).length).toBeLessThanOrEqual(256);
        expect(String(entry.DetailType)).toMatch(/^work\.[a-z_]+\.[a-z_]+$/);
        expect(String(entry.DetailType).length).toBeLessThanOrEqual(128);
        expect(entry.EventBusName).toBe(BUS);
        expect(String(entry.EventBusName)).toMatch(EVENT_BUS_NAME);
        // Time travels as epoch seconds (awsJson1_1 timestamp), equal to the event's own time.
        expect(typeof entry.Time).toBe('number');
        const detail = EventEnvelope.parse(JSON.parse(String(entry.Detail)));
        expect(entry.DetailType).toBe(detail.type);
        expect(entry.Time).toBe(Date.parse(detail.time) / 1000);
        const size = putEventsEntrySize({ ...entry, Time: new Date() } as PutEventsRequestEntry);
        expect(size).toBeLessThanOrEqual(PUT_EVENTS_MAX_ENTRY_BYTES);
        total += size;
      }
      expect(total).toBeLessThanOrEqual(PUT_EVENTS_MAX_ENTRY_BYTES);
    }
    expect(fake.entries().map((e) => e.detail.id)).toEqual(all.map((e) => e.id));
  });

  it('reads per-entry failures from the service answer and re-sends only those', async () => {
    const flaky = await startFakeEventBridge((request, index) =>
      index === 0
        ? {
            body: {
              FailedEntryCount: 1,
              Entries: request.body.Entries.map((_, i) => (i === 1 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal error' } : { EventId: `eb-${i}` })),
            },
          }
        : { body: { FailedEntryCount: 0, Entries: request.body.Entries.map((_, i) => ({ EventId: `eb-r${i}` })) } },
    );
    const flakyClient = new EventBridgeClient({ ...LOCAL_AWS, endpoint: flaky.endpoint });
    try {
      const publisher = new EventBridgePublisher({ client: flakyClient, busName: BUS, oversize: { keep: async () => ({ href: '', bytes: 0 }) }, sleep: async () => {} });
      expect(await publisher.publish(events(3))).toEqual({ failedIds: [] });
      expect(flaky.requests.map((r) => r.body.Entries.map((e) => JSON.parse(String(e.Detail)).id))).toEqual([
        ['evt_0000', 'evt_0001', 'evt_0002'],
        ['evt_0001'],
      ]);
    } finally {
      flakyClient.destroy();
      await flaky.close();
    }
  });
});
