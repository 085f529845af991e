import type { Child } from 'hono/jsx';
import type { Summary } from '../core/aggregates.ts';
import type { Dependencies } from '../core/dependencies.ts';
import { Category, Source, StatusCategory, type WorkItem } from '../core/work-item.ts';
import type { Workload } from '../core/views.ts';
import type { BlockedChain } from '../core/blocked-chains.ts';
import { BlockedChains } from './blocked-chains.tsx';

/**
 * The leaders' dashboard: server-rendered pages, readable without JavaScript, on a laptop or a
 * phone. Every value goes through hono/jsx, which escapes text and attributes: titles and bodies
 * come from the tools and are attacker-controlled.
 */

const CSS = `
*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa;line-height:1.45}
header{background:#24292f;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff;text-decoration:none}header strong{margin-right:auto}
main{max-width:72rem;margin:0 auto;padding:1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.75rem}
.card b{display:block;font-size:1.6rem}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #d0d7de;vertical-align:top}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}form.filters label{display:flex;flex-direction:column;font-size:.85rem}
input,select,button{font:inherit;padding:.3rem}
.status{font-size:.8rem;padding:.1rem .4rem;border-radius:1rem;background:#eaeef2;white-space:nowrap}
svg{max-width:100%;height:auto}ol.chains li{margin:.3rem 0}
@media (max-width:40rem){td.optional,th.optional{display:none}main{padding:.5rem}}
`;

export const Layout = (props: { title: string; signedIn: boolean; children?: Child }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{props.title} · Tributary</title>
      <style>{CSS}</style>
    </head>
    <body>
      <header>
        <strong>Tributary</strong>
        {props.signedIn ? (
          <>
            <a href="/">Overview</a>
            <a href="/items">Items</a>
            <a href="/alerts">Alerts</a>
            <a href="/people">People</a>
            <form method="post" action="/logout" style="margin:0">
              <button type="submit">Sign out</button>
            </form>
          </>
        ) : null}
      </header>
      <main>{props.children}</main>
    </body>
  </html>
);

export const LoginPage = (props: { publicUrl: string; error?: string }) => (
  <Layout title="Sign in" signedIn={false}>
    <h1>Sign in</h1>
    <p>One cross-tool work index, fed by webhooks from GitHub, Jira and email. Paste a tenant token to see its work.</p>
    {props.error ? <p role="alert" style="color:#cf222e">{props.error}</p> : null}
    <form method="post" action="/login">
      <label>
        Token <input type="password" name="token" autocomplete="off" required style="width:100%;max-width:30rem" />
      </label>{' '}
      <button type="submit">Sign in</button>
    </form>
    <ul>
      <li>
        API reference: <a href="/openapi.json">/openapi.json</a>
      </li>
      <li>
        Work items: <code>GET {props.publicUrl}/v1/items</code> with <code>Authorization: Bearer &lt;token&gt;</code>
      </li>
      <li>
        Webhooks: <code>{props.publicUrl}/hooks/&lt;source&gt;/&lt;connectionId&gt;</code>
      </li>
    </ul>
  </Layout>
);

/** Horizontal bars, inline SVG: label, bar, count. */
const BarChart = (props: { title: string; rows: { label: string; value: number; color: string }[] }) => {
  const max = Math.max(1, ...props.rows.map((r) => r.value));
  const height = props.rows.length * 28 + 8;
  return (
    <svg viewBox={`0 0 420 ${height}`} role="img" aria-label={props.title} width="420" height={height}>
      {props.rows.map((row, i) => (
        <g transform={`translate(0 ${i * 28 + 4})`}>
          <text x="0" y="16" font-size="13">
            {row.label}
          </text>
          <rect x="110" y="3" height="18" width={Math.round((row.value / max) * 260)} fill={row.color} rx="3" />
          <text x={116 + Math.round((row.value / max) * 260)} y="16" font-size="13">
            {String(row.value)}
          </text>
        </g>
      ))}
    </svg>
  );
};

const CATEGORY_COLORS: Record<Category, string> = { project: '#0969da', operational: '#bf8700', request: '#8250df' };

