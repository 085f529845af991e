import { Hono } from 'hono';
import * as z from 'zod';
import type { Clock } from '../../../core/ports.ts';
import { NotFoundError } from '../../../core/errors.ts';
import type { Db } from '../../../store/db.ts';
import { type TokenRecord, deleteToken, getToken, listTokens, putToken } from '../../../store/tokens.ts';
import { recordAudit } from '../../../store/audit.ts';
import { type AuthEnv, mintToken } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody } from '../problem.ts';
import { pageOf } from './items.ts';

const CreateToken = z.object({
  name: z.string().min(1).max(200),
  scopes: z.array(z.enum(['read', 'admin'])).min(1).default(['read']),
});

export const Token = z.object({ id: z.string(), name: z.string(), scopes: z.array(z.string()), createdAt: z.string() });
const TokenWithSecret = Token.extend({ token: z.string().describe('shown once; only its hash is stored') });

export const tokenOperations: Operation[] = [
  {
    method: 'post',
    path: '/v1/tokens',
    summary: 'Create a scoped API token for this tenant',
    tag: 'tokens',
    scope: 'admin',
    body: CreateToken,
    responses: { 201: { description: 'Created', schema: TokenWithSecret } },
  },
  { method: 'get', path: '/v1/tokens', summary: 'List tokens (without secrets)', tag: 'tokens', scope: 'admin', responses: { 200: { description: 'Tokens', schema: pageOf(Token) } } },
  { method: 'delete', path: '/v1/tokens/{id}', summary: 'Revoke a token', tag: 'tokens', scope: 'admin', responses: { 204: { description: 'Revoked' } } },
];

const view = (t: TokenRecord): z.infer<typeof Token> => ({ id: t.id, name: t.name, scopes: t.scopes, createdAt: t.createdAt });

export const tokenRoutes = (deps: { db: Db; clock: Clock }) =>
  new Hono<AuthEnv>()
    .post('/', async (c) => {
      const { name, scopes } = await parseJsonBody(c, CreateToken);
      const { tenantId, tokenId } = c.get('principal');
      const { token, record } = mintToken(tenantId, name, scopes, deps.clock());
      await putToken(deps.db, record);
      // The token id names it; the token itself (its secret) is never recorded.
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'token.created', target: record.id, detail: { name, scopes }, at: record.createdAt });
      return c.json({ ...view(record), token }, 201);
    })
    .get('/', async (c) => c.json({ items: (await listTokens(deps.db, c.get('principal').tenantId)).map(view), nextCursor: null }))
    .delete('/:id', async (c) => {
      const token = await getToken(deps.db, c.req.param('id'));
      if (!token || token.tenantId !== c.get('principal').tenantId) throw new NotFoundError(`Token ${c.req.param('id')}`);
      await deleteToken(deps.db, token.id);
      const { tenantId, tokenId } = c.get('principal');
      await recordAudit(deps.db, { tenantId, actor: tokenId, action: 'token.revoked', target: token.id, detail: { name: token.name }, at: deps.clock().toISOString() });
      return c.body(null, 204);
    });
