import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ConnectionForVerify, WebhookRequest } from '../../core/connector.ts';
import { UnauthorizedError } from '../../core/errors.ts';

export const SIGNATURE_HEADER = 'x-tributary-signature';
const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

const invalid = (detail: string, type = 'invalid-signature'): UnauthorizedError => new UnauthorizedError(detail, type);

/**
 * The `raw` provider: `X-Tributary-Signature: sha256=<hex>`, the HMAC-SHA256 of the body with the
 * connection secret. Every valid secret is tried (rotation), whichever matches, in constant time.
 */
export function verifyBodySignature(request: WebhookRequest, connection: ConnectionForVerify): void {
  const header = request.headers[SIGNATURE_HEADER];
  if (!header) {
    throw invalid(
      'The request has no X-Tributary-Signature header. Sign the raw message with the connection secret: ' +
        'X-Tributary-Signature: sha256=<hex HMAC-SHA256 of the body> (see docs/email.md).',
    );
  }
  const match = SIGNATURE.exec(header.trim());
  if (!match) throw invalid('The X-Tributary-Signature header is not of the form "sha256=<64 hex digits>".');
  const received = Buffer.from(match[1]!, 'hex');
  let valid = false;
  for (const secret of connection.secrets) {
    if (timingSafeEqual(createHmac('sha256', secret).update(request.body).digest(), received)) valid = true;
  }
  if (!valid) {
    throw invalid(
      'The X-Tributary-Signature signature does not match the body. Sign the exact bytes you send with the ' +
        'secret of this connection (rotate it with POST /v1/connections/{id}/rotate-secret if unsure).',
    );
  }
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** What basic auth is checked against: the user name, and the passwords allowed besides the secrets. */
export interface BasicAuthSettings {
  username: string;
  passwordSha256?: string;
}

/**
 * Providers that post to a URL with credentials in it (`https://user:password@host/…`, as
 * Postmark and SendGrid do) send them as `Authorization: Basic` (RFC 7617). The password is the
 * connection secret (any valid one) or the password given when the connection was created.
 * Digests of equal length are compared, so the comparison is constant-time whatever was sent.
 */
export function verifyBasicAuth(request: WebhookRequest, connection: ConnectionForVerify, settings: BasicAuthSettings, provider: string): void {
  const header = request.headers.authorization;
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) {
    throw invalid(
      `The request has no basic-auth credentials. Configure the ${provider} inbound webhook URL as ` +
        `https://${settings.username}:<connection secret>@<host>/hooks/email/${connection.id} (see docs/email.md).`,
      'invalid-credentials',
    );
  }
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  const given = sha256(password);
  const allowed = [...connection.secrets.map(sha256), ...(settings.passwordSha256 ? [Buffer.from(settings.passwordSha256, 'hex')] : [])];
  let valid = false;
  for (const candidate of allowed) if (timingSafeEqual(candidate, given)) valid = true;
  const userValid = timingSafeEqual(sha256(user), sha256(settings.username));
  if (!valid || !userValid) {
    throw invalid(
      `The basic-auth credentials are wrong. The user is "${settings.username}" and the password the connection ` +
        'secret (or the password given when the connection was created).',
      'invalid-credentials',
    );
  }
}
