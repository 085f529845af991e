import type { TeamView } from '../core/team-view.ts';
import { Since, Time, teamPath } from './format.tsx';
import { Layout } from './layout.tsx';
import { ItemName, ItemState, ItemTable } from './linked-items.tsx';

/**
 * `/teams/{team}`: the team's work in progress against its limit, its blocked work with what
 * blocks it, what it waits on from other teams, and the requests waiting for its answer. The data
 * is the API's `GET /v1/views/team?team=`.
 */
export const TeamPage = (props: { view: TeamView; now: Date }) => {
  const { view, now } = props;
  const empty = view.wip.count === 0 && view.blocked.length === 0 && view.requests.length === 0;
  return (
    <Layout title={`Team ${view.team}`} signedIn>
      <h1>Team {view.team}</h1>
      <p class="headline">{view.headline}</p>
      {empty ? <p>No work in progress, blocked work or waiting requests for this team.</p> : null}
      <section aria-labelledby="wip-h" data-section="wip">
        <h2 id="wip-h">
          Work in progress: {view.wip.count}
          {view.wip.limit !== null ? ` of ${view.wip.limit}` : ''}
          {view.wip.overLimit ? ' (over the limit)' : ''}
        </h2>
        {view.wip.items.length > 0 ? <ItemTable items={view.wip.items} now={now} label="work in progress" /> : null}
      </section>
      <section aria-labelledby="blocked-h" data-section="blocked">
        <h2 id="blocked-h">Blocked: {view.blocked.length}</h2>
        {view.blocked.length === 0 ? (
          <p>Nothing of this team waits on open work.</p>
        ) : (
          <ul class="plain">
            {view.blocked.map(({ item, blockers }) => (
              <li data-item={item.id}>
                <ItemName item={item} /> <ItemState item={item} />
                {item.blockedSince ? (
                  <small>
                    {' '}
                    blocked <Since at={item.blockedSince} now={now} />
                  </small>
                ) : null}
                <ul class="tree">
                  {blockers.map((b) => (
                    <li>
                      waits on <ItemName item={b} /> <ItemState item={b} />{' '}
                      <small>
                        {b.owners.join(', ') || 'unowned'}
                        {b.team ? (
                          <>
                            {' · team '}
                            <a href={teamPath(b.team)}>{b.team}</a>
                          </>
                        ) : null}
                      </small>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="waits-h" data-section="waits-on">
        <h2 id="waits-h">Waits on other teams</h2>
        {view.waitsOn.length === 0 ? (
          <p>Nothing from other teams blocks this team.</p>
        ) : (
          view.waitsOn.map((group) => (
            <>
              <h3>
                From <a href={teamPath(group.team)}>{group.team}</a> ({group.items.length})
              </h3>
              <ItemTable items={group.items} now={now} label={`blockers from ${group.team}`} />
            </>
          ))
        )}
      </section>
      <section aria-labelledby="requests-h" data-section="requests">
        <h2 id="requests-h">Requests waiting for an answer: {view.requests.length}</h2>
        {view.requests.length === 0 ? (
          <p>No request waits for this team.</p>
        ) : (
          <ul class="plain">
            {view.requests.map((r) => (
              <li data-item={r.id}>
                <ItemName item={r} /> <small>from {r.request?.requester ?? 'unknown'}, waiting <Since at={r.waitingSince} now={now} /> (last message <Time at={r.waitingSince} now={now} />)</small>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Layout>
  );
};
