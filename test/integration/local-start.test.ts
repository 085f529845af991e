import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { LOCAL_HUB_NODE_FLAGS } from '../../scripts/build-local.ts';
import { killHard, startHubProcess } from '../support/hub-process.ts';

describe('npm start on a fresh data directory', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child);
  });

  it('prints the URLs and an admin token once, and the token works after a restart', async () => {
    const env = { TRIBUTARY_DATA_DIR: mkdtempSync(join(tmpdir(), 'tributary-start-')) };
    const first = await startHubProcess(env);
    children.push(first.child);
    const output = first.output();
    expect(output).toContain('/openapi.json');
    expect(output).toMatch(/POST http:\/\/localhost:\d+\/hooks\/\{github\|jira\|email\}\/\{connectionId\}/);
    const token = output.match(/Admin token \(shown once, store it now\): (\S+)/)?.[1];
    expect(token).toBeDefined();
    await killHard(first.child);

    const second = await startHubProcess(env);
    children.push(second.child);
    expect(second.output()).not.toContain(token!);
    const response = await fetch(`${second.url}/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'github', name: 'after restart' }),
    });
    expect(response.status).toBe(201);
  }, 60_000);

  it('keeps idle connections open longer than the proxies in front of it', async () => {
    const hub = await startHubProcess({ TRIBUTARY_DATA_DIR: mkdtempSync(join(tmpdir(), 'tributary-keepalive-')) });
    children.push(hub.child);
    // A server closing an idle connection first races the request a proxy just sent on it.
    expect((await fetch(`${hub.url}/healthz`)).headers.get('keep-alive')).toBe('timeout=65');
  }, 60_000);

  it('runs from npm start\'s bundle, with its engine on a worker thread of the same process: no second process to outlive it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-bundle-'));
    const hub = await startHubProcess({ TRIBUTARY_DATA_DIR: dir });
    children.push(hub.child);
    expect(hub.child.spawnargs.at(-1)).toMatch(/hub\.mjs$/);
    expect(() => execFileSync('ps', ['-o', 'pid=', '--ppid', String(hub.child.pid)])).toThrow();
    // The engine holds the data directory's LevelDB lock, and a killed hub releases it with its engine.
    await killHard(hub.child);
    const next = await startHubProcess({ TRIBUTARY_DATA_DIR: dir });
    children.push(next.child);
    expect((await fetch(`${next.url}/readyz`)).status).toBe(200);
  }, 60_000);

  it("is npm start's command: its bundle, with the V8 settings that keep its memory small", () => {
    const { scripts } = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { scripts: Record<string, string> };
    // The tests and the bench start the hub with LOCAL_HUB_NODE_FLAGS: what they measure is what users run.
    expect(scripts.start).toBe(`node ${LOCAL_HUB_NODE_FLAGS.join(' ')} dist/local/hub.mjs`);
  });

  it('refuses to start with invalid configuration, listing every bad key', async () => {
    const error = await startHubProcess({ TRIBUTARY_DATA_DIR: mkdtempSync(join(tmpdir(), 'x-')), TRIBUTARY_ADMIN_TOKEN: 'short', TRIBUTARY_MAX_BODY_BYTES: '-1' }).catch(
      (e: Error) => e,
    );
    expect(String(error)).toContain('TRIBUTARY_ADMIN_TOKEN');
    expect(String(error)).toContain('TRIBUTARY_MAX_BODY_BYTES');
  });
});
