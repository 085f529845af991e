import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { OPERATOR_TOKEN } from '../test/support/hub.ts';
import { killHard, startHubProcess } from '../test/support/hub-process.ts';

const dataDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** A data directory for one engine or hub of this run, removed when the run exits (100k items take about half a GB). */
export const benchDataDir = (name: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `tributary-bench-${name}-`));
  dataDirs.add(dir);
  return dir;
};

/** Starts a helper process that prints one JSON line when ready and stops when its stdin closes. */
export const startJsonLineProcess = async <T>(script: string, args: string[] = []): Promise<{ child: ChildProcess; info: T }> => {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  if (first.done) throw new Error(`${script} exited before it was ready`);
  return { child, info: JSON.parse(first.value as string) as T };
};

export const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

export interface BenchHubOptions {
  /** more environment for the hub (e.g. TRIBUTARY_METER_WRITE_UNITS) */
  env?: Record<string, string>;
  /** the connection to create, as `POST /v1/connections` takes it (default: a GitHub connection named bench) */
  connection?: Record<string, unknown>;
}

/** Creates a connection on a running hub with the operator token. */
export const createBenchConnection = async (hubUrl: string, body: Record<string, unknown>) => {
  const created = await fetch(`${hubUrl}/v1/connections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (created.status !== 201) throw new Error(`creating a connection answered ${created.status}: ${await created.text()}`);
  return (await created.json()) as { id: string; secret: string };
};

/** A fresh hub as users run it, on its own data directory, with a connection ready (GitHub by default). */
export const startBenchHub = async (name: string, options: BenchHubOptions = {}) => {
  const hub = await startHubProcess({
    TRIBUTARY_DATA_DIR: benchDataDir(name),
    TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN,
    ...options.env,
  });
  let connection;
  try {
    connection = await createBenchConnection(hub.url, options.connection ?? { source: 'github', name: 'bench' });
  } catch (error) {
    await killHard(hub.child);
    throw error;
  }
  return { ...hub, connection, hookUrl: `${hub.url}/hooks/github/${connection.id}` };
};
