import { describe, expect, it } from 'vitest';
import { jira } from '../../connectors/jira/index.ts';
import { JiraSettings } from '../../connectors/jira/settings.ts';
import type { WebhookRequest } from '../../core/connector.ts';
import { MalformedPayloadError, UnsupportedMediaTypeError } from '../../core/errors.ts';
import { UNNAMED_JIRA_EVENT } from '../../connectors/jira/payload-schemas.ts';
import { CLOUD_HISTORY, cloudPayload, dataCenterPayload, jiraFixture, jiraSettings, toBody } from '../fixtures/jira-examples.ts';

/** Fixtures of shapes real old servers and integrations send (test/unit/jira-real-payloads.test.ts maps each). */
const JIRA_REAL_SHAPES = [
  'data-center/issue-updated-ops-17-locale-timestamp',
  'data-center/issue-updated-ops-17-ambiguous-timestamp',
  'data-center/issue-updated-ops-17-unzoned-times',
  'data-center/issue-updated-ops-17-users-self-only',
  'data-center/issue-updated-ops-17-without-status',
  'data-center/issue-created-ops-19-without-dates',
  'data-center/issue-deleted-ops-19-ambiguous-timestamp',
  'data-center/issuelink-created-ops-17-blocks-ops-19-us-locale-timestamp',
  'cloud/issue-created-acme-104-adf-description',
  'cloud/issue-updated-without-issue',
];

const connection = { id: 'con_jira', settings: jiraSettings(), secrets: ['s3cret'] };
const request = (body: Uint8Array | string, headers: Record<string, string> = {}): WebhookRequest => ({
  headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
  body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
});
const receive = (body: Uint8Array | string, headers?: Record<string, string>) => jira.receive(request(body, headers), connection);

describe('jira.receive', () => {
  it('identifies a delivery by webhookEvent and X-Atlassian-Webhook-Identifier', () => {
    const received = receive(toBody(cloudPayload('issue-created-acme-101')), {
      'x-atlassian-webhook-identifier': '6a1b53c4-8d1e-4a1c-9b0a-2f4c6e8a0b12',
      'x-atlassian-webhook-retry': '1',
    });
    expect(received).toEqual({ event: 'jira:issue_created', deliveryId: '6a1b53c4-8d1e-4a1c-9b0a-2f4c6e8a0b12' });
  });

  it('leaves the delivery id out when Jira sends none, so the body hash dedupes it', () => {
    expect(receive(toBody(dataCenterPayload()))).toEqual({ event: 'jira:issue_updated' });
  });

  it.each(CLOUD_HISTORY.map((name) => [name]))('accepts the fixture %s', (name) => {
    expect(() => receive(toBody(cloudPayload(name)))).not.toThrow();
  });

  it('accepts events it does not index, to record them as ignored', () => {
    expect(receive(toBody({ timestamp: 1709283600000, webhookEvent: 'worklog_created', worklog: {} }))).toEqual({ event: 'worklog_created' });
  });

  it.each(JIRA_REAL_SHAPES.map((name) => [name]))('accepts %s, the shape a real server or integration sends', (name) => {
    expect(() => receive(toBody(jiraFixture(name)))).not.toThrow();
  });

  it('accepts a payload without webhookEvent under a placeholder event, for processing to ignore with its reason', () => {
    const payload = cloudPayload('issue-created-acme-101');
    delete payload.webhookEvent;
    expect(receive(toBody(payload))).toEqual({ event: UNNAMED_JIRA_EVENT });
  });

  it('stores a webhookEvent that is not an event name under the short placeholder, so no delivery record outgrows DynamoDB items', () => {
    for (const webhookEvent of ['x'.repeat(236_597), 'jira:issue_updated\u0000', '<script>', 42, '']) {
      const payload = cloudPayload('issue-created-acme-101');
      payload.webhookEvent = webhookEvent;
      expect(receive(toBody(payload))).toEqual({ event: UNNAMED_JIRA_EVENT });
    }
  });

  it.each([
    ['a timestamp beyond the range of a date', (p: any) => (p.timestamp = 1.2345678901234568e29)],
    ['an issue without a key', (p: any) => delete p.issue.key],
    ['an issue without fields', (p: any) => delete p.issue.fields],
    ['an issue_updated without an issue', (p: any) => delete p.issue],
  ])('accepts %s: only processing judges the content', (_, change) => {
    const payload = cloudPayload('issue-updated-acme-101-in-progress');
    change(payload);
    expect(receive(toBody(payload))).toEqual({ event: 'jira:issue_updated' });
  });

  it.each([
    ['is not JSON', '{"webhookEvent": "jira:issue_created"', /not valid JSON/],
    ['is empty (the webhook excludes the body)', '', /Exclude body/],
    ['is an array', '[1]', /an array/],
    ['is null', 'null', /null/],
  ])('refuses a body that %s with 400', (_, body, message) => {
    expect(() => receive(body)).toThrow(MalformedPayloadError);
    expect(() => receive(body)).toThrow(message);
  });

  it('refuses a body that is not UTF-8', () => {
    expect(() => receive(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(/UTF-8/);
  });

  it('refuses a content type other than JSON with 415', () => {
    expect(() => receive('{}', { 'content-type': 'application/x-www-form-urlencoded' })).toThrow(UnsupportedMediaTypeError);
  });
});

describe('jira connection settings', () => {
  it('takes the site as a host and defaults to signed deliveries without rules', () => {
    expect(JiraSettings.parse({ site: 'https://Acme.atlassian.net/' })).toEqual({
      site: 'acme.atlassian.net',
      auth: 'hmac',
      statusRules: {},
      priorityRules: {},
      categoryRules: [],
      customFields: {},
    });
  });

  it.each([{}, { site: '' }, { site: 'not a host' }, { site: 'acme.atlassian.net', auth: 'none' }])('refuses %j', (settings) => {
    expect(JiraSettings.safeParse(settings).success).toBe(false);
  });

  it('validates rules and custom field mappings', () => {
    const valid = {
      site: 'acme.atlassian.net',
      statusRules: { 'Ready for QA': 'in_review' },
      priorityRules: { 'Sev 1': 'urgent' },
      categoryRules: [{ category: 'operational', projects: ['OPS'] }],
      customFields: { customfield_10016: 'storyPoints' },
    };
    expect(JiraSettings.safeParse(valid).success).toBe(true);
    expect(JiraSettings.safeParse({ ...valid, statusRules: { Doing: 'doing' } }).success).toBe(false);
    expect(JiraSettings.safeParse({ ...valid, customFields: { story_points: 'storyPoints' } }).success).toBe(false);
    expect(JiraSettings.safeParse({ ...valid, customFields: { customfield_1: 'velocity' } }).success).toBe(false);
    expect(JiraSettings.safeParse({ ...valid, categoryRules: [{ category: 'project' }] }).success).toBe(false);
  });
});
