import { sign } from '@octokit/webhooks-methods';
import { githubExamples } from '../test/fixtures/github-examples.ts';

export const SUPPORTED_EVENTS = ['issues', 'pull_request', 'pull_request_review', 'issue_comment'];

/** The real payload corpus: every github.com example of the supported events, as bytes. */
export const githubCorpus = () =>
  SUPPORTED_EVENTS.flatMap((event) => githubExamples(event)).map((e) => ({ event: e.event, body: new TextEncoder().encode(JSON.stringify(e.payload)) }));

/** `issues.opened` for issue `number` (from 1): every delivery makes a new item, so each one produces events. */
export const openedIssue = (() => {
  const template = githubExamples('issues', { action: 'opened' })[0]!.payload as any;
  return (number: number) => {
    const payload = structuredClone(template);
    payload.issue.number = number;
    return JSON.stringify(payload);
  };
})();

export const signedGithubRequest = async (secret: string, event: string, body: string) => ({
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': crypto.randomUUID(),
    'x-hub-signature-256': await sign(secret, body),
  },
  body,
});
