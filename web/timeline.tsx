import type { TimelineEvent } from '../core/item-context.ts';
import { Time, itemPath, shortRef } from './format.tsx';

/**
 * An item's timeline, newest first, from the durable per-subject event log: created, status
 * changes, assignments, links added and removed, alerts raised and resolved. Event data comes from
 * the tools (escaped by hono/jsx) and is read defensively: an event of a newer schema still shows
 * its type and time.
 */

type Data = Record<string, any>;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const names = (people: unknown): string =>
  Array.isArray(people) ? people.map((p: Data) => text(p?.name) ?? text(p?.handles?.[0]?.handle) ?? text(p?.id) ?? '?').join(', ') : '';

const LINK_WORDS: Record<string, string> = {
  blocks: 'blocks',
  blocked_by: 'blocked by',
  parent: 'parent of',
  child: 'child of',
  relates: 'relates to',
  duplicates: 'duplicates',
  implements: 'implements',
  implemented_by: 'implemented by',
  mentions: 'mentions',
};

const Describe = (props: { event: TimelineEvent }) => {
  const { type } = props.event;
  const data = props.event.data as Data;
  switch (type) {
    case 'work.item.created':
      return <>Created{text(data.item?.status?.name) ? <> as {data.item.status.name}</> : null}</>;
    case 'work.item.status_changed':
      return (
        <>
          Status {text(data.from?.name) ?? '?'} → <b>{text(data.to?.name) ?? '?'}</b>
        </>
      );
    case 'work.item.closed':
      return <>Closed ({text(data.resolution?.name) ?? 'done'})</>;
    case 'work.item.reopened':
      return <>Reopened</>;
    case 'work.item.assigned': {
      const added = names(data.added);
      const removed = names(data.removed);
      return (
        <>
          {added ? `Assigned to ${added}` : ''}
          {added && removed ? '; ' : ''}
          {removed ? `unassigned ${removed}` : ''}
        </>
      );
    }
    case 'work.item.updated':
      return <>Changed {Object.keys((data.changes as Data | undefined) ?? {}).join(', ') || 'fields'}</>;
    case 'work.item.deleted':
      return <>Deleted ({text(data.tombstone?.reason) ?? 'deleted'})</>;
    case 'work.link.added':
    case 'work.link.removed': {
      const target = text(data.link?.target);
      const targetId = text(data.targetId);
      const words = LINK_WORDS[text(data.link?.type) ?? ''] ?? 'linked to';
      return (
        <>
          {type === 'work.link.added' ? 'Link added: ' : 'Link removed: '}
          {words} {target && targetId ? <a href={itemPath(targetId)}>{shortRef(target)}</a> : (target ?? '?')}
        </>
      );
    }
    case 'work.alert.raised':
    case 'work.alert.resolved':
      return (
        <>
          {type === 'work.alert.raised' ? 'Alert raised' : 'Alert resolved'}: <b>{text(data.alert?.kind) ?? '?'}</b>
          {text(data.alert?.message) ? <> — {data.alert.message}</> : null}
        </>
      );
    default:
      return <>{type}</>;
  }
};

export const Timeline = (props: { events: readonly TimelineEvent[]; nextPage?: string; now: Date }) => (
  <section aria-labelledby="timeline-h" data-section="timeline">
    <h2 id="timeline-h">Timeline</h2>
    {props.events.length === 0 ? (
      <p class="muted">No events recorded for this item yet.</p>
    ) : (
      <ol class="timeline">
        {props.events.map((event) => (
          <li data-event={event.type}>
            <Time at={event.time} now={props.now} /> · <Describe event={event} />
          </li>
        ))}
      </ol>
    )}
    {props.nextPage ? <a href={props.nextPage}>Older events</a> : null}
  </section>
);
