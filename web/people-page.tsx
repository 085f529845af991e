import { Layout } from './layout.tsx';

export interface PersonEntry {
  id: string;
  name?: string;
  handles: { source: string; handle: string }[];
  emails: string[];
  merged: string[];
}

/** `/people`: every person seen as an owner or requester, one identity across tools. The data is the API's `GET /v1/people`. */
export const PeoplePage = (props: { people: readonly PersonEntry[] }) => (
  <Layout title="People" signedIn>
    <h1>People</h1>
    <table aria-label="people">
      <thead>
        <tr>
          <th scope="col">Person</th>
          <th scope="col">Accounts</th>
          <th scope="col" class="optional">
            Emails
          </th>
        </tr>
      </thead>
      <tbody>
        {props.people.map((p) => (
          <tr data-person={p.id}>
            <td>
              {p.name ?? p.handles[0]?.handle ?? p.id}
              <br />
              <small>{p.id}</small>
            </td>
            <td>
              <ul class="plain">
                {p.handles.map((h) => (
                  <li>{`${h.source}:${h.handle}`}</li>
                ))}
              </ul>
            </td>
            <td class="optional">{p.emails.join(', ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
    {props.people.length === 0 ? <p>Nobody yet: people appear as owners and requesters of indexed work.</p> : null}
  </Layout>
);
