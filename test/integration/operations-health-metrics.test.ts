import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createConnectorRegistry } from '../../connectors/index.ts';
import type { EventPublisher } from '../../core/ports.ts';
import { createApp } from '../../functions/http/app.ts';
import { ConnectionCache } from '../../pipeline/connection-cache.ts';
import { createDb } from '../../store/db.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { OPERATOR_TOKEN, type TestHub, eventually, postGithub, settled, startTestHub, uniqueTable } from '../support/hub.ts';

const METRICS_TOKEN = 'metrics-scraper-token-0123456789';
const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** The value of one sample of a Prometheus text exposition (0 when the series is absent). */
const sample = (text: string, name: string, labels: Record<string, string> = {}): number => {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(/,(?=[a-z_]+=")/).filter(Boolean);
    if (wanted.every((pair) => present.includes(pair)) && present.length === wanted.length) return Number(match[3]);
  }
  return 0;
};

const scrape = async (hub: TestHub, token = OPERATOR_TOKEN) => {
  const response = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return response.text();
};

/** A real pull_request payload with our own number and body. */
const pullRequest = (number: number, body: string) => {
  const payload = structuredClone(githubExample('pull_request', 'opened').payload) as any;
  payload.pull_request.number = number;
  payload.pull_request.body = body;
  payload.pull_request.updated_at = new Date(Date.UTC(2024, 2, 1, 10, number)).toISOString();
  return payload;
};

describe('GET /readyz', () => {
  let now = new Date('2024-06-01T12:00:00Z');
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ clock: () => now, env: { TRIBUTARY_READY_MAX_LAG_SECONDS: '60' } });
  });
  afterAll(() => hub.close());

  it('answers ready with its checks when the engine answers and nothing waits', async () => {
    const response = await fetch(`${hub.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: { engine: { ok: true, detail: 'answered' }, lag: { ok: true, seconds: 0, detail: expect.stringContaining('limit 60 s') } },
    });
  });

  it('fails the lag check while the oldest pending delivery is older than the limit, and recovers once it is processed', async () => {
    const connection = await hub.createConnection('github');
    await hub.hub.pipeline.processor.stop();
    try {
      expect((await postGithub(hub.url, connection, 'pull_request', pullRequest(1, 'lag'))).status).toBe(202);
      expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);

      now = new Date(now.getTime() + 120_000);
      const response = await fetch(`${hub.url}/readyz`);
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const problem = await response.json();
      expect(problem).toMatchObject({ type: expect.stringMatching(/not-ready$/), status: 503, failing: ['lag'] });
      expect(problem.detail).toMatch(/Failing: lag/);
      expect(problem.checks.engine.ok).toBe(true);
      expect(problem.checks.lag).toMatchObject({ ok: false, seconds: 120 });
    } finally {
      hub.hub.pipeline.processor.start();
    }
    await settled(hub);
    expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
  });

  it('fails the engine check when the table does not answer, without touching the lag', async () => {
    const app = createApp({
      db: createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('missing') }),
      connectors: createConnectorRegistry(),
      connections: new ConnectionCache(createDb({ endpoint: inject('dynamodbEndpoint'), table: uniqueTable('missing') })),
      clock: () => new Date(),
      log: silent,
      publicUrl: 'http://localhost',
      maxBodyBytes: 1024,
    });
    const response = await app.request('/readyz');
    expect(response.status).toBe(503);
    const problem = await response.json();
    expect(problem.failing).toEqual(['engine', 'lag']);
    expect(problem.checks.engine.detail).toMatch(/ResourceNotFound/);
    expect(problem.checks.lag.detail).toMatch(/not measured/);
  });

  it('keeps /healthz as liveness only', async () => {
    expect(await (await fetch(`${hub.url}/healthz`)).json()).toEqual({ status: 'ok' });
  });
});

describe('GET /metrics', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ env: { TRIBUTARY_METRICS_TOKEN: METRICS_TOKEN } });
  });
  afterAll(() => hub.close());

  it('needs the operator token or the metrics token, which reads nothing else', async () => {
    expect((await fetch(`${hub.url}/metrics`)).status).toBe(401);
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'scrape-denied' })).body as { adminToken: string };
    const denied = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${tenant.adminToken}` } });
    expect(denied.status).toBe(403);
    expect((await denied.json()).detail).toMatch(/operator token or TRIBUTARY_METRICS_TOKEN/);
    await scrape(hub, OPERATOR_TOKEN);
    await scrape(hub, METRICS_TOKEN);
    expect((await hub.api('GET', '/v1/items', undefined, METRICS_TOKEN)).status).toBe(401);
  });

  it("reports the process's memory beside the hub's figures", async () => {
    const text = await scrape(hub);
    const resident = sample(text, 'process_resident_memory_bytes');
    const heapUsed = sample(text, 'nodejs_heap_size_used_bytes');
    expect(heapUsed).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_total_bytes')).toBeGreaterThanOrEqual(heapUsed);
    expect(resident).toBeGreaterThan(heapUsed);
  });

  it('counts deliveries at the ack path and through the processor, events published, and request latency by route', async () => {
    const before = await scrape(hub);
    const connection = await hub.createConnection('github');
    const deliveryId = crypto.randomUUID();
    expect((await postGithub(hub.url, connection, 'pull_request', pullRequest(10, 'first'), { deliveryId })).status).toBe(202);
    expect((await postGithub(hub.url, connection, 'pull_request', pullRequest(10, 'first'), { deliveryId })).body.status).toBe('duplicate');
    expect((await postGithub(hub.url, connection, 'star', githubExample('star').payload)).status).toBe(202);
    // Signed and well formed, but the mapping needs the title: accepted, then failed by the processor.
    const untitled = pullRequest(13, 'no title');
    delete untitled.pull_request.title;
    expect((await postGithub(hub.url, connection, 'pull_request', untitled)).status).toBe(202);
    expect((await postGithub(hub.url, connection, 'pull_request', pullRequest(11, 'forged'), { secret: 'not-the-secret' })).status).toBe(401);
    expect((await postGithub(hub.url, { id: 'con_unknown', secret: 'x' }, 'pull_request', pullRequest(12, 'nowhere'))).status).toBe(404);
    await settled(hub);

    const after = await scrape(hub);
    const grew = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(grew('tributary_deliveries_received_total', { source: 'github' })).toBe(6);
    expect(grew('tributary_deliveries_accepted_total', { source: 'github' })).toBe(3);
    expect(grew('tributary_deliveries_duplicate_total', { source: 'github' })).toBe(1);
    expect(grew('tributary_deliveries_rejected_total', { source: 'github', reason: 'invalid-signature' })).toBe(1);
    expect(grew('tributary_deliveries_rejected_total', { source: 'github', reason: 'not-found' })).toBe(1);
    expect(grew('tributary_deliveries_completed_total', { source: 'github', outcome: 'processed' })).toBe(1);
    expect(grew('tributary_deliveries_completed_total', { source: 'github', outcome: 'ignored' })).toBe(1);
    expect(grew('tributary_deliveries_completed_total', { source: 'github', outcome: 'failed' })).toBe(1);
    // A failure that needs a fix, not a retry: no transient retries counted.
    expect(grew('tributary_delivery_retries_total', { source: 'github' })).toBe(0);
    expect(grew('tributary_events_published_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'tributary_processing_lag_seconds')).toBe(0);
    expect(sample(after, 'tributary_inbox_depth')).toBe(0);
    expect(sample(after, 'tributary_outbox_depth')).toBe(0);

    const hook = { method: 'POST', route: '/hooks/:source/:connectionId' };
    expect(grew('tributary_http_request_duration_seconds_count', { ...hook, status_class: '2xx' })).toBe(4);
    expect(grew('tributary_http_request_duration_seconds_count', { ...hook, status_class: '4xx' })).toBe(2);
    expect(sample(after, 'tributary_http_request_duration_seconds_bucket', { ...hook, status_class: '2xx', le: '+Inf' })).toBeGreaterThanOrEqual(4);
    // Route patterns, never raw paths: no connection id in any label.
    expect(after).not.toContain(connection.id);
  });

  it('reports open alerts by kind from the store, every kind listed', async () => {
    const tenant = (await hub.api('POST', '/v1/tenants', { name: 'alerting' })).body as { adminToken: string };
    const connection = await hub.createConnection('github', tenant.adminToken);
    expect(sample(await scrape(hub), 'tributary_alerts_open', { kind: 'dependency_cycle' })).toBe(0);
    await postGithub(hub.url, connection, 'pull_request', pullRequest(40, 'Blocked by #41.'));
    await postGithub(hub.url, connection, 'pull_request', pullRequest(41, 'Blocked by #40.'));
    await settled(hub);
    const text = await eventually(async () => {
      const scraped = await scrape(hub);
      return sample(scraped, 'tributary_alerts_open', { kind: 'dependency_cycle' }) === 1 ? scraped : undefined;
    }, { what: 'the cycle alert in /metrics' });
    // `unblocked` is a notice that opens resolved: listed, at 0.
    expect(text).toContain('tributary_alerts_open{kind="unblocked"} 0');
  });
});

describe('GET /metrics when the bus fails', () => {
  let hub: TestHub;
  const failing: EventPublisher = { publish: async (events) => ({ failedIds: events.map((e) => e.id) }) };
  beforeAll(async () => {
    hub = await startTestHub({ publisher: failing });
  });
  afterAll(() => hub.close());

  it('counts publish failures and shows the events waiting on the outbox', async () => {
    const connection = await hub.createConnection('github');
    expect((await postGithub(hub.url, connection, 'pull_request', pullRequest(20, 'stuck'))).status).toBe(202);
    const text = await eventually(async () => {
      const scraped = await scrape(hub);
      return sample(scraped, 'tributary_publish_failures_total') > 0 && sample(scraped, 'tributary_outbox_depth') >= 1 ? scraped : undefined;
    }, { what: 'publish failures and outbox depth' });
    expect(sample(text, 'tributary_events_published_total')).toBe(0);
  });
});
