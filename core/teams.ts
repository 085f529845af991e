import * as z from 'zod';
import type { ItemChange } from './changes.ts';
import { personKeys } from './item-filter.ts';
import type { ObservedItem } from './work-item.ts';

export const Team = z.object({
  name: z.string().min(1).max(100).regex(/^[^#]+$/, 'a team name cannot contain #'),
  containers: z
    .array(z.string().regex(/^(github|jira|email):.+$/, 'a container is `{source}:{key}`, e.g. `github:octo/api`, `jira:ACME`, `email:support@acme.com`'))
    .default([])
    .describe('repositories, Jira projects (or `jira:PROJECT/Component`) and mailboxes whose items belong to the team'),
  people: z.array(z.string().min(1)).default([]).describe('person ids (p_…), `github:login`, `jira:accountId` or email addresses'),
  wipLimit: z.number().int().min(1).max(1000).optional().describe('work in progress the team should not exceed'),
});
export type Team = z.infer<typeof Team>;

/** `PUT /v1/teams`: the whole mapping of a tenant, replaced at once. */
export const TeamMap = z
  .object({
    teams: z.array(Team).max(500),
    // One source of truth for WIP limits: a person's is the alert settings', which the workload view shows too.
    personWipLimit: z
      .never({ error: 'The WIP limit of every person is set with PUT /v1/settings (`wipLimitPerPerson`): remove it from the team map.' })
      .optional()
      .describe('no longer here: `wipLimitPerPerson` of PUT /v1/settings'),
  })
  .superRefine((map, ctx) => {
    const seen = new Set<string>();
    map.teams.forEach((team, i) => {
      if (seen.has(team.name)) ctx.addIssue({ code: 'custom', path: ['teams', i, 'name'], message: `team ${team.name} is listed twice` });
      seen.add(team.name);
    });
  });
export type TeamMap = z.infer<typeof TeamMap>;

export const EMPTY_TEAM_MAP: TeamMap = { teams: [] };

const containerKeys = (item: Pick<ObservedItem, 'container' | 'labels'>): string[] => {
  const base = `${item.container.source}:${item.container.key}`.toLowerCase();
  return [base];
};

/**
 * The team an item belongs to by the map: its container first (the repository, project or mailbox
 * decides), else its first owner listed in a team. Undefined when the map says nothing.
 */
export const teamOf = (item: Pick<ObservedItem, 'container' | 'labels' | 'owners'>, map: TeamMap): string | undefined => {
  const keysOfItem = new Set(containerKeys(item));
  const byContainer = map.teams.find((t) => t.containers.some((c) => keysOfItem.has(c.toLowerCase())));
  if (byContainer) return byContainer.name;
  for (const owner of item.owners) {
    const ownerKeys = new Set(personKeys(owner));
    const byPerson = map.teams.find((t) => t.people.some((p) => ownerKeys.has(p.startsWith('p_') ? p : p.toLowerCase())));
    if (byPerson) return byPerson.name;
  }
  return undefined;
};

/**
 * The change with the map's team set on its observation, so the merge keeps it like any observed
 * field; deterministic for a given map, so replays agree. Other changes do not carry a team.
 */
export const withMappedTeam = (change: ItemChange, map: TeamMap): ItemChange => {
  if (change.op !== 'upsert' || map.teams.length === 0) return change;
  const team = teamOf(change.item, map);
  return team === undefined || team === change.item.team ? change : { ...change, item: { ...change.item, team } };
};
