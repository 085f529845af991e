import type { Normalized } from '../../core/changes.ts';
import type { Connector } from '../../core/connector.ts';
import { jiraBackfill } from './backfill.ts';
import { normalizeJiraDelivery } from './normalize.ts';
import { receiveJiraDelivery } from './receive.ts';
import { JiraSettings } from './settings.ts';
import { verifyJiraRequest } from './verify.ts';

/**
 * Jira Cloud and Data Center admin webhooks (with a secret; or Basic credentials on Data Center
 * versions without one) for issues, issue links and comments. A connection names its `site`; see
 * docs/jira.md for the settings.
 */
export const jira: Connector<JiraSettings, Normalized> = {
  source: 'jira',
  settings: JiraSettings,
  secretHeaders: ['x-hub-signature', 'authorization'],
  verify: verifyJiraRequest,
  receive: receiveJiraDelivery,
  normalize: normalizeJiraDelivery,
  secretSettings: ['credentials.apiToken', 'credentials.bearer'],
  backfill: jiraBackfill,
};

export { normalizeJiraDelivery, SUPPORTED_JIRA_EVENTS } from './normalize.ts';
export { receiveJiraDelivery } from './receive.ts';
export { JiraSettings } from './settings.ts';
export { verifyJiraRequest } from './verify.ts';
