import { FUNCTION_DEFAULTS, HANDLERS } from './definitions.ts';
import { adminToken } from './secrets.ts';
import { table } from './storage.ts';

/**
 * The API: the Hono app behind a Function URL. Webhooks get their 202 after one durable write;
 * GitHub waits 10 s for it, hence the timeout. The body limit (functions/aws-config.ts) keeps a
 * webhook inside Lambda's 6 MB invocation payload.
 */
export const api = new sst.aws.Function('Api', {
  handler: HANDLERS.api,
  ...FUNCTION_DEFAULTS,
  memory: '1024 MB',
  timeout: '10 seconds',
  url: { cors: false },
  link: [table, adminToken],
  environment: {
    TRIBUTARY_LOG_LEVEL: 'info',
    // A custom domain in front of the Function URL: the webhook URLs the API hands out use it.
    ...(process.env.TRIBUTARY_PUBLIC_URL ? { TRIBUTARY_PUBLIC_URL: process.env.TRIBUTARY_PUBLIC_URL } : {}),
  },
});
