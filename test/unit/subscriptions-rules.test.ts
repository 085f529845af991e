import { describe, expect, it } from 'vitest';
import type { Alert } from '../../core/alerts.ts';
import { ValidationError } from '../../core/errors.ts';
import { isKnownPattern, matchesAnyType, parseTypeList } from '../../core/event-patterns.ts';
import { EVENT_SCHEMA_VERSION, type EventEnvelope } from '../../core/events.ts';
import { slackEscape, slackMessageFor } from '../../core/slack-message.ts';
import {
  MAX_ATTEMPTS,
  RETRY_DELAYS_MS,
  facetsOfEvent,
  matchesFilter,
  newWebhookSecret,
  retryDelayMs,
  signingSecrets,
  subscriptionDisabledAlert,
  subscriptionMatches,
} from '../../core/subscriptions.ts';
import type { WorkItem } from '../../core/work-item.ts';
import { githubPerson, indexedItem } from '../fixtures/work-items.ts';

const envelope = (type: EventEnvelope['type'], data: Record<string, unknown>, subject = 'github:octo/api#12'): EventEnvelope => ({
  id: `evt_${type.replaceAll('.', '_')}`,
  type,
  time: '2026-12-01T10:00:00.000Z',
  tenantId: 'default',
  subject,
  schemaVersion: EVENT_SCHEMA_VERSION,
  data,
});

const alertOf = (overrides: Partial<Alert> = {}): Alert => ({
  id: 'alr_x',
  kind: 'unblocked',
  state: 'resolved',
  severity: 'info',
  subject: { id: 'wi_pr', ref: 'github:octo/api#40', title: 'Retry the tax service' },
  related: [{ id: 'wi_acme', ref: 'jira:acme.atlassian.net/ACME-12', title: 'Tax <service> & more' }],
  team: 'payments',
  message: 'octo/api#40 (GitHub PR, owned by Dana) is unblocked: ACME-12 (Jira story, owned by Sam) is done',
  openedAt: '2026-12-01T10:00:00.000Z',
  resolvedAt: '2026-12-01T10:00:00.000Z',
  occurrence: 1,
  ...overrides,
});

describe('event-type patterns', () => {
  it('matches a type, a prefix ending in .*, and * for everything', () => {
    expect(matchesAnyType('work.item.created', ['work.item.*'])).toBe(true);
    expect(matchesAnyType('work.alert.raised', ['work.item.*'])).toBe(false);
    expect(matchesAnyType('work.alert.raised', ['work.item.*', 'work.alert.raised'])).toBe(true);
    expect(matchesAnyType('work.digest.ready', ['*'])).toBe(true);
    expect(matchesAnyType('work.link.added', ['work.*'])).toBe(true);
    expect(matchesAnyType('work.item.created', undefined)).toBe(true);
  });

  it('refuses patterns that name no type of the catalog, naming each', () => {
    expect(isKnownPattern('work.itme.*')).toBe(false);
    expect(isKnownPattern('work.item')).toBe(false);
    expect(isKnownPattern('.*')).toBe(false);
    expect(isKnownPattern('work.alert.raised')).toBe(true);
    expect(parseTypeList(' work.item.* , work.alert.raised', 'types')).toEqual(['work.item.*', 'work.alert.raised']);
    expect(() => parseTypeList('work.item.*,nope', 'types')).toThrow(ValidationError);
    try {
      parseTypeList('nope', 'types');
    } catch (error) {
      expect((error as ValidationError).extensions.errors).toEqual([{ path: 'types', message: expect.stringMatching(/^nope is not an event type/) }]);
    }
  });
});

describe('retries and secrets', () => {
  it('retries about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after a failure: 8 attempts over about a day', () => {
    expect(RETRY_DELAYS_MS).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(MAX_ATTEMPTS).toBe(8);
    const total = RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
    expect(total / 3_600_000).toBeGreaterThan(24);
    expect(total / 3_600_000).toBeLessThan(30);
    expect(retryDelayMs(8)).toBeUndefined();
  });

  it('spreads each retry ±20 % (jitter)', () => {
    expect(retryDelayMs(1, () => 0)).toBe(4_000);
    expect(retryDelayMs(1, () => 0.999999)).toBeCloseTo(6_000, -1);
    expect(retryDelayMs(7, () => 0.5)).toBe(36_000_000);
  });

  it('makes Standard Webhooks secrets, and keeps the previous one signing until its grace ends', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    const secrets = [
      { value: 'whsec_new', createdAt: '2026-12-01T00:00:00Z' },
      { value: 'whsec_old', createdAt: '2026-11-01T00:00:00Z', expiresAt: '2026-12-02T00:00:00Z' },
    ];
    expect(signingSecrets({ secrets }, new Date('2026-12-01T12:00:00Z'))).toEqual(['whsec_new', 'whsec_old']);
    expect(signingSecrets({ secrets }, new Date('2026-12-02T00:00:01Z'))).toEqual(['whsec_new']);
  });
});

