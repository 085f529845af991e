import { type Alert, AlertKind, AlertState } from '../core/alerts.ts';
import { kindName } from './alert-list.tsx';
import { Time, itemPath, teamPath } from './format.tsx';
import { Layout } from './layout.tsx';

export interface AlertsQuery {
  state?: string;
  kind?: string;
  team?: string;
}

const itemLink = itemPath;

const Select = (props: { name: string; values: readonly string[]; selected?: string }) => (
  <label>
    {props.name}
    <select name={props.name}>
      <option value="">any</option>
      {props.values.map((v) => (
        <option value={v} selected={v === props.selected}>
          {v}
        </option>
      ))}
    </select>
  </label>
);

/**
 * `/alerts`: the tenant's alerts, newest first, filtered on the server (state, kind, team), each
 * with its message and links to the items it names. Messages and titles come from the tools and are
 * escaped by hono/jsx.
 */
export const AlertsPage = (props: { alerts: Alert[]; query: AlertsQuery; nextCursor: string | null; now: Date; error?: string }) => {
  const { query } = props;
  const next = new URLSearchParams(Object.entries(query).filter(([, v]) => v) as [string, string][]);
  if (props.nextCursor) next.set('cursor', props.nextCursor);
  return (
    <Layout title="Alerts" signedIn>
      <h1>Alerts</h1>
      <form class="filters" method="get" action="/alerts">
        <Select name="state" values={AlertState.options} selected={query.state} />
        <Select name="kind" values={AlertKind.options} selected={query.kind} />
        <label>
          team
          <input name="team" value={query.team ?? ''} />
        </label>
        <button type="submit">Filter</button>
      </form>
      {props.error ? (
        <p role="alert" class="error">
          {props.error}
        </p>
      ) : null}
      <table aria-label="alerts">
        <thead>
          <tr>
            <th scope="col">Alert</th>
            <th scope="col">Items</th>
            <th scope="col" class="optional">
              Team
            </th>
            <th scope="col" class="optional">
              Opened
            </th>
          </tr>
        </thead>
        <tbody>
          {props.alerts.map((alert) => (
            <tr data-alert={alert.id} data-kind={alert.kind} data-state={alert.state}>
              <td>
                <span class={`status ${alert.state === 'open' ? alert.severity : 'done'}`}>{alert.state === 'open' ? alert.severity : 'resolved'}</span> <b>{kindName(alert.kind)}</b>
                <br />
                {alert.message}
              </td>
              <td>
                <a href={itemLink(alert.subject.id)} data-role="subject">
                  {alert.subject.title ?? alert.subject.ref}
                </a>
                {alert.related.map((r) => (
                  <>
                    <br />
                    <a href={itemLink(r.id)} data-role="related">
                      {r.title ?? r.ref}
                    </a>
                  </>
                ))}
              </td>
              <td class="optional">{alert.team ? <a href={teamPath(alert.team)}>{alert.team}</a> : ''}</td>
              <td class="optional">
                <Time at={alert.openedAt} now={props.now} />
                {alert.resolvedAt ? (
                  <>
                    <br />
                    <small>
                      <Time at={alert.resolvedAt} now={props.now} prefix="resolved " />
                    </small>
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.alerts.length === 0 ? <p>No alerts match.</p> : null}
      {props.nextCursor ? <a href={`/alerts?${next.toString()}`}>Next page</a> : null}
    </Layout>
  );
};
