import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { OPERATOR_TOKEN } from '../test/support/hub.ts';
import { startHubProcess } from '../test/support/hub-process.ts';

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

/** A fresh hub as users run it, on its own data directory, with a GitHub connection ready. */
export const startBenchHub = async (name: string) => {
  const hub = await startHubProcess({ TRIBUTARY_DATA_DIR: mkdtempSync(join(tmpdir(), `tributary-bench-${name}-`)), TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN });
  const created = await fetch(`${hub.url}/v1/connections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ source: 'github', name: 'bench' }),
  });
  const connection = (await created.json()) as { id: string; secret: string };
  return { ...hub, connection, hookUrl: `${hub.url}/hooks/github/${connection.id}` };
};
