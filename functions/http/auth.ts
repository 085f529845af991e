import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { ForbiddenError, UnauthorizedError } from '../../core/errors.ts';
import { randomId, randomSecret } from '../../core/ids.ts';
import type { Db } from '../../store/db.ts';
import { type Scope, type TokenRecord, getToken } from '../../store/tokens.ts';

export interface Principal {
  tenantId: string;
  tokenId: string;
  scopes: readonly Scope[];
}

export type AuthEnv = { Variables: { principal: Principal } };

export const DEFAULT_TENANT = 'default';

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Tokens read `tok_<id>.<secret>`: the id finds the record, the secret's hash is compared in constant time. */
export const mintToken = (tenantId: string, name: string, scopes: Scope[], now: Date): { token: string; record: TokenRecord } => {
  const id = randomId('tok');
  const secret = randomSecret('s').slice(2);
  return {
    token: `${id}.${secret}`,
    record: { id, tenantId, name, scopes, secretSha256: sha256(secret).toString('hex'), createdAt: now.toISOString() },
  };
};

const hasScope = (principal: Principal, scope: Scope): boolean =>
  principal.scopes.includes(scope) || (scope === 'read' && principal.scopes.includes('admin'));

export interface AuthOptions {
  db: Db;
  /** TRIBUTARY_ADMIN_TOKEN: operator, and admin of the default tenant */
  operatorToken?: string;
}

/** Resolves the bearer token to a tenant and scopes; every /v1 route sees only that tenant. */
export const authenticate = (options: AuthOptions) => {
  const operatorHash = options.operatorToken ? sha256(options.operatorToken) : undefined;
  return async (header: string | undefined): Promise<Principal> => {
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw new UnauthorizedError('Send an API token as `Authorization: Bearer <token>`.', 'missing-token');
    if (operatorHash && timingSafeEqual(sha256(token), operatorHash)) {
      return { tenantId: DEFAULT_TENANT, tokenId: 'operator', scopes: ['read', 'admin', 'operator'] };
    }
    const [id, secret] = token.split('.', 2);
    const record = id && secret ? await getToken(options.db, id) : undefined;
    if (!record || !secret || !timingSafeEqual(sha256(secret), Buffer.from(record.secretSha256, 'hex'))) {
      throw new UnauthorizedError('The token is unknown or revoked. Create one with POST /v1/tokens.', 'invalid-token');
    }
    return { tenantId: record.tenantId, tokenId: record.id, scopes: record.scopes };
  };
};

/** Throws 403 unless the principal has `scope` (admin implies read): the one scope check of the API. */
export const assertScope = (principal: Principal, scope: Scope): void => {
  if (!hasScope(principal, scope)) throw new ForbiddenError(`This route needs a token with the \`${scope}\` scope.`);
};

/** The scope a request needs: one for every method, or one for reads and one for writes. */
export type ScopeRule = Scope | { read: Scope; write: Scope };

/** Reads are the safe methods GET and HEAD (RFC 9110 §9.2.1); every other method writes. */
const scopeFor = (rule: ScopeRule, method: string): Scope =>
  typeof rule === 'string' ? rule : method === 'GET' || method === 'HEAD' ? rule.read : rule.write;

/**
 * Middleware factory: requires a token with the scope of `rule` (admin implies read). Paths where
 * reads and admin writes share a prefix (`/v1/teams`, `/v1/people/*`, `/v1/settings`, `/v1/links`)
 * take `{read: 'read', write: 'admin'}`, so no route checks a scope itself.
 */
export const requireScope = (resolve: ReturnType<typeof authenticate>, rule: ScopeRule) =>
  createMiddleware<AuthEnv>(async function requireScopeMiddleware(c, next) {
    const principal = await resolve(c.req.header('authorization'));
    assertScope(principal, scopeFor(rule, c.req.method));
    c.set('principal', principal);
    await next();
  });
