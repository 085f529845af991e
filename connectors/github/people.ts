import { personIdFor } from '../../core/ids.ts';
import type { Person } from '../../core/work-item.ts';
import type { GithubUser } from './payload-schemas.ts';

/** A GitHub account as a person; the id derives from GitHub's immutable user id, not the login. */
export function personOfGithubUser(user: GithubUser): Person {
  return {
    id: personIdFor(`github:${user.id}`),
    ...(user.name ? { name: user.name } : {}),
    handles: [
      {
        source: 'github',
        handle: user.login,
        externalId: String(user.id),
        ...(user.html_url ? { url: user.html_url } : {}),
      },
    ],
    emails: user.email ? [user.email] : [],
    // A user object's `email` is the public profile address, which GitHub only lets a user pick
    // among the addresses they verified (Settings → Emails); commit author emails are never used.
    ...(user.email ? { verifiedEmails: [user.email.toLowerCase()] } : {}),
  };
}

/** The assignees of an item; older payloads only carry the single `assignee`. */
export function ownersOf(item: { assignee?: GithubUser | null; assignees?: GithubUser[] | null }): Person[] {
  const users = item.assignees?.length ? item.assignees : item.assignee ? [item.assignee] : [];
  const byId = new Map(users.map((user) => [user.id, user]));
  return [...byId.values()].map(personOfGithubUser);
}
