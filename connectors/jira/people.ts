import { personIdFor } from '../../core/ids.ts';
import type { Person } from '../../core/work-item.ts';
import type { JiraUser } from './payload-schemas.ts';

/**
 * A Jira account as a person, or undefined for a user without any id (anonymous). Cloud users are
 * identified by `accountId`; Data Center users by `key` (immutable, so it makes the person id) and
 * `name` (the username people type, so it is the handle).
 */
export function personOfJiraUser(user: JiraUser | null | undefined): Person | undefined {
  if (!user) return undefined;
  const id = user.accountId ?? user.key ?? user.name;
  if (!id) return undefined;
  const handle = user.accountId ?? user.name ?? id;
  return {
    id: personIdFor(`jira:${id}`),
    ...(user.displayName ? { name: user.displayName } : {}),
    handles: [{ source: 'jira', handle, externalId: id, ...(user.self ? { url: user.self } : {}) }],
    emails: user.emailAddress ? [user.emailAddress] : [],
    // Atlassian verifies the address of an Atlassian account (Cloud: accountId, type `atlassian`);
    // Data Center addresses are typed in by administrators, and app or customer accounts are not people's.
    ...(user.emailAddress && user.accountId && (user.accountType ?? 'atlassian') === 'atlassian'
      ? { verifiedEmails: [user.emailAddress.toLowerCase()] }
      : {}),
  };
}