describe('which subscriptions an event reaches', () => {
  const item: WorkItem = { ...indexedItem(), team: 'web' };

  it('reads source, project, category and team from item events, and source, project and team from alerts', () => {
    expect(facetsOfEvent(envelope('work.item.created', { item }))).toEqual({
      source: item.source,
      category: item.category,
      project: `${item.container.source}:${item.container.key}`,
      team: 'web',
    });
    expect(facetsOfEvent(envelope('work.alert.raised', { alert: alertOf() }))).toEqual({ source: 'github', project: 'github:octo/api', team: 'payments' });
    expect(facetsOfEvent(envelope('work.alert.raised', { alert: alertOf({ subject: { id: 'x', ref: 'jira:acme.atlassian.net/ACME-12' } }) }))).toMatchObject({ project: 'jira:ACME' });
    expect(facetsOfEvent(envelope('work.alert.raised', { alert: alertOf({ subjectType: 'team', subject: { id: 'team:web', ref: 'team:web' }, team: 'web' }) }))).toEqual({ team: 'web' });
  });

  it('needs every dimension a filter names, and an event without one does not match it', () => {
    expect(matchesFilter(undefined, {})).toBe(true);
    expect(matchesFilter({ sources: ['github'] }, { source: 'github' })).toBe(true);
    expect(matchesFilter({ sources: ['github'], teams: ['web'] }, { source: 'github' })).toBe(false);
    expect(matchesFilter({ projects: ['GitHub:Octo/API'] }, { project: 'github:octo/api' })).toBe(true);
    expect(matchesFilter({ categories: ['operational'] }, { category: 'project' })).toBe(false);
    const event = envelope('work.alert.raised', { alert: alertOf() });
    expect(subscriptionMatches({ types: ['work.alert.*'] }, event, facetsOfEvent(event))).toBe(true);
    expect(subscriptionMatches({ types: ['work.item.*'] }, event, facetsOfEvent(event))).toBe(false);
  });

  it('announces a disabled subscription with an alert whose subject is the subscription', () => {
    const draft = subscriptionDisabledAlert({ id: 'sub_1', url: 'https://hooks.example.test/in?token=x', description: 'ci' }, 'the receiver answered 410 Gone');
    expect(draft).toMatchObject({ kind: 'subscription_disabled', subjectType: 'subscription', subject: { id: 'sub_1', ref: 'subscription:sub_1', title: 'ci' }, related: [] });
    expect(draft.message).toContain('"ci" (hooks.example.test)');
    expect(draft.message).not.toContain('token=x');
  });
});

describe('Slack messages', () => {
  const pr: WorkItem = {
    ...indexedItem({ ref: 'github:octo/api#40', kind: 'pull_request', title: 'Retry the tax service', url: 'https://github.com/octo/api/pull/40', owners: [githubPerson('dana', 1, { name: 'Dana' })] }),
    id: 'wi_pr',
  };

  it('says what an alert is about, on which item, whose it is, with links to the tool and to the dashboard', () => {
    const message = slackMessageFor(envelope('work.alert.raised', { alert: alertOf() }), { item: pr, dashboardUrl: 'https://tributary.example.com/' });
    expect(message.text).toBe('Unblocked: octo/api#40 (GitHub PR, owned by Dana) is unblocked: ACME-12 (Jira story, owned by Sam) is done');
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('<https://github.com/octo/api/pull/40|octo/api#40 Retry the tax service>');
    expect(blocks).toContain('<https://tributary.example.com/items/wi_pr|open in Tributary>');
    expect(blocks).toContain('*Owner:*');
    expect(blocks).toContain('*Done:* <https://tributary.example.com/items/wi_acme|ACME-12 Tax &lt;service&gt; &amp; more>');
    for (const block of message.blocks) if (block.type === 'section') expect(block.text.text.length).toBeLessThanOrEqual(3000);
  });

  it('escapes what the tools wrote, so a title cannot inject links or mentions', () => {
    expect(slackEscape('<!channel> & <https://evil|click>')).toBe('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
    const message = slackMessageFor(envelope('work.alert.raised', { alert: alertOf({ kind: 'blocker_stale', state: 'open', severity: 'warning', message: 'Title <!here>' }) }));
    expect(message.text).toBe('Alert (blocker stale, warning): Title &lt;!here&gt;');
    expect(JSON.stringify(message.blocks)).not.toContain('<!here>');
  });

  it('turns the weekly digest into a short summary', () => {
    const section = (count: number) => ({ count, items: [] });
    const digest = {
      team: 'web',
      days: 7,
      since: '2026-11-23T00:00:00.000Z',
      until: '2026-11-30T00:00:00.000Z',
      headline: '4 closed, 2 started, 1 newly blocked, 0 unblocked',
      closed: section(4),
      started: section(2),
      newlyBlocked: section(1),
      unblocked: section(0),
      alertsRaised: section(3),
      alertsResolved: section(1),
    };
    const message = slackMessageFor(envelope('work.digest.ready', { week: '2026-W48', digest }, 'digest:2026-W48/web'));
    expect(message.text).toBe('Weekly digest 2026-W48 (team web): 4 closed, 2 started, 1 newly blocked, 0 unblocked');
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Weekly digest 2026-W48: team web' } });
    expect(JSON.stringify(message.blocks)).toContain('*Alerts raised:* 3');
  });

  it('gives item events one line', () => {
    const message = slackMessageFor(envelope('work.item.status_changed', { item: pr, from: { name: 'Open', category: 'todo' }, to: { name: 'Merged', category: 'done' } }));
    expect(message.text).toBe('octo/api#40 Retry the tax service: Status Open → Merged');
  });
});
