import { cloudPayload, type CloudFixture } from '../fixtures/jira-examples.ts';
import { githubExample, githubExamples } from '../fixtures/github-examples.ts';
import { tributarySignature } from './email.ts';
import { type TestHub, postGithub, settled } from './hub.ts';
import { postJira } from './jira.ts';

/**
 * The work a new user would see after a week of webhooks, as real deliveries over HTTP:
 * - Jira Cloud `ACME-101` (in progress, Alana Grant), which blocks `ACME-102`, which blocks GitHub issue #78;
 * - a pull request titled with ACME-101's key (open, in review), and one for ACME-102, merged three
 *   days ago while ACME-102 is still To Do (`pr_merged_ticket_open`);
 * - a push to the PR's branch, of a commit naming ACME-101 (its development: a commit and a branch);
 * - a customer's email naming ACME-101, unanswered for two days (`request_unanswered`);
 * - another customer's request, unanswered for a day, then answered by the team (its
 *   `request_unanswered` raised, then resolved);
 * - an issue titled with markup, a dozen issues done over the last weeks (flow charts), a team map.
 * Times are relative to the real clock, so "3 days ago" reads as it should.
 */

export const SITE = 'acme.atlassian.net';
export const MAILBOX = 'platform@acme.example';
export const XSS_TITLE = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script> Checkout fails';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Scenario {
  token: string;
  repo: string;
  refs: { story: string; blockedStory: string; pr: string; mergedPr: string; email: string; answeredEmail: string; xss: string; chainEnd: string };
  /** the commit pushed naming ACME-101 */
  commit: { sha: string; message: string; branch: string };
}

const jiraTime = (at: number) => new Date(at).toISOString().replace('Z', '+0000');

/** A Jira fixture moved to `at` (its `timestamp`, `created` kept before it, `updated`). */
const jiraAt = (name: CloudFixture, at: number, createdAt = at) => {
  const payload = cloudPayload(name);
  payload.timestamp = at;
  if (payload.issue?.fields) {
    payload.issue.fields.created = jiraTime(createdAt);
    payload.issue.fields.updated = jiraTime(at);
  }
  return payload;
};