export const OverviewPage = (props: { summary: Summary; workload: Workload; chains?: readonly BlockedChain[] }) => {
  const { summary, workload } = props;
  const cards: [string, number | string][] = [
    ['Open', summary.open],
    ['Blocked', summary.blocked],
    ['Stale', summary.stale],
    ['Unowned', summary.unowned],
    ['Unplanned', `${Math.round(summary.unplannedShare * 100)}%`],
    ['Created (7 d)', summary.createdVsClosed.last7Days.created],
    ['Closed (7 d)', summary.createdVsClosed.last7Days.closed],
  ];
  return (
    <Layout title="Overview" signedIn>
      <h1>Overview</h1>
      <section class="cards" aria-label="summary">
        {cards.map(([label, value]) => (
          <div class="card" data-metric={label}>
            {label}
            <b>{String(value)}</b>
          </div>
        ))}
      </section>
      {props.chains ? <BlockedChains chains={props.chains} /> : null}
      <h2>Work mix (open)</h2>
      <BarChart
        title="Open work by category"
        rows={Category.options.map((c) => ({ label: c, value: summary.openByCategory[c] ?? 0, color: CATEGORY_COLORS[c] }))}
      />
      <h2>By status</h2>
      <BarChart title="Items by status" rows={StatusCategory.options.map((s) => ({ label: s, value: summary.byStatus[s] ?? 0, color: '#57606a' }))} />
      <h2>Workload</h2>
      <table>
        <thead>
          <tr>
            <th>Team</th>
            <th>WIP</th>
            <th>Limit</th>
          </tr>
        </thead>
        <tbody>
          {workload.teams.map((t) => (
            <tr>
              <td>{t.team}</td>
              <td>{String(t.wip)}</td>
              <td>{t.limit === null ? '—' : `${t.limit}${t.overLimit ? ' (over)' : ''}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
};

export interface ItemsQuery {
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

const itemLink = (id: string) => `/items/${encodeURIComponent(id)}`;

export const ItemsPage = (props: { items: WorkItem[]; query: ItemsQuery; nextCursor: string | null; error?: string }) => {
  const { query } = props;
  const next = new URLSearchParams(Object.entries(query).filter(([, v]) => v) as [string, string][]);
  if (props.nextCursor) next.set('cursor', props.nextCursor);
  return (
    <Layout title="Items" signedIn>
      <h1>Items</h1>
      <form class="filters" method="get" action="/items">
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
      {props.error ? <p role="alert">{props.error}</p> : null}
      <table>
        <thead>
          <tr>
            <th>Item</th>
            <th>Status</th>
            <th class="optional">Owners</th>
            <th class="optional">Team</th>
            <th class="optional">Updated</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((item) => (
            <tr data-ref={item.ref}>
              <td>
                <a href={itemLink(item.id)}>{item.title}</a>
                <br />
                <small>{item.ref}</small>
              </td>
              <td>
                <span class="status">{item.status.category}</span>
              </td>
              <td class="optional">{item.owners.map((o) => o.name ?? o.handles[0]?.handle ?? o.id).join(', ')}</td>
              <td class="optional">{item.team ?? ''}</td>
              <td class="optional">{item.updatedAt.slice(0, 10)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.items.length === 0 ? <p>No items match.</p> : null}
      {props.nextCursor ? <a href={`/items?${next.toString()}`}>Next page</a> : null}
    </Layout>
  );
};

/** The item in the middle, what it waits on to the left, what waits on it to the right. */
const DependencyGraph = (props: { item: WorkItem; dependencies: Dependencies }) => {
  const { upstream, downstream } = props.dependencies;
  const rows = Math.max(1, upstream.length, downstream.length);
  const height = rows * 60 + 20;
  const y = (i: number, n: number) => 10 + (height - 20) * ((i + 0.5) / Math.max(1, n));
  const label = (text: string) => (text.length > 26 ? `${text.slice(0, 25)}…` : text);
  const node = (x: number, cy: number, text: string, href: string | undefined, kind: string) => (
    <a href={href}>
      <g data-node={kind}>
        <rect x={x} y={cy - 18} width="200" height="36" rx="6" fill={kind === 'self' ? '#ddf4ff' : '#fff'} stroke="#57606a" />
        <text x={x + 8} y={cy + 5} font-size="12">
          {label(text)}
        </text>
      </g>
    </a>
  );
  return (
    <svg viewBox={`0 0 760 ${height}`} width="760" height={height} role="img" aria-label="dependency graph">
      {upstream.map((u, i) => (
        <line x1="210" y1={y(i, upstream.length)} x2="280" y2={height / 2} stroke="#cf222e" stroke-width="2" />
      ))}
      {downstream.map((d, i) => (
        <line x1="480" y1={height / 2} x2="550" y2={y(i, downstream.length)} stroke="#bf8700" stroke-width="2" />
      ))}
      {upstream.map((u, i) => node(10, y(i, upstream.length), u.title ?? u.ref, u.indexed ? itemLink(u.id) : undefined, 'upstream'))}
      {node(280, height / 2, props.item.title, undefined, 'self')}
      {downstream.map((d, i) => node(550, y(i, downstream.length), d.title ?? d.ref, d.indexed ? itemLink(d.id) : undefined, 'downstream'))}
    </svg>
  );
};

export const ItemPage = (props: { item: WorkItem; dependencies: Dependencies }) => {
  const { item } = props;
  return (
    <Layout title={item.title} signedIn>
      <h1>{item.title}</h1>
      <p>
        <span class="status">{item.status.category}</span> {item.ref}{' '}
        {item.url ? (
          <a href={item.url} rel="noreferrer">
            open in {item.source}
          </a>
        ) : null}
      </p>
      <table>
        <tbody>
          <tr>
            <th>Kind</th>
            <td>
              {item.kind} · {item.category}
            </td>
          </tr>
          <tr>
            <th>Owners</th>
            <td>{item.owners.map((o) => o.name ?? o.handles[0]?.handle ?? o.id).join(', ') || 'nobody'}</td>
          </tr>
          <tr>
            <th>Team</th>
            <td>{item.team ?? '—'}</td>
          </tr>
          <tr>
            <th>Labels</th>
            <td>{item.labels.join(', ')}</td>
          </tr>
          <tr>
            <th>Updated</th>
            <td>{item.updatedAt}</td>
          </tr>
        </tbody>
      </table>
      <h2>Dependencies</h2>
      <p>
        Waits on {props.dependencies.upstream.length}; {props.dependencies.downstream.length} wait on it.
      </p>
      <DependencyGraph item={item} dependencies={props.dependencies} />
    </Layout>
  );
};

export const PeoplePage = (props: { people: { id: string; name?: string; handles: { source: string; handle: string }[]; emails: string[]; merged: string[] }[] }) => (
  <Layout title="People" signedIn>
    <h1>People</h1>
    <table>
      <thead>
        <tr>
          <th>Person</th>
          <th>Accounts</th>
          <th class="optional">Emails</th>
        </tr>
      </thead>
      <tbody>
        {props.people.map((p) => (
          <tr>
            <td>
              {p.name ?? p.handles[0]?.handle ?? p.id}
              <br />
              <small>{p.id}</small>
            </td>
            <td>{p.handles.map((h) => `${h.source}:${h.handle}`).join(', ')}</td>
            <td class="optional">{p.emails.join(', ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </Layout>
);
