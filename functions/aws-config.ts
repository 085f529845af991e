import * as z from 'zod';
import { ConfigError, Env } from './config.ts';

/**
 * Configuration of the Lambda functions, decided in one place: inside an SST deployment the values
 * come from the resources linked to the function (`Resource` from `sst`); anywhere else (tests, a
 * function run by hand) from the same environment keys as the local mode. Either way the result is
 * validated with zod once, at cold start, naming every bad key.
 */

/** Lambda's synchronous invocation payload cap, request and response alike. */
export const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Room left in the invocation payload for what wraps the body: headers, request context, JSON escaping. */
const EVENT_OVERHEAD_BYTES = 64 * 1024;
/**
 * The webhook body limit behind Lambda: a body this size still fits the 6 MB invocation payload.
 * Bodies Function URLs base64-encode (non-text content types) grow by a third, and Lambda itself
 * answers 413 for those above ~4.4 MB before the function runs.
 */
export const LAMBDA_MAX_BODY_BYTES = LAMBDA_PAYLOAD_BYTES - EVENT_OVERHEAD_BYTES;

/** Names of the SST resources linked to the functions (`infra/*.ts` creates them under these names). */
export const LINKED = { table: 'Index', bus: 'Events', adminToken: 'AdminToken' } as const;

const LambdaEnv = Env.pick({
  DYNAMODB_ENDPOINT: true,
  TRIBUTARY_ADMIN_TOKEN: true,
  TRIBUTARY_PUBLIC_URL: true,
  TRIBUTARY_LOG_LEVEL: true,
  TRIBUTARY_RETENTION_DELIVERY_DAYS: true,
  TRIBUTARY_RETENTION_IGNORED_DAYS: true,
  TRIBUTARY_RETENTION_FAILED_DAYS: true,
  TRIBUTARY_RETENTION_ALERT_DAYS: true,
  TRIBUTARY_RETENTION_EVENT_DAYS: true,
  TRIBUTARY_READY_MAX_LAG_SECONDS: true,
  TRIBUTARY_METRICS_TOKEN: true,
  TRIBUTARY_ALLOW_PRIVATE_TARGETS: true,
}).extend({
  TRIBUTARY_TABLE: z.string().min(3).max(255),
  /** required by the functions that publish (publisher, sweep) */
  TRIBUTARY_BUS_NAME: z.string().min(1).max(1600).optional(),
  /** any EventBridge-compatible endpoint instead of AWS's (tests) */
  EVENTBRIDGE_ENDPOINT: z.url().optional(),
  TRIBUTARY_MAX_BODY_BYTES: z.coerce.number().int().positive().max(LAMBDA_MAX_BODY_BYTES).default(LAMBDA_MAX_BODY_BYTES),
});

export type LambdaConfig = z.infer<typeof LambdaEnv>;

/** The shapes SST gives linked resources (`sst.aws.Dynamo` and `sst.aws.Bus` expose `name`, `sst.Secret` its `value`). */
const Links = z.object({
  [LINKED.table]: z.object({ name: z.string() }),
  [LINKED.bus]: z.object({ name: z.string() }).optional(),
  [LINKED.adminToken]: z.object({ value: z.string() }).optional(),
});

/** Whether `resource` holds SST links: SST always links the `App` resource to a linked function. */
export const hasSstLinks = (resource: object): boolean => 'App' in resource;

/**
 * Reads the configuration: from SST links when `resource` holds them, else from `env`.
 * `resource` is `Resource` from `sst` in the handlers; tests pass a plain object.
 */
export const loadLambdaConfig = (env: NodeJS.ProcessEnv = process.env, resource: object = {}): LambdaConfig => {
  let source: Record<string, string | undefined> = env;
  if (hasSstLinks(resource)) {
    const links = Links.safeParse(Object.fromEntries(Object.values(LINKED).filter((k) => k in resource).map((k) => [k, (resource as Record<string, unknown>)[k]])));
    if (!links.success) throw new ConfigError(links.error.issues);
    source = {
      ...env,
      TRIBUTARY_TABLE: links.data[LINKED.table].name,
      TRIBUTARY_BUS_NAME: links.data[LINKED.bus]?.name,
      TRIBUTARY_ADMIN_TOKEN: links.data[LINKED.adminToken]?.value,
    };
  }
  const result = LambdaEnv.safeParse(source);
  if (!result.success) throw new ConfigError(result.error.issues);
  return result.data;
};

/** The bus name, for the functions that publish; fails like a bad key when it is not configured. */
export const requireBusName = (config: LambdaConfig): string => {
  if (config.TRIBUTARY_BUS_NAME) return config.TRIBUTARY_BUS_NAME;
  throw new ConfigError([
    { code: 'custom', path: ['TRIBUTARY_BUS_NAME'], message: `required to publish events: link the \`${LINKED.bus}\` bus or set it`, input: undefined },
  ]);
};
