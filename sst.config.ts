/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Tributary on AWS: `npx sst deploy --stage <stage>` (docs/deploy-aws.md). Resources are split by
 * concern under infra/ and created in dependency order; production stages keep their data.
 */
export default $config({
  app(input) {
    // Same list as infra/definitions.ts PRODUCTION_STAGES: app() may not import modules.
    const production = ['prod', 'production'].includes(input.stage);
    return {
      name: 'tributary',
      home: 'aws',
      removal: production ? 'retain' : 'remove',
      protect: production,
    };
  },
  async run() {
    await import('./infra/secrets.ts');
    const { table } = await import('./infra/storage.ts');
    const { bus, alerts } = await import('./infra/bus.ts');
    const { api } = await import('./infra/api.ts');
    await import('./infra/jobs.ts');
    const { subscriptionEvents } = await import('./infra/subscriptions.ts');
    const { alarmTopic } = await import('./infra/monitoring.ts');
    return {
      api: api.url,
      table: table.name,
      bus: bus.name,
      alertsQueue: alerts.url,
      subscriptionEventsQueue: subscriptionEvents.url,
      alarmTopic: alarmTopic.arn,
    };
  },
});
