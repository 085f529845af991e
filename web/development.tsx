import type { Development } from '../core/work-item.ts';
import { Time, exactTime, safeHref } from './format.tsx';

const Linked = (props: { href: string | undefined; children: string }) => {
  const href = safeHref(props.href);
  return href ? (
    <a href={href} rel="noreferrer">
      {props.children}
    </a>
  ) : (
    <>{props.children}</>
  );
};

/** As people read it ("6 hours ago", exact on hover); the exact time when no `now` is given. */
const When = (props: { at: string; now: Date | undefined }) =>
  props.now ? <Time at={props.at} now={props.now} /> : <time datetime={props.at}>{exactTime(props.at)}</time>;

/**
 * The item page's development section, like Jira's development panel: the branches named after the
 * item and the commits whose message names it, newest first. Text from the tools goes through
 * hono/jsx, which escapes it. Nothing when no push or branch named the item.
 */
export const DevelopmentSection = (props: { development: Development | undefined; now?: Date }) => {
  const { development } = props;
  if (!development || (development.commits.length === 0 && development.branches.length === 0)) return null;
  return (
    <section aria-label="development" data-section="development">
      <h2>Development</h2>
      {development.branches.length > 0 ? (
        <ul class="branches">
          {development.branches.map((branch) => (
            <li data-deleted={branch.deleted ? 'true' : undefined}>
              {branch.deleted ? <s>{branch.name}</s> : <Linked href={branch.url}>{branch.name}</Linked>} in {branch.repository}
              {branch.deleted ? ' (deleted)' : ''} · <When at={branch.at} now={props.now} />
            </li>
          ))}
        </ul>
      ) : null}
      {development.commits.length > 0 ? (
        <table class="commits">
          <thead>
            <tr>
              <th>Commit</th>
              <th>Message</th>
              <th class="optional">Author</th>
              <th class="optional">When</th>
            </tr>
          </thead>
          <tbody>
            {development.commits.map((commit) => (
              <tr>
                <td>
                  <code>
                    <Linked href={commit.url}>{commit.sha.slice(0, 7)}</Linked>
                  </code>
                </td>
                <td>
                  {commit.message}
                  {commit.branches.length > 0 ? <small> ({commit.branches.join(', ')})</small> : null}
                </td>
                <td class="optional">{commit.author.name ?? commit.author.login ?? '—'}</td>
                <td class="optional">
                  <When at={commit.at} now={props.now} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
};
