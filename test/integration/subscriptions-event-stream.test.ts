import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOpened, issueUpdate } from '../support/fault-payloads.ts';
import { type TestHub, postGithub, settled, startTestHub } from '../support/hub.ts';

interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** A Server-Sent Events connection read message by message (comments and heartbeats skipped). */
const openStream = async (hub: TestHub, token: string, query = '', headers: Record<string, string> = {}) => {
  const controller = new AbortController();
  const response = await fetch(`${hub.url}/v1/events/stream${query}`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const pending: SseMessage[] = [];
  const next = async (timeoutMs = 10_000): Promise<SseMessage> => {
    const deadline = Date.now() + timeoutMs;
    while (pending.length === 0) {
      if (Date.now() > deadline) throw new Error('no message on the stream in time');
      const chunk = await Promise.race([reader.read(), new Promise<undefined>((resolve) => setTimeout(resolve, deadline - Date.now()))]);
      if (!chunk || chunk.done) continue;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message: SseMessage = { data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const [field, ...rest] = line.split(':');
          const value = rest.join(':').replace(/^ /, '');
          if (field === 'id') message.id = value;
          else if (field === 'event') message.event = value;
          else if (field === 'data') message.data += value;
        }
        if (message.event || message.data) pending.push(message);
      }
    }
    return pending.shift()!;
  };
  return { response, next, close: () => controller.abort() };
};

describe('GET /v1/events/stream resumes from the event log', () => {
  let hub: TestHub;
  let tenant: { id: string; adminToken: string };
  let github: { id: string; secret: string };

  beforeAll(async () => {
    hub = await startTestHub();
    tenant = (await hub.api('POST', '/v1/tenants', { name: 'stream' })).body;
    github = await hub.createConnection('github', tenant.adminToken);
  });
  afterAll(() => hub.close());

  it('gives a client reconnecting with Last-Event-ID exactly the events it missed, then the live ones; ids are log cursors, the event id stays in the data', async () => {
    const first = await openStream(hub, tenant.adminToken, '?types=work.item.created');
    expect(first.response.headers.get('content-type')).toContain('text/event-stream');
    expect(JSON.parse((await first.next()).data)).toMatchObject({ tenantId: tenant.id, types: ['work.item.created'], retentionDays: 30 });
    await postGithub(hub.url, github, 'issues', issueOpened(1));
    await postGithub(hub.url, github, 'issues', issueOpened(2));
    const seen = [await first.next(), await first.next()];
    expect(seen.map((m) => m.event)).toEqual(['work.item.created', 'work.item.created']);
    for (const message of seen) {
      expect(message.id).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z\.[0-9a-f]{10}\.\d{10}$/);
      expect(JSON.parse(message.data).id).toMatch(/^evt_/);
    }
    const lastSeen = seen[1]!.id!;
    first.close();

    // Missed while disconnected: two new issues, and an update (not of the requested type).
    await postGithub(hub.url, github, 'issues', issueOpened(3));
    await postGithub(hub.url, github, 'issues', issueUpdate(1, 2));
    await postGithub(hub.url, github, 'issues', issueOpened(4));
    await settled(hub);

    const resumed = await openStream(hub, tenant.adminToken, '?types=work.item.created', { 'last-event-id': lastSeen });
    expect((await resumed.next()).event).toBe('ready');
    const missed = [await resumed.next(), await resumed.next()];
    // Deliveries processed in one batch share their time: the log orders events of one item, not across items.
    expect(missed.map((m) => JSON.parse(m.data).data.item.title).sort()).toEqual(['Issue 3', 'Issue 4']);
    expect(missed[0]!.id! > lastSeen && missed[1]!.id! > missed[0]!.id!).toBe(true);
    // Then live, with nothing of the backlog again.
    await postGithub(hub.url, github, 'issues', issueOpened(5));
    const live = await resumed.next();
    expect(JSON.parse(live.data).data.item.title).toBe('Issue 5');
    resumed.close();

    // ?after= does the same as the header; without a type filter the update comes too.
    const after = await openStream(hub, tenant.adminToken, `?after=${encodeURIComponent(lastSeen)}`);
    await after.next();
    const all = [await after.next(), await after.next(), await after.next(), await after.next()];
    expect(all.map((m) => m.event).sort()).toEqual(['work.item.created', 'work.item.created', 'work.item.created', 'work.item.updated']);
    expect(all.map((m) => JSON.parse(m.data).data.item.title).sort()).toEqual(['Issue 1 revision 2', 'Issue 3', 'Issue 4', 'Issue 5']);
    after.close();
  });

  it('tells a client whose cursor is older than the log keeps, or unknown, to resync, then goes on live', async () => {
    const old = `${new Date(Date.now() - 31 * 86_400_000).toISOString()}.0123456789.0000000000`;
    const expired = await openStream(hub, tenant.adminToken, '', { 'last-event-id': old });
    await expired.next();
    const resync = await expired.next();
    expect(resync.event).toBe('resync');
    expect(JSON.parse(resync.data)).toMatchObject({ reason: 'expired', retentionDays: 30 });
    await postGithub(hub.url, github, 'issues', issueOpened(6));
    expect(JSON.parse((await expired.next()).data).data.item.title).toBe('Issue 6');
    expired.close();

    const unknown = await openStream(hub, tenant.adminToken, '', { 'last-event-id': 'evt_fromanolderhub' });
    await unknown.next();
    expect(JSON.parse((await unknown.next()).data)).toMatchObject({ reason: 'unknown-cursor' });
    unknown.close();
  });

  it('refuses a malformed ?after= (400) and a type pattern that names no type (422), as problem+json', async () => {
    const badCursor = await fetch(`${hub.url}/v1/events/stream?after=yesterday`, { headers: { authorization: `Bearer ${tenant.adminToken}` } });
    expect(badCursor.status).toBe(400);
    expect(badCursor.headers.get('content-type')).toBe('application/problem+json');
    const badType = await fetch(`${hub.url}/v1/events/stream?types=work.itme.*`, { headers: { authorization: `Bearer ${tenant.adminToken}` } });
    expect(badType.status).toBe(422);
    expect((await badType.json()).errors[0]).toMatchObject({ path: 'types' });
  });
});
