import type { RetentionPolicy } from '../core/retention.ts';
import type { Config } from './config.ts';

type RetentionKeys =
  | 'TRIBUTARY_RETENTION_DELIVERY_DAYS'
  | 'TRIBUTARY_RETENTION_IGNORED_DAYS'
  | 'TRIBUTARY_RETENTION_FAILED_DAYS'
  | 'TRIBUTARY_RETENTION_ALERT_DAYS'
  | 'TRIBUTARY_RETENTION_EVENT_DAYS';

/** The retention periods of the configuration, as the store applies them (local mode and Lambda alike). */
export const retentionPolicyOf = (config: Pick<Config, RetentionKeys>): RetentionPolicy => ({
  deliveryDays: config.TRIBUTARY_RETENTION_DELIVERY_DAYS,
  ignoredDays: config.TRIBUTARY_RETENTION_IGNORED_DAYS,
  failedDays: config.TRIBUTARY_RETENTION_FAILED_DAYS,
  resolvedAlertDays: config.TRIBUTARY_RETENTION_ALERT_DAYS,
  eventDays: config.TRIBUTARY_RETENTION_EVENT_DAYS,
});
