import { Counter, Gauge, Histogram, type MetricsRegistry } from './metrics.ts';

/**
 * CloudWatch embedded metric format (EMF): a JSON log line that CloudWatch Logs turns into metrics
 * without any API call (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * The Lambda functions print the hub's figures this way (functions/lambda/metrics.ts); alarms in
 * infra/monitoring.ts read them back by namespace, name and dimensions.
 */

/** Namespace of every Tributary metric in CloudWatch. */
export const EMF_NAMESPACE = 'Tributary';
/** Every record carries the SST stage as a dimension, so stages sharing an account stay apart. */
export const STAGE_DIMENSION = 'Stage';

export type EmfUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'None';

export interface EmfMetric {
  name: string;
  unit: EmfUnit;
  /** one value, or up to 100 for CloudWatch to aggregate (percentiles of latencies) */
  value: number | number[];
}

export interface EmfInput {
  namespace: string;
  /** dimension name → value; all of them form the record's one dimension set */
  dimensions: Record<string, string>;
  metrics: readonly EmfMetric[];
  /** milliseconds since the epoch */
  timestamp: number;
}

export interface EmfRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: EmfUnit }[] }[];
  };
  [member: string]: unknown;
}

/** One EMF record: the metadata under `_aws`, dimension values and metric values as root members. */
export const toEmf = (input: EmfInput): EmfRecord => ({
  _aws: {
    Timestamp: input.timestamp,
    CloudWatchMetrics: [
      {
        Namespace: input.namespace,
        Dimensions: [Object.keys(input.dimensions)],
        Metrics: input.metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
      },
    ],
  },
  ...input.dimensions,
  ...Object.fromEntries(input.metrics.map((m) => [m.name, m.value])),
});

const pascal = (snake: string): string =>
  snake
    .split('_')
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');

/** `tributary_processing_lag_seconds` → `ProcessingLagSeconds`; `…_total` loses its suffix (CloudWatch sums anyway). */
export const emfMetricName = (prometheusName: string): string => pascal(prometheusName.replace(/^tributary_/, '').replace(/_total$/, ''));

/** `status_class` → `StatusClass`. */
export const emfDimensionName = (label: string): string => pascal(label);

const unitOf = (name: string, type: 'counter' | 'gauge' | 'histogram'): EmfUnit =>
  name.endsWith('_seconds') ? 'Seconds' : type === 'counter' || name.endsWith('_depth') || name.endsWith('_open') ? 'Count' : 'None';

/**
 * The registry's figures since the previous call, as EMF records: what each counter grew by, the
 * raw observations of each histogram, the current value of each gauge. Series with the same label
 * values share a record. Nothing is returned when nothing happened.
 */
export const drainEmf = (registry: MetricsRegistry, base: Record<string, string>, timestamp: number): EmfRecord[] => {
  const groups = new Map<string, { dimensions: Record<string, string>; metrics: EmfMetric[] }>();
  const add = (labels: Record<string, string>, metric: EmfMetric) => {
    const dimensions = { ...base, ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [emfDimensionName(k), v])) };
    const key = JSON.stringify(Object.entries(dimensions));
    const group = groups.get(key) ?? { dimensions, metrics: [] };
    group.metrics.push(metric);
    groups.set(key, group);
  };
  for (const family of registry.families()) {
    const name = emfMetricName(family.name);
    const unit = unitOf(family.name, family.type);
    if (family instanceof Counter) for (const { labels, value } of family.drain()) add(labels, { name, unit, value });
    else if (family instanceof Histogram) for (const { labels, values } of family.drain()) add(labels, { name, unit, value: values });
    else if (family instanceof Gauge) for (const { labels, value } of family.values()) add(labels, { name, unit, value });
  }
  return [...groups.values()].map(({ dimensions, metrics }) => toEmf({ namespace: EMF_NAMESPACE, dimensions, metrics, timestamp }));
};
