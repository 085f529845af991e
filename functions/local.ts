import { ConfigError, loadConfig } from './config.ts';
import { startLocalHub } from './local-hub.ts';

/** `npm start`: the whole hub on this machine, with the embedded engine unless DYNAMODB_ENDPOINT is set. */
const main = async () => {
  const config = loadConfig();
  const hub = await startLocalHub({ config });
  const engine = config.DYNAMODB_ENDPOINT ? `DynamoDB at ${config.DYNAMODB_ENDPOINT}` : `embedded engine, data in ${config.TRIBUTARY_DATA_DIR}`;
  const token = config.TRIBUTARY_ADMIN_TOKEN
    ? 'Admin token: the value of TRIBUTARY_ADMIN_TOKEN'
    : hub.bootstrapToken
      ? `Admin token (shown once, store it now): ${hub.bootstrapToken}`
      : 'Admin token: printed on the first start. Lost it? Restart with TRIBUTARY_ADMIN_TOKEN=<16+ chars> to use your own.';
  process.stdout.write(
    [
      `Tributary is running at ${hub.publicUrl} (${engine})`,
      `  Dashboard      ${hub.publicUrl}/`,
      `  API reference  ${hub.publicUrl}/openapi.json`,
      `  Webhooks       POST ${hub.publicUrl}/hooks/{github|jira|email}/{connectionId}`,
      `  Events         ${hub.publicUrl}/v1/events/stream (SSE) and ${config.TRIBUTARY_DATA_DIR}/events.jsonl`,
      `  ${token}`,
      `  Connect GitHub: curl -X POST ${hub.publicUrl}/v1/connections -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"source":"github","name":"my org"}'`,
      '',
    ].join('\n'),
  );
  const shutdown = async (signal: string) => {
    process.stdout.write(`${signal}: stopping after the work in flight…\n`);
    await hub.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
