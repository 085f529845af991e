import { join } from 'node:path';
import { type Db, createDb, ensureTable } from '../store/db.ts';
import { startEmbeddedEngine } from '../store/embedded-engine.ts';
import { rebuildIndex } from '../store/rebuild.ts';
import { copyTable } from '../store/table-copy.ts';
import { ConfigError, loadConfig } from './config.ts';
import { parseSince, runBackfillCommand } from './cli-backfill.ts';
import { runReplayCommand } from './cli-replay.ts';

const USAGE = `Usage: npm run tributary -- <command>

Commands:
  rebuild --to <table>   copy tenants, tokens, connections and every stored delivery from
                         TRIBUTARY_TABLE into a new table, queued for processing; then start the
                         hub with TRIBUTARY_TABLE=<table> to re-derive the whole index
                         (after a schema version change). Stop the hub first.
  copy --to <table>      copy every record of TRIBUTARY_TABLE, as it is, into a new table with
                         today's indexes (after an upgrade that narrows what an index holds: the
                         hub says so when it starts); then start the hub with
                         TRIBUTARY_TABLE=<table>. Stop the hub first; resumes where it stopped.
  backfill <connectionId> [--since <date | 30d>] [--hub <url>] [--token <token>]
                         read the existing work of a connection with read credentials into the
                         index, on a running hub (default http://localhost:PORT; token from
                         --token or TRIBUTARY_ADMIN_TOKEN), with a progress line until it is done.
                         Running it again joins the job in progress. See docs/backfill.md.
  replay [--connection <id>] [--since <date | 30d>] [--until <date>] [--hub <url>] [--token <token>]
                         run stored deliveries again through the current normalizers and mapping
                         rules (after PATCH /v1/connections/{id}), on a running hub, with a progress
                         line on stderr. Only real changes publish events. See docs/operations.md.
`;

const argument = (args: string[], name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

const backfill = async (args: string[]) => {
  const connectionId = args.find((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!connectionId) throw new Error(`backfill needs a connection id\n\n${USAGE}`);
  const config = loadConfig();
  const token = argument(args, '--token') ?? config.TRIBUTARY_ADMIN_TOKEN;
  if (!token) throw new Error('backfill needs an admin token: --token <token> or TRIBUTARY_ADMIN_TOKEN');
  const since = argument(args, '--since');
  const job = await runBackfillCommand({
    hubUrl: (argument(args, '--hub') ?? `http://localhost:${config.PORT}`).replace(/\/+$/, ''),
    token,
    connectionId,
    ...(since ? { since: parseSince(since) } : {}),
  });
  if (job.status !== 'done') process.exitCode = 1;
};

const replay = async (args: string[]) => {
  const config = loadConfig();
  const token = argument(args, '--token') ?? config.TRIBUTARY_ADMIN_TOKEN;
  if (!token) throw new Error('replay needs an admin token: --token <token> or TRIBUTARY_ADMIN_TOKEN');
  const [connectionId, since, until] = [argument(args, '--connection'), argument(args, '--since'), argument(args, '--until')];
  const job = await runReplayCommand({
    hubUrl: (argument(args, '--hub') ?? `http://localhost:${config.PORT}`).replace(/\/+$/, ''),
    token,
    ...(connectionId ? { connectionId } : {}),
    ...(since ? { since: parseSince(since) } : {}),
    ...(until ? { until: parseSince(until) } : {}),
  });
  if (job.status !== 'done') process.exitCode = 1;
};

/**
 * Runs `work` on the table of `npm start` (TRIBUTARY_TABLE, in the embedded engine unless
 * DYNAMODB_ENDPOINT names another) and the table `--to` names, created with today's indexes.
 */
const betweenTables = async (command: string, args: string[], work: (source: Db, target: Db, to: string) => Promise<void>) => {
  const to = argument(args, '--to');
  if (!to) throw new Error(`${command} needs --to <table>\n\n${USAGE}`);
  const config = loadConfig();
  const engine = config.DYNAMODB_ENDPOINT ? undefined : await startEmbeddedEngine({ path: join(config.TRIBUTARY_DATA_DIR, 'engine') });
  const endpoint = config.DYNAMODB_ENDPOINT ?? engine!.endpoint;
  const target: Db = createDb({ endpoint, table: to });
  await ensureTable(target);
  try {
    await work(createDb({ endpoint, table: config.TRIBUTARY_TABLE }), target, to);
  } finally {
    await engine?.close();
  }
};

const rate = (count: number, started: number) => Math.round(count / Math.max((Date.now() - started) / 1000, 0.001));

const rebuild = (args: string[]) =>
  betweenTables('rebuild', args, async (source, target, to) => {
    const started = Date.now();
    const result = await rebuildIndex(source, target, (p) => {
      process.stdout.write(`\rscanned ${p.scanned} records · ${p.deliveries} deliveries queued · ${rate(p.scanned, started)} records/s   `);
    });
    process.stdout.write(
      `\nDone: ${result.deliveries} deliveries and ${result.copied - result.deliveries} configuration records copied to ${to}; ${result.skipped} derived records left behind.\n` +
        `Start the hub with TRIBUTARY_TABLE=${to} to rebuild the index.\n`,
    );
  });

const copy = (args: string[]) =>
  betweenTables('copy', args, async (source, target, to) => {
    const started = Date.now();
    const result = await copyTable(source, target, {
      onProgress: (p) => process.stdout.write(`\rcopied ${p.copied} records · ${rate(p.copied, started)} records/s   `),
    });
    process.stdout.write(
      `${result.copied > 0 ? '\n' : ''}Done: every record of ${source.table} is in ${to}` +
        `${result.copied > 0 ? ` (${result.copied} copied by this run)` : ' (copied before)'}.\n` +
        `Start the hub with TRIBUTARY_TABLE=${to}; ${source.table} can be deleted once it runs.\n`,
    );
  });

/** Operator commands: `rebuild` and `copy` run against the same storage as `npm start`; `backfill` and `replay` ask a running hub. */
const COMMANDS: Record<string, (args: string[]) => Promise<void>> = { rebuild, copy, backfill, replay };

const main = async (args: string[]) => {
  const [command] = args;
  const run = command ? COMMANDS[command] : undefined;
  if (!run) {
    process.stdout.write(USAGE);
    process.exit(command === undefined || command === 'help' ? 0 : 2);
  }
  await run(args.slice(1));
};

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
