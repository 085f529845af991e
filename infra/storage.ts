import { isProductionStage, tableArgs } from './definitions.ts';

/**
 * The work index: one on-demand table with the key schema and indexes of store/table.ts, TTL on
 * `expiresAt` (deliveries and resolved alerts after their retention, core/retention.ts; oversize
 * events), point-in-time recovery, and a stream of new and
 * old images that drives the processor and the publisher (infra/jobs.ts).
 */
export const table = new sst.aws.Dynamo('Index', {
  ...tableArgs(),
  deletionProtection: isProductionStage($app.stage),
  transform: {
    table: (args) => {
      args.billingMode = 'PAY_PER_REQUEST';
      args.pointInTimeRecovery = { enabled: true };
    },
  },
});
