import { githubExample } from '../fixtures/github-examples.ts';
import type { TestHub } from './hub.ts';

const edited = githubExample('issues', 'edited').payload as any;
const opened = githubExample('issues', 'opened').payload as any;

/** The lowercase repository of the GitHub issue fixtures: refs are `github:<repo>#<number>`. */
export const FIXTURE_REPO = String(opened.repository.full_name).toLowerCase();

export const issueRef = (number: number) => `github:${FIXTURE_REPO}#${number}`;

/** The real `issues.opened` fixture as issue `number`, with a title of its own. */
export const issueOpened = (number: number, title = `Issue ${number}`) => {
  const payload = structuredClone(opened);
  payload.issue.number = number;
  payload.issue.title = title;
  return payload;
};

/**
 * Update `n` of issue `number` (from the real `issues.edited` fixture): a new title, labels and
 * state at an increasing time. The fixtures of one issue share an `updated_at`, so each update
 * gets its own, and the title says which update the index holds.
 */
export const issueUpdate = (number: number, n: number) => {
  const payload = structuredClone(edited);
  payload.issue.number = number;
  payload.issue.title = `Issue ${number} revision ${n}`;
  payload.issue.updated_at = new Date(Date.UTC(2030, 0, 1, 0, n, number % 60)).toISOString();
  payload.issue.state = n % 3 === 0 ? 'closed' : 'open';
  payload.issue.state_reason = n % 3 === 0 ? 'completed' : null;
  payload.issue.closed_at = n % 3 === 0 ? payload.issue.updated_at : null;
  payload.issue.labels = n % 2 === 0 ? [{ id: n, node_id: 'x', url: 'x', name: `rev-${n}`, color: '000000', default: false, description: null }] : [];
  return payload;
};

/** Every item of the hub's default tenant, by ref, all pages. */
export const allItems = async (hub: TestHub, token?: string): Promise<Map<string, any>> => {
  const items = new Map<string, any>();
  let cursor: string | null = null;
  do {
    const { body } = await hub.api('GET', `/v1/items?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, token);
    for (const item of body.items) items.set(item.ref, item);
    cursor = body.nextCursor;
  } while (cursor);
  return items;
};
