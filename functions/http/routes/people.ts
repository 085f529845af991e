import { Hono } from 'hono';
import * as z from 'zod';
import { Person } from '../../../core/work-item.ts';
import type { Clock } from '../../../core/ports.ts';
import type { Db } from '../../../store/db.ts';
import { listAudit, mergePeople, splitPerson } from '../../../store/people.ts';
import type { AuthEnv } from '../auth.ts';
import type { Operation } from '../openapi-registry.ts';
import { parseJsonBody } from '../problem.ts';
import { loadPeople } from '../views/people.ts';
import { pageOf } from './items.ts';

const PersonView = Person.extend({
  merged: z.array(z.string()).describe('person ids merged into this one'),
  roles: z.array(z.string()).describe('owner, requester'),
  firstSeenAt: z.string(),
});
const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  action: z.enum(['merge', 'split']),
  personId: z.string(),
  others: z.array(z.string()),
  by: z.string().describe('the token that did it'),
});
const MergeBody = z.object({
  into: z.string().startsWith('p_').describe('the person that stays'),
  people: z.array(z.string().startsWith('p_')).min(1).max(50).describe('the people absorbed into it'),
});
const SplitBody = z.object({
  people: z.array(z.string().startsWith('p_')).min(1).optional().describe('the people to split off; all merged ones by default'),
});

export const peopleOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/people',
    summary: 'People seen as owners or requesters, one identity across tools (merged ones folded in)',
    tag: 'people',
    scope: 'read',
    responses: { 200: { description: 'Every person of the tenant', schema: pageOf(PersonView) } },
  },
  {
    method: 'post',
    path: '/v1/people/merge',
    summary: 'Merge people into one (their handles and addresses become one identity); audited',
    tag: 'people',
    scope: 'admin',
    body: MergeBody,
    responses: { 200: { description: 'The audit entry', schema: AuditEntry }, 404: { description: 'Unknown person' }, 409: { description: 'Already merged' } },
  },
  {
    method: 'post',
    path: '/v1/people/{id}/split',
    summary: 'Undo merges into a person; audited',
    tag: 'people',
    scope: 'admin',
    body: SplitBody,
    responses: { 200: { description: 'The audit entry', schema: AuditEntry }, 404: { description: 'Unknown person' }, 409: { description: 'Not merged into it' } },
  },
  {
    method: 'get',
    path: '/v1/people/audit',
    summary: 'Deprecated: use GET /v1/audit?action=person.merged (or person.split; admin), which pages. The latest 100 merges and splits, newest first, in one page',
    tag: 'people',
    scope: 'read',
    deprecated: true,
    responses: { 200: { description: 'At most 100 audit entries, `nextCursor` always null', schema: pageOf(AuditEntry) } },
  },
];

export const peopleRoutes = (deps: { db: Db; clock: Clock }) =>
  new Hono<AuthEnv>()
    .get('/', async (c) => c.json(await loadPeople(deps.db, c.get('principal').tenantId)))
    .get('/audit', async (c) => c.json({ items: await listAudit(deps.db, c.get('principal').tenantId), nextCursor: null }))
    .post('/merge', async (c) => {
      const { into, people } = await parseJsonBody(c, MergeBody);
      const { tenantId, tokenId } = c.get('principal');
      return c.json(await mergePeople(deps.db, tenantId, into, people, tokenId, deps.clock()));
    })
    .post('/:id/split', async (c) => {
      const { people } = await parseJsonBody(c, SplitBody);
      const { tenantId, tokenId } = c.get('principal');
      return c.json(await splitPerson(deps.db, tenantId, c.req.param('id'), people, tokenId, deps.clock()));
    });
