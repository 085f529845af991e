import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDb } from '../../store/db.ts';
import { createRequestLanes, laneGate } from '../../store/request-lanes.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('laneGate: background requests give way to foreground ones', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds at most backgroundSlots background requests in flight while the app is busy', async () => {
    const gate = laneGate({ backgroundSlots: 2, maxWaitMs: 25 }, () => Date.now());
    gate.enterForeground();
    gate.leaveForeground();
    const started: number[] = [];
    for (const n of [1, 2, 3]) void gate.enterBackground().then(() => started.push(n));
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([1, 2]);
    expect(gate.state()).toEqual({ foregroundInFlight: 0, backgroundInFlight: 2, waiting: 1 });
    gate.leaveBackground();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([1, 2, 3]);
  });

  it('lets background work send as much as it has once the app has been quiet for maxWaitMs', async () => {
    const gate = laneGate({ backgroundSlots: 2, maxWaitMs: 25 }, () => Date.now());
    const started: number[] = [];
    for (const n of [1, 2, 3]) void gate.enterBackground().then(() => started.push(n));
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([1, 2, 3]);

    gate.enterForeground();
    gate.leaveForeground();
    for (const n of [4, 5]) void gate.enterBackground().then(() => started.push(n));
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(25);
    expect(started).toEqual([1, 2, 3, 4, 5]);
  });

  it('starts no background request while a foreground one is in flight, and starts it when that one is answered', async () => {
    const gate = laneGate({ backgroundSlots: 4, maxWaitMs: 25 }, () => Date.now());
    gate.enterForeground();
    let started = false;
    void gate.enterBackground().then(() => (started = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(started).toBe(false);
    gate.leaveForeground();
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toBe(true);
  });

  it('gives way for maxWaitMs at most: a stream of foreground requests slows background work, never stops it', async () => {
    const gate = laneGate({ backgroundSlots: 4, maxWaitMs: 25 }, () => Date.now());
    gate.enterForeground();
    let started = false;
    void gate.enterBackground().then(() => (started = true));
    await vi.advanceTimersByTimeAsync(24);
    expect(started).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(started).toBe(true);
    expect(gate.state()).toEqual({ foregroundInFlight: 1, backgroundInFlight: 1, waiting: 0 });
  });

  it('keeps background requests in the order they came', async () => {
    const gate = laneGate({ backgroundSlots: 1, maxWaitMs: 25 }, () => Date.now());
    gate.enterForeground();
    gate.leaveForeground();
    const started: number[] = [];
    for (const n of [1, 2, 3]) void gate.enterBackground().then(() => started.push(n));
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(0);
      gate.leaveBackground();
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([1, 2, 3]);
  });
});

describe('createRequestLanes: two clients of one engine', () => {
  /** An engine that holds every request until the test answers it, and notes the order they reach it in. */
  const holdingEngine = async () => {
    const arrived: string[] = [];
    const held: ServerResponse[] = [];
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      request.resume();
      request.on('end', () => {
        arrived.push(String(request.headers['x-amz-target']));
        held.push(response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const answerAll = () => {
      for (const response of held.splice(0)) response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}');
    };
    return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrived, held, answerAll, close: () => new Promise<void>((r) => server.close(() => r())) };
  };

  it('sends a background request only once the foreground request in flight is answered', async () => {
    const engine = await holdingEngine();
    try {
      const lanes = createRequestLanes({ backgroundSlots: 2, maxWaitMs: 60_000 });
      const background = createDb({ endpoint: engine.endpoint, table: 'tributary', embedded: true, lane: lanes.background });
      const foreground = createDb({ endpoint: engine.endpoint, table: 'tributary', embedded: true, lane: lanes.foreground });
      const get = (db: typeof background) => db.doc.send(new GetCommand({ TableName: 'tributary', Key: { pk: 'a', sk: 'b' } }));

      const acknowledged = get(foreground);
      await vi.waitFor(() => expect(engine.held).toHaveLength(1));
      const processed = Promise.all([get(background), get(background), get(background)]);
      for (let i = 0; i < 20; i++) await settle();
      expect(engine.held).toHaveLength(1);

      engine.answerAll();
      await acknowledged;
      // Two slots: two of the three background requests reach the engine, the third when one is answered.
      await vi.waitFor(() => expect(engine.held).toHaveLength(2));
      engine.answerAll();
      await vi.waitFor(() => expect(engine.held).toHaveLength(1));
      engine.answerAll();
      await processed;
      expect(engine.arrived).toEqual(Array(4).fill('DynamoDB_20120810.GetItem'));
    } finally {
      await engine.close();
    }
  });
});
