import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_SETTINGS } from '../../core/alerts.ts';
import { computeWorkload } from '../../core/views.ts';
import { evaluateWip, wipLimitOf, wipMemberOf, wipSubjectsOf, workloadLimitsOf } from '../../core/wip.ts';
import { githubPerson, indexedItem } from '../fixtures/work-items.ts';

const dana = githubPerson('dana', 7, { name: 'Dana' });
const octocat = githubPerson('octocat', 1);
const IN_PROGRESS = { name: 'open', category: 'in_progress' } as const;
const item = (n: number, overrides: Parameters<typeof indexedItem>[0] = {}) =>
  indexedItem({ ref: `github:octo/api#${n}`, title: `Item ${n}`, status: IN_PROGRESS, owners: [dana], ...overrides });

describe('work in progress per person and team', () => {
  it('counts an item in progress against each owner once and its team', () => {
    const subjects = wipSubjectsOf(item(1, { owners: [dana, octocat, dana], team: 'Platform' }));
    expect(subjects.map((s) => s.key)).toEqual([`person:${dana.id}`, `person:${octocat.id}`, 'team:Platform']);
    expect(subjects.map((s) => s.name)).toEqual(['Dana', 'octocat', 'Platform']);
  });

  it('counts nothing for work not started, finished or deleted', () => {
    expect(wipSubjectsOf(item(1, { status: { name: 'open', category: 'todo' } }))).toEqual([]);
    expect(wipSubjectsOf(item(1, { status: { name: 'closed', category: 'done' } }))).toEqual([]);
    expect(wipSubjectsOf({ ...item(1), deleted: { at: item(1).updatedAt, reason: 'deleted' } })).toEqual([]);
    expect(wipSubjectsOf(item(1, { status: { name: 'review', category: 'in_review' } }))).toHaveLength(1);
  });

  it("takes a team's own limit from the team map before the tenant's team limit", () => {
    const teams = { teams: [{ name: 'Platform', containers: [], people: [], wipLimit: 3 }] };
    expect(wipLimitOf('team:Platform', DEFAULT_ALERT_SETTINGS, teams)).toBe(3);
    expect(wipLimitOf('team:Web', DEFAULT_ALERT_SETTINGS, teams)).toBe(DEFAULT_ALERT_SETTINGS.wipLimitPerTeam);
    expect(wipLimitOf(`person:${dana.id}`, { ...DEFAULT_ALERT_SETTINGS, wipLimitPerPerson: 2 }, teams)).toBe(2);
  });

  it('gives the workload view the limit the alert has for every person and team (work without a team has none)', () => {
    const teams = { teams: [{ name: 'Platform', containers: [], people: [], wipLimit: 3 }] };
    const settings = { ...DEFAULT_ALERT_SETTINGS, wipLimitPerPerson: 2, wipLimitPerTeam: 9 };
    const wip = [item(1, { team: 'Platform' }), item(2, { team: 'Web', owners: [octocat] }), item(3, { owners: [] })];
    const workload = computeWorkload(wip, workloadLimitsOf(settings, teams), new Date());
    for (const person of workload.people) expect(person.limit, person.personId).toBe(wipLimitOf(`person:${person.personId}`, settings, teams));
    expect(workload.teams.map((t) => [t.team, t.limit])).toEqual(
      expect.arrayContaining([['Platform', 3], ['Web', wipLimitOf('team:Web', settings, teams)], ['(none)', null]]),
    );
  });

  it('raises only over the limit, naming the person, the count and the limit', () => {
    const subject = wipSubjectsOf(item(1))[0]!;
    const items = [1, 2, 3, 4, 5, 6, 7].map((n) => wipMemberOf(item(n)));
    expect(evaluateWip(subject, items.slice(0, 5), 5, DEFAULT_ALERT_SETTINGS)).toBeUndefined();
    const alert = evaluateWip(subject, items, 5, DEFAULT_ALERT_SETTINGS)!;
    expect(alert).toMatchObject({ kind: 'wip_over_limit', subjectType: 'person', subject: { id: `person:${dana.id}`, title: 'Dana' } });
    expect(alert.message).toBe('Dana has 7 items in progress, over the WIP limit of 5: octo/api#1, octo/api#2, octo/api#3, octo/api#4, octo/api#5 and 2 more');
    // One alert per subject, whatever items come and go.
    expect(evaluateWip(subject, items.slice(1), 5, DEFAULT_ALERT_SETTINGS)!.id).toBe(alert.id);
    expect(evaluateWip(subject, items, 5, { ...DEFAULT_ALERT_SETTINGS, disabledKinds: ['wip_over_limit'] })).toBeUndefined();
  });
});
