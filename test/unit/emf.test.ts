import { describe, expect, it } from 'vitest';
import { EMF_NAMESPACE, drainEmf, emfDimensionName, emfMetricName, toEmf } from '../../pipeline/emf.ts';
import { createHubMetrics } from '../../pipeline/hub-metrics.ts';

describe('CloudWatch embedded metric format', () => {
  it('puts the metadata under _aws.CloudWatchMetrics and the dimension and metric values at the root', () => {
    const record = toEmf({
      namespace: 'Tributary',
      dimensions: { Stage: 'prod', Source: 'github' },
      metrics: [
        { name: 'DeliveriesAccepted', unit: 'Count', value: 3 },
        { name: 'HttpRequestDurationSeconds', unit: 'Seconds', value: [0.01, 0.2] },
      ],
      timestamp: 1_700_000_000_000,
    });
    expect(record).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'Tributary',
            Dimensions: [['Stage', 'Source']],
            Metrics: [
              { Name: 'DeliveriesAccepted', Unit: 'Count' },
              { Name: 'HttpRequestDurationSeconds', Unit: 'Seconds' },
            ],
          },
        ],
      },
      Stage: 'prod',
      Source: 'github',
      DeliveriesAccepted: 3,
      HttpRequestDurationSeconds: [0.01, 0.2],
    });
    // One JSON line, as CloudWatch Logs reads it.
    expect(JSON.stringify(record)).not.toContain('\n');
  });

  it('names metrics and dimensions in CloudWatch style', () => {
    expect(emfMetricName('tributary_deliveries_received_total')).toBe('DeliveriesReceived');
    expect(emfMetricName('tributary_processing_lag_seconds')).toBe('ProcessingLagSeconds');
    expect(emfDimensionName('status_class')).toBe('StatusClass');
  });

  it('drains the hub figures into records grouped by dimension values: counter growth, observations, gauges', () => {
    const metrics = createHubMetrics();
    metrics.accepted.inc({ source: 'github' }, 2);
    metrics.duplicate.inc({ source: 'github' });
    metrics.accepted.inc({ source: 'jira' });
    metrics.httpDuration.observe({ method: 'POST', route: '/hooks/:source/:connectionId', status_class: '2xx' }, 0.03);
    metrics.lag.set({}, 4);

    const records = drainEmf(metrics.registry, { Stage: 'prod' }, 1000);
    const find = (dimensions: Record<string, string>) =>
      records.find((r) => JSON.stringify(r._aws.CloudWatchMetrics[0]!.Dimensions[0]) === JSON.stringify(Object.keys(dimensions)) && Object.entries(dimensions).every(([k, v]) => r[k] === v));

    const github = find({ Stage: 'prod', Source: 'github' });
    expect(github).toMatchObject({ DeliveriesAccepted: 2, DeliveriesDuplicate: 1 });
    expect(github!._aws.CloudWatchMetrics[0]!.Namespace).toBe(EMF_NAMESPACE);
    expect(github!._aws.CloudWatchMetrics[0]!.Metrics).toEqual([
      { Name: 'DeliveriesAccepted', Unit: 'Count' },
      { Name: 'DeliveriesDuplicate', Unit: 'Count' },
    ]);
    expect(find({ Stage: 'prod', Source: 'jira' })).toMatchObject({ DeliveriesAccepted: 1 });
    expect(find({ Stage: 'prod', Method: 'POST', Route: '/hooks/:source/:connectionId', StatusClass: '2xx' })).toMatchObject({ HttpRequestDurationSeconds: [0.03] });
    const lag = find({ Stage: 'prod' });
    expect(lag).toMatchObject({ ProcessingLagSeconds: 4 });
    expect(lag!._aws.CloudWatchMetrics[0]!.Metrics).toContainEqual({ Name: 'ProcessingLagSeconds', Unit: 'Seconds' });

    // The next flush carries only what happened since: counters and observations are not repeated.
    metrics.accepted.inc({ source: 'github' });
    const next = drainEmf(metrics.registry, { Stage: 'prod' }, 2000);
    expect(next.filter((r) => 'DeliveriesDuplicate' in r || 'HttpRequestDurationSeconds' in r)).toEqual([]);
    expect(next.find((r) => r.Source === 'github')).toMatchObject({ DeliveriesAccepted: 1 });
  });

  it('prints nothing when nothing happened and no gauge is set', () => {
    expect(drainEmf(createHubMetrics().registry, { Stage: 'prod' }, 0)).toEqual([]);
  });
});
