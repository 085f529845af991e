import type { Child } from 'hono/jsx';
import type { ChainNode, DependencyChain, ItemEntry, LinkedItem } from '../core/item-context.ts';
import { SOURCE_NAMES, Since, StatusPill, Time, itemPath, safeHref, shortRef } from './format.tsx';

/**
 * Items of any tool listed the same way: source, title (a link to its dashboard page), key, status
 * (a pull request's state, an email's answer), owner, team, last change, and a link to it in its
 * tool. Text from the tools goes through hono/jsx, which escapes it.
 */

const PR_STATES = { draft: 'draft', open: 'open', in_review: 'in review', merged: 'merged', closed: 'closed' } as const;
const ANSWERS = { answered: 'team answered', waiting: 'awaiting the team', closed: 'closed' } as const;

/** The state that matters for the item's kind: a PR's state, an email's answer, else its status. */
export const ItemState = (props: { item: ItemEntry }) => {
  const { item } = props;
  if (item.pullRequest) return <span class={`status ${item.pullRequest}`}>{PR_STATES[item.pullRequest]}</span>;
  if (item.request) return <span class={`status ${item.request.answer}`}>{ANSWERS[item.request.answer]}</span>;
  return item.status ? <StatusPill status={item.status} /> : <span class="status">not indexed</span>;
};

/** Title and key, linked to the item's dashboard page; its page in its tool beside it. */
export const ItemName = (props: { item: ItemEntry }) => {
  const { item } = props;
  const tool = safeHref(item.url);
  return (
    <>
      {item.source ? <span class="source">{SOURCE_NAMES[item.source]} </span> : null}
      <a href={itemPath(item.id)} data-ref={item.ref}>
        {item.title ?? item.ref}
      </a>
      <br />
      <small>
        {shortRef(item.ref)}
        {tool && item.source ? (
          <>
            {' · '}
            <a href={tool} rel="noreferrer">
              open in {SOURCE_NAMES[item.source]}
              <span class="visually-hidden">: {item.title ?? item.ref}</span>
            </a>
          </>
        ) : null}
      </small>
    </>
  );
};

const owners = (item: ItemEntry) => (item.owners.length > 0 ? item.owners.join(', ') : item.indexed ? 'unowned' : '—');

/** Who an entry is for: an email request's requester, else the item's owners. */
const ownerOrRequester = (item: ItemEntry) => (item.request ? (item.request.requester ?? '—') : owners(item));

/** The column's name for what the entries hold: requesters, owners, or both (an issue and an email mentioning it). */
const personColumn = (items: readonly ItemEntry[]) => {
  const requests = items.filter((i) => i.request).length;
  return requests === 0 ? 'Owner' : requests === items.length ? 'Requester' : 'Owner or requester';
};

/** A table of linked items. */
export const ItemTable = (props: { items: readonly ItemEntry[]; now: Date; label: string }) => (
  <table aria-label={props.label}>
    <thead>
      <tr>
        <th scope="col">Item</th>
        <th scope="col">State</th>
        <th scope="col" class="optional">
          {personColumn(props.items)}
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
        <tr data-item={item.id} data-source={item.source ?? ''}>
          <td>
            <ItemName item={item} />
          </td>
          <td>
            <ItemState item={item} />
          </td>
          <td class="optional">{ownerOrRequester(item)}</td>
          <td class="optional">{item.team ?? '—'}</td>
          <td class="optional">{item.updatedAt ? <Time at={item.updatedAt} now={props.now} /> : '—'}</td>
        </tr>
      ))}
    </tbody>
  </table>
);

/** A section of linked items, left out when there are none. */
export const LinkedSection = (props: { id: string; title: string; items: readonly LinkedItem[]; now: Date }) =>
  props.items.length === 0 ? null : (
    <section aria-labelledby={`${props.id}-h`} data-section={props.id}>
      <h2 id={`${props.id}-h`}>
        {props.title} <small>({props.items.length})</small>
      </h2>
      <ItemTable items={props.items} now={props.now} label={props.title} />
    </section>
  );

/** One node of a dependency chain: who, which team, and for how long it has held. */
const ChainEntry = (props: { node: ChainNode; now: Date; direction: 'up' | 'down' }) => {
  const { node, now } = props;
  return (
    <>
      <ItemName item={node} /> <ItemState item={node} />
      <br />
      <small>
        {owners(node)}
        {node.team ? ` · team ${node.team}` : ''}
        {node.blockedSince ? (
          <>
            {' · blocked '}
            <Since at={node.blockedSince} now={now} />
          </>
        ) : node.createdAt && node.root && props.direction === 'up' ? (
          <>
            {' · root blocker, open '}
            <Since at={node.createdAt} now={now} />
          </>
        ) : null}
        {node.updatedAt ? (
          <>
            {' · changed '}
            <Time at={node.updatedAt} now={now} />
          </>
        ) : null}
      </small>
    </>
  );
};

/**
 * A dependency chain as a nested list from the item: upstream, each item's own blockers under it,
 * down to the root blockers; downstream, what waits on each. An item met twice is listed once.
 */
export const ChainTree = (props: { chain: DependencyChain; itemId: string; direction: 'up' | 'down'; now: Date }) => {
  const { chain, direction } = props;
  const byId = new Map(chain.nodes.map((n) => [n.id, n]));
  const shown = new Set<string>();
  const childrenOf = (id: string) =>
    chain.edges
      .filter((e) => (direction === 'up' ? e.to === id : e.from === id))
      .map((e) => (direction === 'up' ? e.from : e.to))
      .filter((other) => byId.has(other));
  const level = (id: string, top: boolean): Child => {
    const next = childrenOf(id).filter((c) => !shown.has(c));
    if (next.length === 0) return null;
    for (const c of next) shown.add(c);
    return (
      <ul class={top ? 'tree' : undefined}>
        {next.map((c) => (
          <li data-chain-node={c} data-depth={String(byId.get(c)!.depth)} data-root={byId.get(c)!.root ? 'true' : undefined}>
            <ChainEntry node={byId.get(c)!} now={props.now} direction={direction} />
            {level(c, false)}
          </li>
        ))}
      </ul>
    );
  };
  shown.add(props.itemId);
  return (
    <div data-chain={direction}>
      {level(props.itemId, true)}
      {chain.truncated ? <p class="muted">More lies beyond: the chain was cut at its size limit.</p> : null}
    </div>
  );
};
