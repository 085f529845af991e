import { jiraFixture, signJira } from '../test/fixtures/jira-examples.ts';

/** The four `jira:issue_created` shapes of the Cloud fixtures (test/fixtures/jira/cloud): epic parent, labels, a key mention, an ADF description. */
const TEMPLATES = ['issue-created-acme-101', 'issue-created-acme-102', 'issue-created-acme-103', 'issue-created-acme-104-adf-description'].map((name) =>
  JSON.stringify(jiraFixture(`cloud/${name}`)),
);

const SITE = 'acme.atlassian.net';
/** Keys from ACME-10000 up: clear of the fixtures' own (ACME-100…104), which stay as links and mentions. */
const keyOf = (i: number) => `ACME-${10_000 + i}`;
const START = Date.UTC(2026, 10, 1, 9, 0, 0);

/** Jira's timestamp format: `2026-11-01T09:00:00.000+0000`. */
const jiraTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

/** `jira:acme.atlassian.net/ACME-10012`: the subject of the events of issue `i` of the burst. */
export const jiraSubject = (i: number) => `jira:${SITE}/${keyOf(i)}`;

/** New issue `i` (from 0): the four Cloud shapes in turn, each with its own key, id, URLs and times. */
export const newJiraIssue = (i: number): string => {
  const payload = JSON.parse(TEMPLATES[i % TEMPLATES.length]!);
  const key = keyOf(i);
  const id = String(200_000 + i);
  const at = START + i * 1_000;
  const { issue } = payload;
  const api = `https://${SITE}/rest/api/2/issue`;
  // The issue's own key, id, URLs and times; the keys it names (parent, mentions) stay.
  Object.assign(issue, { id, key, self: `${api}/${id}` });
  issue.fields.watches.self = `${api}/${key}/watchers`;
  issue.fields.votes.self = `${api}/${key}/votes`;
  issue.fields.created = jiraTime(at);
  issue.fields.updated = jiraTime(at);
  issue.fields.statuscategorychangedate = jiraTime(at);
  payload.timestamp = at + 123;
  return JSON.stringify(payload);
};

/** `count` signed deliveries of new issues, ready to POST to `/hooks/jira/{id}` (signed up front: the load generator stays light). */
export const jiraBurst = (secret: string, count: number): RequestInit[] =>
  Array.from({ length: count }, (_, i) => {
    const body = newJiraIssue(i);
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=UTF-8',
        'user-agent': 'Atlassian Webhook HTTP Client',
        'x-atlassian-webhook-identifier': crypto.randomUUID(),
        'x-hub-signature': signJira(secret, body),
      },
      body,
    };
  });
