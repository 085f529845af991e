import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { githubExamples } from '../fixtures/github-examples.ts';
import { OPERATOR_TOKEN, eventually, postGithub, uniqueTable } from '../support/hub.ts';
import { killHard, startHubProcess } from '../support/hub-process.ts';

const BURST = 120;

describe('a hub killed in the middle of a burst', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) await killHard(child);
  });

  it('after a restart, holds and has published every delivery it acknowledged', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tributary-crash-'));
    // The embedded project kills the hub with its own persisted engine; the DynamoDB Local project
    // kills it while it writes to the shared emulator.
    const env: Record<string, string> = { TRIBUTARY_DATA_DIR: dataDir, TRIBUTARY_ADMIN_TOKEN: OPERATOR_TOKEN, TRIBUTARY_TABLE: uniqueTable('crash') };
    if (inject('engineKind') === 'dynamodb-local') env.DYNAMODB_ENDPOINT = inject('dynamodbEndpoint');

    const first = await startHubProcess(env);
    children.push(first.child);
    const created = await fetch(`${first.url}/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'github', name: 'crash test' }),
    });
    const connection = (await created.json()) as { id: string; secret: string };

    const template = githubExamples('issues', { action: 'opened' })[0]!.payload as any;
    const acked: number[] = [];
    let sent = 0;
    let killed = false;
    const sender = async () => {
      while (sent < BURST) {
        const number = ++sent;
        const payload = structuredClone(template);
        payload.issue.number = number;
        try {
          const response = await postGithub(first.url, connection, 'issues', payload);
          if (response.status === 202) acked.push(number);
        } catch {
          // connection refused or reset: the hub is gone, this delivery was not acknowledged
        }
        if (acked.length >= BURST / 2 && !killed) {
          killed = true;
          await killHard(first.child);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    expect(killed).toBe(true);
    expect(acked.length).toBeGreaterThanOrEqual(BURST / 2);

    const second = await startHubProcess(env);
    children.push(second.child);
    const repo = String(template.repository.full_name).toLowerCase();
    const indexed = async () => {
      const refs = new Set<string>();
      let cursor: string | null = null;
      do {
        const response = await fetch(`${second.url}/v1/items?limit=200${cursor ? `&cursor=${cursor}` : ''}`, {
          headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
        });
        const page = (await response.json()) as { items: { ref: string }[]; nextCursor: string | null };
        page.items.forEach((i) => refs.add(i.ref));
        cursor = page.nextCursor;
      } while (cursor);
      return refs;
    };
    const published = () => {
      const log = join(dataDir, 'events.jsonl');
      if (!existsSync(log)) return new Set<string>();
      const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      return new Set(lines.map((l) => JSON.parse(l)).filter((e) => e.type === 'work.item.created').map((e) => e.subject as string));
    };
    await eventually(async () => {
      const refs = await indexed();
      const events = published();
      return acked.every((n) => refs.has(`github:${repo}#${n}`) && events.has(`github:${repo}#${n}`));
    }, { timeoutMs: 30_000, what: 'every acknowledged delivery to be indexed and published' });

    // At least once, but never with different ids for the same change.
    const log = readFileSync(join(dataDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const idsBySubject = new Map<string, Set<string>>();
    for (const e of log.filter((e) => e.type === 'work.item.created')) {
      idsBySubject.set(e.subject, (idsBySubject.get(e.subject) ?? new Set()).add(e.id));
    }
    for (const ids of idsBySubject.values()) expect(ids.size).toBe(1);
  }, 90_000);
});
