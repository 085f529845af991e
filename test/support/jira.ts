import { signJira } from '../fixtures/jira-examples.ts';

export interface PostJiraOptions {
  /** `X-Atlassian-Webhook-Identifier`; a fresh one by default, `null` to send none */
  identifier?: string | null;
  /** `X-Atlassian-Webhook-Retry`, as Jira sets it on a redelivery */
  retry?: number;
  /** sign with this secret instead of the connection's */
  secret?: string;
  /** send no X-Hub-Signature */
  unsigned?: boolean;
  /** send HTTP Basic credentials instead of a signature (Data Center without webhook secrets) */
  basic?: { user: string; password: string };
  /** the raw body, instead of the payload serialized */
  body?: string;
}

/** POSTs a Jira webhook delivery the way Jira does: JSON, signed `X-Hub-Signature: sha256=…`, with an identifier. */
export const postJira = async (url: string, connection: { id: string; secret: string }, payload: unknown, options: PostJiraOptions = {}) => {
  const body = options.body ?? JSON.stringify(payload);
  const identifier = options.identifier === undefined ? crypto.randomUUID() : options.identifier;
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=UTF-8',
    'user-agent': 'Atlassian Webhook HTTP Client',
    ...(identifier === null ? {} : { 'x-atlassian-webhook-identifier': identifier }),
    ...(options.retry === undefined ? {} : { 'x-atlassian-webhook-retry': String(options.retry) }),
    ...(options.unsigned || options.basic ? {} : { 'x-hub-signature': signJira(options.secret ?? connection.secret, body) }),
    ...(options.basic
      ? { authorization: `Basic ${Buffer.from(`${options.basic.user}:${options.basic.password}`).toString('base64')}` }
      : {}),
  };
  const response = await fetch(`${url}/hooks/jira/${connection.id}`, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
};
