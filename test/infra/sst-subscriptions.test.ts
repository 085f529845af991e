import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT_SOURCE } from '../../core/events.ts';
import { ATTEMPT_TIMEOUT_MS, RETRY_DELAYS_MS } from '../../core/subscriptions.ts';
import { LINKED } from '../../functions/aws-config.ts';
import { SENDS_PER_SUBSCRIPTION } from '../../bus/webhook-dispatcher.ts';
import { SQS_REACH_MS } from '../../functions/lambda/dispatcher.ts';
import { DISPATCHER_CONCURRENCY } from '../../infra/definitions.ts';
import { applyTransform, createFakeSst } from '../support/fake-sst.ts';

const ROOT = join(import.meta.dirname, '../..');
// Imported by URL so the root tsconfig does not type-check it without SST's globals (infra/tsconfig.json does).
const CONFIG = pathToFileURL(join(ROOT, 'sst.config.ts')).href;

let current: ReturnType<typeof createFakeSst> | undefined;

const synth = async (stage: string) => {
  vi.resetModules();
  current = createFakeSst(stage);
  current.install();
  const config = (await import(/* @vite-ignore */ CONFIG)).default as { run(): Promise<Record<string, unknown>> };
  const outputs = await config.run();
  return { sst: current, outputs };
};

afterEach(() => current?.uninstall());

/** `"5 minutes"`, `"2 minutes"`, `"1 second"` → milliseconds. */
const durationMs = (value: string): number => {
  const [amount, unit] = value.split(' ') as [string, string];
  const scale = unit.startsWith('second') ? 1000 : unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : Number.NaN;
  return Number(amount) * scale;
};

describe('webhook subscriptions on AWS (infra/subscriptions.ts, synthesized against stand-ins of SST)', () => {
  it('routes every hub event from the bus to the SubscriptionEvents queue, with the bus dead-letter queue behind the rule', async () => {
    const { sst, outputs } = await synth('ci');
    const rule = sst.subscription('SubscriptionEventsRule');
    expect(rule).toMatchObject({ on: sst.one('sst.aws.Bus', LINKED.bus), method: 'subscribeQueue' });
    expect(rule.subscriber.recorded).toBe(sst.one('sst.aws.Queue', 'SubscriptionEvents'));
    expect(rule.args.pattern).toEqual({ source: [EVENT_SOURCE] });
    expect(applyTransform(rule.args.transform.target)).toMatchObject({ deadLetterConfig: { arn: 'EventsDeadLetter.arn' } });
    expect(outputs.subscriptionEventsQueue).toBe('SubscriptionEvents.url');
  });

  it('runs the dispatcher on the queue with partial batch responses, on nodejs22.x arm64, linked to the table only', async () => {
    const { sst } = await synth('ci');
    const subscription = sst.subscription('SubscriptionEventsSubscriber');
    expect(subscription.on).toBe(sst.one('sst.aws.Queue', 'SubscriptionEvents'));
    const fn = subscription.subscriber;
    expect(fn).toMatchObject({ runtime: 'nodejs22.x', architecture: 'arm64', nodejs: { install: ['jira.js'] } });
    const [file, exported] = String(fn.handler).split('.') as [string, string];
    expect(existsSync(join(ROOT, `${file}.ts`))).toBe(true);
    expect(typeof (await import(/* @vite-ignore */ pathToFileURL(join(ROOT, `${file}.ts`)).href))[exported]).toBe('function');
    expect(fn.link.map((l: { recorded: unknown }) => l.recorded)).toEqual([sst.one('sst.aws.Dynamo', LINKED.table)]);
    expect(fn.environment.TRIBUTARY_PUBLIC_URL).toBe('Api.url');
    expect(subscription.args.batch).toMatchObject({ partialResponses: true });
    expect(subscription.args.batch.size).toBeLessThanOrEqual(10);
    // A function run can hold a send (15 s), the in-invocation retry (5 s) and another send.
    expect(durationMs(fn.timeout)).toBeGreaterThanOrEqual(2 * ATTEMPT_TIMEOUT_MS + RETRY_DELAYS_MS[0]!);
  });

  it('bounds the dispatcher’s invocations at once on its event source mapping (maximum concurrency), leaving room beside hanging receivers', async () => {
    const { sst } = await synth('ci');
    const mapping = applyTransform(sst.subscription('SubscriptionEventsSubscriber').args.transform?.eventSourceMapping);
    const maximum = mapping.scalingConfig?.maximumConcurrency;
    expect(maximum).toBe(DISPATCHER_CONCURRENCY);
    // Lambda takes 2 to 1,000; an account's default concurrency (1,000) is shared with ingest.
    expect(maximum).toBeGreaterThanOrEqual(2);
    expect(maximum).toBeLessThanOrEqual(100);
    // Each hanging receiver holds at most SENDS_PER_SUBSCRIPTION sends (one once it fails): many of them still leave invocations free.
    expect(maximum).toBeGreaterThanOrEqual(10 * SENDS_PER_SUBSCRIPTION);
  });

  it('hands a message back after the visibility timeout for the 5-minute retry, within SQS’s 15 minutes, and parks it after 5 receives', async () => {
    const { sst } = await synth('ci');
    const queue = sst.one('sst.aws.Queue', 'SubscriptionEvents').args;
    const fn = sst.subscription('SubscriptionEventsSubscriber').subscriber;
    const visibility = durationMs(queue.visibilityTimeout);
    // Lambda requires the visibility timeout to cover the function's timeout.
    expect(visibility).toBeGreaterThanOrEqual(durationMs(fn.timeout));
    expect(visibility).toBe(RETRY_DELAYS_MS[1]);
    expect(visibility).toBeLessThanOrEqual(SQS_REACH_MS);
    expect(queue.dlq).toEqual({ queue: 'SubscriptionEventsDeadLetter.arn', retry: 5 });
    expect(applyTransform(sst.one('sst.aws.Queue', 'SubscriptionEventsDeadLetter').args.transform.queue)).toEqual({ messageRetentionSeconds: 14 * 86_400 });
  });

  it('sends the later retries from the sweep, which links the dashboard, and alarms on the dead-letter queue', async () => {
    const { sst } = await synth('prod');
    expect(sst.one('sst.aws.Cron', 'Sweep').args.function.environment.TRIBUTARY_PUBLIC_URL).toBe('Api.url');
    expect(sst.one('aws.cloudwatch.MetricAlarm', 'SubscriptionEventsDeadLetterAlarm').args).toMatchObject({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: 'SubscriptionEventsDeadLetter.queueName' },
      alarmActions: ['Alarms.arn'],
    });
  });
});
