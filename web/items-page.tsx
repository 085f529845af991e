import { Category, Source, StatusCategory, type WorkItem } from '../core/work-item.ts';
import { personName } from '../core/item-context.ts';
import { SOURCE_NAMES, StatusPill, Time, itemPath, shortRef } from './format.tsx';
import { Layout } from './layout.tsx';

export interface ItemsQuery {
  q?: string;
  source?: string;
  status?: string;
  category?: string;
  owner?: string;
  container?: string;
  label?: string;
}

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
 * `/items`: the items of every tool, filtered on the server, 50 a page; with `q`, what the search
 * box found (by key, `owner/repo#12` or title words). The data is the API's `GET /v1/items`.
 */
export const ItemsPage = (props: { items: (WorkItem & { blocked?: boolean })[]; query: ItemsQuery; nextCursor: string | null; now: Date; error?: string }) => {
  const { query, now } = props;
  const next = new URLSearchParams(Object.entries(query).filter(([, v]) => v) as [string, string][]);
  if (props.nextCursor) next.set('cursor', props.nextCursor);
  return (
    <Layout title={query.q ? `Search: ${query.q}` : 'Items'} signedIn query={query.q}>
      <h1>{query.q ? `Items matching “${query.q}”` : 'Items'}</h1>
      <form class="filters" method="get" action="/items">
        <label>
          search
          <input name="q" type="search" value={query.q ?? ''} placeholder="ACME-42, octo/api#12, words" />
        </label>
        <Select name="source" values={Source.options} selected={query.source} />
        <Select name="status" values={StatusCategory.options} selected={query.status} />
        <Select name="category" values={Category.options} selected={query.category} />
        <label>
          owner
          <input name="owner" value={query.owner ?? ''} placeholder="github:login or email" />
        </label>
        <label>
          container
          <input name="container" value={query.container ?? ''} placeholder="github:octo/api" />
        </label>
        <label>
          label
          <input name="label" value={query.label ?? ''} />
        </label>
        <button type="submit">Filter</button>
      </form>
      {props.error ? (
        <p role="alert" class="error">
          {props.error}
        </p>
      ) : null}
      <table aria-label="items">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Status</th>
            <th scope="col" class="optional">
              Owners
            </th>
            <th scope="col" class="optional">
              Team
            </th>
            <th scope="col" class="optional">
              Last change
            </th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((item) => (
            <tr data-ref={item.ref}>
              <td>
                <span class="source">{SOURCE_NAMES[item.source]} </span>
                <a href={itemPath(item.id)}>{item.title}</a>
                <br />
                <small>
                  {shortRef(item.ref)}
                  {item.blocked ? ' · blocked' : ''}
                </small>
              </td>
              <td>
                <StatusPill status={item.status} />
              </td>
              <td class="optional">{item.owners.map(personName).join(', ')}</td>
              <td class="optional">{item.team ?? ''}</td>
              <td class="optional">
                <Time at={item.updatedAt} now={now} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.items.length === 0 ? <p>No items match.</p> : null}
      {props.nextCursor ? <a href={`/items?${next.toString()}`}>Next page</a> : null}
    </Layout>
  );
};