const rawEmail = (fields: { from: string; to?: string; subject: string; date: Date; messageId: string; inReplyTo?: string; body: string }) =>
  [
    `From: ${fields.from}`,
    `To: ${fields.to ?? `Platform Requests <${MAILBOX}>`}`,
    `Subject: ${fields.subject}`,
    `Date: ${fields.date.toUTCString()}`,
    `Message-ID: ${fields.messageId}`,
    ...(fields.inReplyTo ? [`In-Reply-To: ${fields.inReplyTo}`, `References: ${fields.inReplyTo}`] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    '',
    fields.body,
    '',
  ].join('\r\n');

export const seedDashboardScenario = async (hub: TestHub, name = 'acme'): Promise<Scenario> => {
  const now = Date.now();
  const tenant = (await hub.api('POST', '/v1/tenants', { name })).body as { adminToken: string };
  const token = tenant.adminToken;
  const github = await hub.createConnection('github', token);
  const jira = await hub.createConnection('jira', token, { site: SITE });
  const email = await hub.createConnection('email', token, { provider: 'raw', address: MAILBOX });
  const prTemplate = githubExample('pull_request', 'opened').payload as any;
  const issueTemplate = githubExample('issues', 'opened').payload as any;
  const repo = String(prTemplate.repository.full_name);
  const lower = repo.toLowerCase();
  const teams = {
    teams: [
      { name: 'payments', containers: ['jira:ACME'], wipLimit: 3 },
      { name: 'checkout', containers: [`github:${lower}`], wipLimit: 4 },
      { name: 'platform', containers: [`email:${MAILBOX}`] },
    ],
  };
  expect200(await hub.api('PUT', '/v1/teams', teams, token));

  // Jira: ACME-101 created a week ago and started yesterday; ACME-102; ACME-101 blocks ACME-102.
  for (const [fixture, at, created] of [
    ['issue-created-acme-101', now - 7 * DAY, now - 7 * DAY],
    ['issue-created-acme-102', now - 6 * DAY, now - 6 * DAY],
    ['issue-updated-acme-101-in-progress', now - 1 * DAY, now - 7 * DAY],
    ['issuelink-created-acme-101-blocks-acme-102', now - 20 * HOUR, now - 20 * HOUR],
  ] as const) {
    expect202(await postJira(hub.url, jira, jiraAt(fixture, at, created)));
  }
  // The project key must be known before other tools' text can name it.
  await settled(hub);

  // The PR that implements ACME-101 (open, in review), and a merged one for ACME-102.
  const pr = structuredClone(prTemplate);
  Object.assign(pr.pull_request, {
    number: 41,
    id: prTemplate.pull_request.id + 41,
    title: 'ACME-101 Retry checkout for carts over 100 items',
    body: 'Splits the cart into pages before pricing it.',
    created_at: new Date(now - 2 * DAY).toISOString(),
    updated_at: new Date(now - 5 * HOUR).toISOString(),
  });
  pr.pull_request.head.ref = 'acme-101-retry-checkout';
  pr.number = 41;
  expect202(await postGithub(hub.url, github, 'pull_request', pr));
  const merged = structuredClone(prTemplate);
  merged.action = 'closed';
  Object.assign(merged.pull_request, {
    number: 42,
    id: prTemplate.pull_request.id + 42,
    title: 'ACME-102 Apply bulk discount rules',
    body: 'Discount tiers for large carts.',
    state: 'closed',
    merged: true,
    created_at: new Date(now - 5 * DAY).toISOString(),
    updated_at: new Date(now - 3 * DAY).toISOString(),
    closed_at: new Date(now - 3 * DAY).toISOString(),
    merged_at: new Date(now - 3 * DAY).toISOString(),
  });
  merged.pull_request.head.ref = 'acme-102-discounts';
  merged.number = 42;
  expect202(await postGithub(hub.url, github, 'pull_request', merged));

  // A commit naming ACME-101 pushed to the PR's branch six hours ago: the story's development.
  const push = structuredClone(githubExamples('push').find((e) => (e.payload as any).commits?.length > 0)!.payload as any);
  const commit = { sha: `a101c0de${push.commits[0].id.slice(8)}`, message: 'ACME-101: page the cart before pricing it', branch: 'acme-101-retry-checkout' };
  push.ref = `refs/heads/${commit.branch}`;
  push.created = false;
  push.commits = [{ ...push.commits[0], id: commit.sha, message: `${commit.message}\n\nPages of 50 lines.`, timestamp: new Date(now - 6 * HOUR).toISOString(), url: `https://github.com/${repo}/commit/${commit.sha}` }];
  push.head_commit = push.commits[0];
  push.repository.pushed_at = Math.floor((now - 6 * HOUR) / 1000);
  expect202(await postGithub(hub.url, github, 'push', push));

  const sendEmail = async (message: string) => {
    const response = await fetch(`${hub.url}/hooks/email/${email.id}`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'x-tributary-signature': tributarySignature(message, email.secret) },
      body: message,
    });
    if (response.status !== 202) throw new Error(`the email answered ${response.status}: ${await response.text()}`);
  };
  // A customer asks about ACME-101 by email, two days ago; nobody answered.
  await sendEmail(
    rawEmail({
      from: 'Ana Lima <ana.lima@customer.example>',
      subject: 'Checkout fails for our large orders (ACME-101)',
      date: new Date(now - 2 * DAY),
      messageId: '<checkout-large-orders@customer.example>',
      body: 'Hello platform team,\r\n\r\nour orders with more than 100 lines fail at checkout. Is ACME-101 the fix?\r\n\r\nAna',
    }),
  );
  // Another customer asked three days ago and waited past the 24-hour SLA (the alert is raised); the
  // team answered the day after (it is resolved). Processed apart, as they arrived days apart.
  const question = '<invoice-vat-number@other.example>';
  await sendEmail(
    rawEmail({
      from: 'Noor Haddad <noor@other.example>',
      subject: 'Our invoices lack the VAT number',
      date: new Date(now - 3 * DAY),
      messageId: question,
      body: 'Hello,\r\n\r\nthe invoices of March show no VAT number. Can you add it?\r\n\r\nNoor',
    }),
  );
  await settled(hub);
  await sendEmail(
    rawEmail({
      from: `Sam Ortiz <sam.ortiz@${MAILBOX.split('@')[1]}>`,
      to: 'Noor Haddad <noor@other.example>',
      subject: 'Re: Our invoices lack the VAT number',
      date: new Date(now - 1 * DAY),
      messageId: '<re-invoice-vat-number@acme.example>',
      inReplyTo: question,
      body: 'Hello Noor,\r\n\r\nthe next invoices carry it; we are reissuing those of March.\r\n\r\nSam',
    }),
  );

  // GitHub issues: one titled with markup that blocks a chain (#77 → #78 → #79), #78 also waiting on ACME-102.
  const issue = (number: number, fields: Record<string, unknown>) => {
    const payload = structuredClone(issueTemplate);
    Object.assign(payload.issue, { number, id: issueTemplate.issue.id + number, ...fields });
    return payload;
  };
  for (const [number, title, body, daysAgo] of [
    [77, XSS_TITLE, 'Found while testing.', 4],
    [78, 'Migrate the tax client', 'Blocked by #77. Depends on ACME-102.', 3],
    [79, 'Ship the new checkout', 'Depends on #78', 2],
  ] as const) {
    const at = new Date(now - daysAgo * DAY).toISOString();
    expect202(await postGithub(hub.url, github, 'issues', issue(number, { title, body, created_at: at, updated_at: at })));
  }
  // Done work over the last weeks: started (assigned) then closed, some operational.
  for (let n = 0; n < 14; n++) {
    const closed = now - (n * 5 + 1) * DAY;
    const started = closed - (1 + (n % 4)) * DAY;
    const created = started - 2 * DAY;
    const labels = n % 3 === 0 ? [{ ...issueTemplate.issue.labels[0], id: 900 + n, name: 'ops' }] : issueTemplate.issue.labels;
    const fields = { title: `Finished task ${n + 1}`, body: '', labels, created_at: new Date(created).toISOString() };
    expect202(await postGithub(hub.url, github, 'issues', issue(200 + n, { ...fields, updated_at: new Date(started).toISOString() })));
    const done = issue(200 + n, { ...fields, state: 'closed', state_reason: 'completed', updated_at: new Date(closed).toISOString(), closed_at: new Date(closed).toISOString() });
    done.action = 'closed';
    expect202(await postGithub(hub.url, github, 'issues', done));
  }
  await settled(hub);
  return {
    token,
    repo: lower,
    refs: {
      story: `jira:${SITE}/ACME-101`,
      blockedStory: `jira:${SITE}/ACME-102`,
      pr: `github:${lower}#41`,
      mergedPr: `github:${lower}#42`,
      email: `email:${MAILBOX}/checkout-large-orders@customer.example`,
      answeredEmail: `email:${MAILBOX}/invoice-vat-number@other.example`,
      xss: `github:${lower}#77`,
      chainEnd: `github:${lower}#79`,
    },
    commit,
  };
};

function expect202(response: { status: number; body?: unknown }) {
  if (response.status !== 202) throw new Error(`a delivery answered ${response.status}: ${JSON.stringify(response.body)}`);
}

function expect200(response: { status: number; body?: unknown }) {
  if (response.status !== 200) throw new Error(`a request answered ${response.status}: ${JSON.stringify(response.body)}`);
}
