import { describe, expect, it } from 'vitest';
import { MetricsRegistry, formatValue } from '../../pipeline/metrics.ts';
import { createHubMetrics, renderProcessMetrics, sourceOfDeliveryKey } from '../../pipeline/hub-metrics.ts';
import { keys } from '../../store/keys.ts';

/** The sample lines of a rendering (no HELP/TYPE comments). */
const samples = (text: string) => text.split('\n').filter((line) => line && !line.startsWith('#'));

describe('Prometheus text exposition format', () => {
  it('writes HELP and TYPE once per family, then one line per series with its labels', () => {
    const registry = new MetricsRegistry();
    const received = registry.counter('tributary_deliveries_received_total', 'Deliveries received', ['source']);
    received.inc({ source: 'github' });
    received.inc({ source: 'github' }, 2);
    received.inc({ source: 'jira' });
    registry.gauge('tributary_processing_lag_seconds', 'Lag').set({}, 1.5);

    expect(registry.render()).toBe(
      [
        '# HELP tributary_deliveries_received_total Deliveries received',
        '# TYPE tributary_deliveries_received_total counter',
        'tributary_deliveries_received_total{source="github"} 3',
        'tributary_deliveries_received_total{source="jira"} 1',
        '# HELP tributary_processing_lag_seconds Lag',
        '# TYPE tributary_processing_lag_seconds gauge',
        'tributary_processing_lag_seconds 1.5',
        '',
      ].join('\n'),
    );
  });

  it('renders a histogram as cumulative buckets up to +Inf, then _sum and _count', () => {
    const registry = new MetricsRegistry();
    const latency = registry.histogram('http_seconds', 'Latency', ['route'], [0.1, 1]);
    for (const value of [0.05, 0.5, 0.5, 3]) latency.observe({ route: '/v1/items' }, value);

    expect(samples(registry.render())).toEqual([
      'http_seconds_bucket{route="/v1/items",le="0.1"} 1',
      'http_seconds_bucket{route="/v1/items",le="1"} 3',
      'http_seconds_bucket{route="/v1/items",le="+Inf"} 4',
      'http_seconds_sum{route="/v1/items"} 4.05',
      'http_seconds_count{route="/v1/items"} 4',
    ]);
    expect(registry.render()).toContain('# TYPE http_seconds histogram');
  });

  it('escapes backslashes, quotes and line feeds in label values, and backslashes and line feeds in HELP', () => {
    const registry = new MetricsRegistry();
    registry.counter('odd_total', 'a \\ help\nover two lines', ['reason']).inc({ reason: 'say "hi"\\\nnow' });
    const text = registry.render();
    expect(text).toContain('# HELP odd_total a \\\\ help\\nover two lines\n');
    expect(samples(text)).toEqual(['odd_total{reason="say \\"hi\\"\\\\\\nnow"} 1']);
  });

  it('writes special values as the format spells them', () => {
    expect([formatValue(Infinity), formatValue(-Infinity), formatValue(Number.NaN), formatValue(0.25), formatValue(7)]).toEqual(['+Inf', '-Inf', 'NaN', '0.25', '7']);
  });

  it('keeps only the declared labels, so extra fields never become series', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('c_total', 'c', ['source']);
    counter.inc({ source: 'github', deliveryId: 'd-1' } as unknown as { source: string });
    counter.inc({ source: 'github', deliveryId: 'd-2' } as unknown as { source: string });
    expect(samples(registry.render())).toEqual(['c_total{source="github"} 2']);
  });

  it('refuses what would make an invalid exposition: bad names, twice the same family, a decreasing counter', () => {
    const registry = new MetricsRegistry();
    expect(() => registry.counter('bad-name', 'x')).toThrow(/Invalid metric name/);
    registry.counter('twice_total', 'x');
    expect(() => registry.gauge('twice_total', 'x')).toThrow(/registered twice/);
    expect(() => registry.counter('down_total', 'x').inc({}, -1)).toThrow(/cannot decrease/);
  });

  it('drains counters as what they grew by since the previous drain, and histograms as their raw observations', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('c_total', 'c', ['source']);
    const histogram = registry.histogram('h_seconds', 'h');
    counter.inc({ source: 'github' }, 2);
    histogram.observe({}, 0.2);
    expect(counter.drain()).toEqual([{ labels: { source: 'github' }, value: 2 }]);
    expect(histogram.drain()).toEqual([{ labels: {}, values: [0.2] }]);
    expect(counter.drain()).toEqual([]);
    counter.inc({ source: 'github' });
    expect(counter.drain()).toEqual([{ labels: { source: 'github' }, value: 1 }]);
    // Draining for EMF leaves the Prometheus totals alone.
    expect(samples(registry.render())).toContain('c_total{source="github"} 3');
    expect(samples(registry.render())).toContain('h_seconds_count 1');
  });
});

describe('the hub metrics', () => {
  it('declares every family the operations guide lists, each rendered with HELP and TYPE', () => {
    const text = createHubMetrics().registry.render();
    for (const name of [
      'tributary_deliveries_received_total counter',
      'tributary_deliveries_accepted_total counter',
      'tributary_deliveries_duplicate_total counter',
      'tributary_deliveries_rejected_total counter',
      'tributary_deliveries_completed_total counter',
      'tributary_delivery_retries_total counter',
      'tributary_events_published_total counter',
      'tributary_publish_failures_total counter',
      'tributary_processing_lag_seconds gauge',
      'tributary_inbox_depth gauge',
      'tributary_outbox_depth gauge',
      'tributary_alerts_open gauge',
      'tributary_http_request_duration_seconds histogram',
    ]) {
      expect(text).toContain(`# TYPE ${name}\n`);
    }
  });

  it('reads the source of a delivery from its record key', () => {
    expect(sourceOfDeliveryKey(keys.delivery('ten_1', 'jira', 'abc#def').pk)).toBe('jira');
    expect(sourceOfDeliveryKey(keys.delivery('default', 'github', 'x').pk)).toBe('github');
    expect(sourceOfDeliveryKey('T#default#ITEM#wi_1')).toBe('unknown');
  });

  it("renders the process's memory in the names Prometheus's client libraries use", () => {
    const usage = { rss: 300 * 2 ** 20, heapTotal: 90 * 2 ** 20, heapUsed: 40 * 2 ** 20, external: 5 * 2 ** 20, arrayBuffers: 2 ** 20 };
    const text = renderProcessMetrics(usage);
    expect(samples(text)).toEqual([
      'process_resident_memory_bytes 314572800',
      'nodejs_heap_size_total_bytes 94371840',
      'nodejs_heap_size_used_bytes 41943040',
      'nodejs_external_memory_bytes 5242880',
    ]);
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
  });
});
