import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ConnectionForVerify, WebhookRequest } from '../../core/connector.ts';
import { UnauthorizedError } from '../../core/errors.ts';
import { JiraSettings } from './settings.ts';

const SIGNATURE_HEADER = 'x-hub-signature';
const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;
/** The user name of a `basic` connection's credentials; the connection secret is the password. */
export const BASIC_AUTH_USER = 'tributary';

const invalidSignature = (detail: string): UnauthorizedError => new UnauthorizedError(detail, 'invalid-signature');

/** Every secret is tried, whatever matched, so the time taken does not tell which one did. */
const matchesAnySecret = (received: Buffer, secrets: readonly string[], expectedOf: (secret: string) => Buffer): boolean => {
  let valid = false;
  for (const secret of secrets) {
    const expected = expectedOf(secret);
    if (expected.length === received.length && timingSafeEqual(expected, received)) valid = true;
  }
  return valid;
};

const verifySignature = (header: string, request: WebhookRequest, connection: ConnectionForVerify): void => {
  const match = SIGNATURE.exec(header.trim());
  if (!match) {
    throw invalidSignature(
      'The X-Hub-Signature header is not of the form "sha256=<64 hex digits>". Check that no proxy between Jira and Tributary rewrites it.',
    );
  }
  const received = Buffer.from(match[1]!, 'hex');
  if (!matchesAnySecret(received, connection.secrets, (secret) => createHmac('sha256', secret).update(request.body).digest())) {
    throw invalidSignature(
      'The X-Hub-Signature signature does not match the body. Check that the "Secret" of the Jira webhook is the secret of ' +
        'this connection (rotate it with POST /v1/connections/{id}/rotate-secret if unsure), and that nothing between Jira ' +
        'and Tributary changes the body.',
    );
  }
};

/** Passwords are compared as SHA-256 digests, so the comparison takes the same time whatever their lengths. */
const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

const verifyBasicCredentials = (request: WebhookRequest, connection: ConnectionForVerify): void => {
  const header = request.headers.authorization ?? '';
  const encoded = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)?.[1];
  const credentials = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
  const separator = credentials?.indexOf(':') ?? -1;
  if (!credentials || separator < 0) {
    throw new UnauthorizedError(
      'The request has neither an X-Hub-Signature header nor Basic credentials. This connection uses "auth": "basic": ' +
        `register the webhook URL with the credentials in it (https://${BASIC_AUTH_USER}:<connection secret>@host/hooks/jira/<id>), ` +
        'or set the webhook secret if your Jira version has one.',
      'invalid-credentials',
    );
  }
  const user = credentials.slice(0, separator);
  const password = digest(credentials.slice(separator + 1));
  const passwordValid = matchesAnySecret(password, connection.secrets, digest);
  if (user !== BASIC_AUTH_USER || !passwordValid) {
    throw new UnauthorizedError(
      `The Basic credentials are wrong: the user is "${BASIC_AUTH_USER}" and the password is the secret of this connection.`,
      'invalid-credentials',
    );
  }
};

/**
 * Authenticates a Jira delivery. `X-Hub-Signature: sha256=<hex>` (HMAC-SHA256 of the raw body) is
 * checked against every secret of the connection, so deliveries signed with the previous secret
 * pass during a rotation; a signature, when present, is always checked. Without one, only a
 * connection created with `"auth": "basic"` accepts HTTP Basic credentials (user `tributary`,
 * password the connection secret) instead; nothing unsigned is ever accepted silently.
 * See https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks
 *
 * @throws UnauthorizedError (`invalid-signature` or `invalid-credentials`).
 */
export function verifyJiraRequest(request: WebhookRequest, connection: ConnectionForVerify): void {
  const signature = request.headers[SIGNATURE_HEADER];
  if (signature !== undefined && signature !== '') return verifySignature(signature, request, connection);
  const settings = JiraSettings.safeParse(connection.settings);
  if (settings.success && settings.data.auth === 'basic') return verifyBasicCredentials(request, connection);
  throw invalidSignature(
    'The request has no X-Hub-Signature header. In the Jira webhook settings (System → WebHooks), paste the secret of this ' +
      'connection into the "Secret" field: Jira signs deliveries only when a secret is set. For Data Center versions without ' +
      'webhook secrets, create the connection with "auth": "basic".',
  );
}
