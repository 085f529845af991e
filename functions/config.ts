import * as z from 'zod';

/** The local mode's environment; `functions/aws-config.ts` reuses its keys in Lambda. */
export const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  /** where the embedded engine keeps its data and the local bus its event log */
  TRIBUTARY_DATA_DIR: z.string().min(1).default('./.data'),
  /** any DynamoDB endpoint (DynamoDB Local, AWS) instead of the embedded engine */
  DYNAMODB_ENDPOINT: z.url().optional(),
  TRIBUTARY_TABLE: z.string().min(3).max(255).default('tributary'),
  /** operator token: admin of tenant `default`, and the only token that may create tenants */
  TRIBUTARY_ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  /** base URL printed in webhook URLs; defaults to http://localhost:PORT */
  TRIBUTARY_PUBLIC_URL: z.url().optional(),
  /** webhook body limit; 6 MB is Lambda's synchronous payload cap */
  TRIBUTARY_MAX_BODY_BYTES: z.coerce.number().int().positive().default(6 * 1024 * 1024),
  /** how often the local mode runs the alert sweep (time-based alerts, repair); 0 turns it off */
  TRIBUTARY_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  TRIBUTARY_LOG_LEVEL: z.enum(['info', 'warn', 'error', 'silent']).default('info'),
  /** retention (core/retention.ts): processed deliveries, raw bodies included (the replay window) */
  TRIBUTARY_RETENTION_DELIVERY_DAYS: z.coerce.number().positive().max(3650).default(30),
  /** deliveries recorded as ignored (events the hub does not index) */
  TRIBUTARY_RETENTION_IGNORED_DAYS: z.coerce.number().positive().max(3650).default(7),
  /** failed deliveries, kept to be fixed and retried */
  TRIBUTARY_RETENTION_FAILED_DAYS: z.coerce.number().positive().max(3650).default(90),
  /** resolved alerts */
  TRIBUTARY_RETENTION_ALERT_DAYS: z.coerce.number().positive().max(3650).default(90),
  /** the event log: how far back a stream resumes, a subscription replays and an item's timeline reaches */
  TRIBUTARY_RETENTION_EVENT_DAYS: z.coerce.number().positive().max(3650).default(30),
  /** how often the local mode deletes expired rows (the embedded engine has no TTL); 0 turns it off */
  TRIBUTARY_RETENTION_SWEEP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** GET /readyz fails when the oldest delivery waiting for the processor is older than this */
  TRIBUTARY_READY_MAX_LAG_SECONDS: z.coerce.number().positive().max(86_400).default(60),
  /** `true`: meter the write units of every write by DynamoDB's rules (`tributary_storage_write_units_total`); a diagnostic for the bench, it doubles each write's round trips */
  TRIBUTARY_METER_WRITE_UNITS: z.stringbool().default(false),
  /** a token that reads GET /metrics and nothing else (a Prometheus scraper's); the operator token works too */
  TRIBUTARY_METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  /**
   * webhook subscriptions may target http and loopback, private and unique-local addresses (local
   * development, tests); cloud metadata and link-local addresses stay refused even then
   */
  TRIBUTARY_ALLOW_PRIVATE_TARGETS: z.stringbool().default(false),
});

export type Config = z.infer<typeof Env>;

export class ConfigError extends Error {
  constructor(issues: z.core.$ZodIssue[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment once, failing with every bad key listed. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const result = Env.safeParse(env);
  if (!result.success) throw new ConfigError(result.error.issues);
  return result.data;
};
