import type { ItemView } from '../core/item-context.ts';
import { itemEntryOf, personName } from '../core/item-context.ts';
import type { Dependencies } from '../core/dependencies.ts';
import { AlertList } from './alert-list.tsx';
import { DevelopmentSection } from './development.tsx';
import { SOURCE_NAMES, Since, StatusPill, Time, safeHref, shortRef, teamPath } from './format.tsx';
import { Layout } from './layout.tsx';
import { ChainTree, ItemState, LinkedSection } from './linked-items.tsx';
import { Timeline } from './timeline.tsx';

/**
 * What the item waits on (left), the item (middle) and what waits on it (right), drawn as a
 * picture only: the links to each item are in the lists below it, so the image holds no control.
 */
const DependencyGraph = (props: { title: string; dependencies: Dependencies }) => {
  const { upstream, downstream } = props.dependencies;
  const rows = Math.max(1, upstream.length, downstream.length);
  const height = rows * 60 + 20;
  const y = (i: number, n: number) => 10 + (height - 20) * ((i + 0.5) / Math.max(1, n));
  const label = (text: string) => (text.length > 26 ? `${text.slice(0, 25)}…` : text);
  const node = (x: number, cy: number, text: string, kind: string) => (
    <g data-node={kind}>
      <rect x={x} y={cy - 18} width="200" height="36" rx="6" fill={kind === 'self' ? '#ddf4ff' : '#ffffff'} stroke="#57606a" />
      <text x={x + 8} y={cy + 5} font-size="12" fill="#1f2328">
        {label(text)}
      </text>
    </g>
  );
  const description = `${props.title} waits on ${upstream.map((u) => u.title ?? u.ref).join(', ') || 'nothing'}; ${downstream.map((d) => d.title ?? d.ref).join(', ') || 'nothing'} waits on it.`;
  return (
    <svg viewBox={`0 0 760 ${height}`} width="760" height={height} role="img" aria-label="dependency graph" aria-describedby="dependency-graph-desc">
      <title>Dependency graph</title>
      <desc id="dependency-graph-desc">{description}</desc>
      {upstream.map((_, i) => (
        <line x1="210" y1={y(i, upstream.length)} x2="280" y2={height / 2} stroke="#cf222e" stroke-width="2" />
      ))}
      {downstream.map((_, i) => (
        <line x1="480" y1={height / 2} x2="550" y2={y(i, downstream.length)} stroke="#bf8700" stroke-width="2" />
      ))}
      {upstream.map((u, i) => node(10, y(i, upstream.length), u.title ?? u.ref, 'upstream'))}
      {node(280, height / 2, props.title, 'self')}
      {downstream.map((d, i) => node(550, y(i, downstream.length), d.title ?? d.ref, 'downstream'))}
    </svg>
  );
};

/**
 * `/items/{id}`: the item's whole story across tools — its own fields; what implements it and what
 * it implements; where it is mentioned; what blocks it and what it blocks, to the root blocker;
 * parent and children; its alerts; commits and branches; its timeline. The data is the API's
 * `GET /v1/items/{id}/context`.
 */
export const ItemPage = (props: { view: ItemView; now: Date; olderEvents?: string }) => {
  const { item, context, alerts, timeline } = props.view;
  const { now } = props;
  const tool = safeHref(item.url);
  const own = itemEntryOf(item.ref, item);
  const linked =
    context.implementedBy.length +
    context.implements.length +
    context.mentionedIn.length +
    context.mentions.length +
    context.related.length +
    context.parents.length +
    context.children.length +
    context.blockedBy.nodes.length +
    context.blocks.nodes.length;
  const fields: [string, unknown][] = [
    ['Kind', `${SOURCE_NAMES[item.source]} ${item.kind.replace('_', ' ')} · ${item.category}`],
    ['Owners', item.owners.map(personName).join(', ') || 'nobody'],
    ['Team', item.team ? <a href={teamPath(item.team)}>{item.team}</a> : '—'],
    ...(item.requester ? [['Requester', personName(item.requester)] as [string, unknown]] : []),
    ['Priority', item.priority.level === 'none' ? '—' : `${item.priority.level}${item.priority.name ? ` (${item.priority.name})` : ''}`],
    ['Labels', item.labels.join(', ') || '—'],
    ...(item.dueAt
      ? [['Due', <>
          <Time at={item.dueAt} now={now} />
          {Date.parse(item.dueAt) < now.getTime() && !['done', 'cancelled'].includes(item.status.category) ? ' (overdue)' : ''}
        </>] as [string, unknown]]
      : []),
    ['Created', <Time at={item.createdAt} now={now} />],
    ['Last change', <Time at={item.updatedAt} now={now} />],
    ...(item.blockedSince ? [['Blocked', <Since at={item.blockedSince} now={now} />] as [string, unknown]] : []),
  ];
  return (
    <Layout title={item.title} signedIn>
      <h1>{item.title}</h1>
      <p class="meta">
        {own.pullRequest ? <ItemState item={own} /> : <StatusPill status={item.status} />}
        {own.request ? <ItemState item={own} /> : null}
        <span>{shortRef(item.ref)}</span>
        {tool ? (
          <a href={tool} rel="noreferrer">
            open in {SOURCE_NAMES[item.source]}
          </a>
        ) : null}
      </p>
      <dl class="fields">
        {fields.map(([name, value]) => (
          <>
            <dt>{name}</dt>
            <dd>{value as never}</dd>
          </>
        ))}
      </dl>
      {alerts.length > 0 ? (
        <section aria-labelledby="alerts-h" data-section="alerts">
          <h2 id="alerts-h">Alerts</h2>
          <AlertList alerts={alerts} now={now} label="alerts of this item" />
        </section>
      ) : null}
      <LinkedSection id="implemented-by" title="Implemented by" items={context.implementedBy} now={now} />
      <LinkedSection id="implements" title="Implements" items={context.implements} now={now} />
      <LinkedSection id="mentioned-in" title="Mentioned in" items={context.mentionedIn} now={now} />
      <section aria-labelledby="dependencies-h" data-section="dependencies">
        <h2 id="dependencies-h">Dependencies</h2>
        <p>
          Waits on {item.dependencies.upstream.length}; {item.dependencies.downstream.length} wait on it.
        </p>
        {item.dependencies.upstream.length + item.dependencies.downstream.length > 0 ? (
          <DependencyGraph title={item.title} dependencies={item.dependencies} />
        ) : null}
        {context.blockedBy.nodes.length > 0 ? (
          <>
            <h3>Blocked by, to the root blocker</h3>
            <ChainTree chain={context.blockedBy} itemId={item.id} direction="up" now={now} />
          </>
        ) : null}
        {context.blocks.nodes.length > 0 ? (
          <>
            <h3>Blocks</h3>
            <ChainTree chain={context.blocks} itemId={item.id} direction="down" now={now} />
          </>
        ) : null}
      </section>
      <LinkedSection id="parent" title="Parent" items={context.parents} now={now} />
      <LinkedSection id="children" title="Children" items={context.children} now={now} />
      <LinkedSection id="mentions" title="Mentions" items={context.mentions} now={now} />
      <LinkedSection id="related" title="Related" items={context.related} now={now} />
      {linked === 0 ? <p class="muted">No other item links to this one, or is linked from it, yet.</p> : null}
      <DevelopmentSection development={item.development} now={now} />
      <Timeline events={timeline.events} now={now} nextPage={props.olderEvents} />
    </Layout>
  );
};
