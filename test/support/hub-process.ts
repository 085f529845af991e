import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { LOCAL_HUB_NODE_FLAGS, buildLocalHub } from '../../scripts/build-local.ts';

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * `npm start`'s bundle: the one the test run built (test/setup/local-hub-bundle.ts), or, outside
 * the tests (the bench), built where `npm start` builds it, once per process.
 */
let built: Promise<string> | undefined;
const localHubBundle = (): Promise<string> => {
  const fromSetup = process.env.TRIBUTARY_TEST_HUB_BUNDLE;
  if (fromSetup) return Promise.resolve(fromSetup);
  built ??= buildLocalHub();
  return built;
};

/**
 * The hub as users run it (`npm start`: the bundle of `functions/local.ts`, with its V8
 * settings), as a child process that a test can SIGKILL. Node is started directly: killing
 * `npm start` would kill npm, not necessarily its node child.
 */
export const startHubProcess = async (env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: () => string }> => {
  const port = await freePort();
  const child = spawn(process.execPath, [...LOCAL_HUB_NODE_FLAGS, await localHubBundle()], {
    env: { ...process.env, ...env, PORT: String(port), TRIBUTARY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the hub did not start:\n${output}`)), 30_000);
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (line.startsWith('Tributary is running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the hub exited with ${code}:\n${output}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, output: () => output };
};

export const killHard = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
