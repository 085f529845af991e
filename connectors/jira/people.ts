import { personIdFor } from '../../core/ids.ts';
import type { Person } from '../../core/work-item.ts';
import type { JiraUser } from './payload-schemas.ts';

/**
 * The ids a user's REST `self` URL names (`…/rest/api/2/user?username=jdoe`, `?key=JIRAUSER10100`,
 * `?accountId=5b10…`): old servers and restricted profiles send a user as little more than that URL.
 */
const idsOfSelf = (self: string | null | undefined): Pick<JiraUser, 'accountId' | 'key' | 'name'> => {
  if (!self) return {};
  let params: URLSearchParams;
  try {
    params = new URL(self).searchParams;
  } catch {
    return {};
  }
  const value = (name: string) => params.get(name)?.trim() || undefined;
  return { accountId: value('accountId'), key: value('key'), name: value('username') };
};

/**
 * A Jira account as a person, or undefined for a user without any id (anonymous). Cloud users are
 * identified by `accountId`; Data Center users by `key` (immutable, so it makes the person id) and
 * `name` (the username people type, so it is the handle); a user that carries none of them is
 * identified by the ones its `self` URL names.
 */
export function personOfJiraUser(user: JiraUser | null | undefined): Person | undefined {
  if (!user) return undefined;
  const named = user.accountId || user.key || user.name ? user : { ...user, ...idsOfSelf(user.self) };
  const id = named.accountId || named.key || named.name;
  if (!id) return undefined;
  const handle = named.accountId || named.name || id;
  return {
    id: personIdFor(`jira:${id}`),
    ...(user.displayName ? { name: user.displayName } : {}),
    handles: [{ source: 'jira', handle, externalId: id, ...(user.self ? { url: user.self } : {}) }],
    emails: user.emailAddress ? [user.emailAddress] : [],
    // Atlassian verifies the address of an Atlassian account (Cloud: accountId, type `atlassian`);
    // Data Center addresses are typed in by administrators, and app or customer accounts are not people's.
    ...(user.emailAddress && named.accountId && (user.accountType ?? 'atlassian') === 'atlassian'
      ? { verifiedEmails: [user.emailAddress.toLowerCase()] }
      : {}),
  };
}
