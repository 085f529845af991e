import type { TimelineEntry } from '../core/item-context.ts';
import { exactTime, itemPath, relativeTime, shortRef } from './format.tsx';

/**
 * An item's timeline, newest first, from the durable per-subject event log: created, status
 * changes, assignments, commits and branches, links added and removed, alerts raised and resolved.
 * Each shows when its change happened in its tool where the event says it (`at`: a backfilled
 * item was created days before the hub saw it), else when the hub recorded it; the hover names
 * both. Event data comes from the tools (escaped by hono/jsx) and is read defensively: an event of
 * a newer schema still shows its type and time.
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

const count = (list: unknown): number => (Array.isArray(list) ? list.length : 0);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 'es'}`;

const Describe = (props: { event: TimelineEntry }) => {
  const { type } = props.event;
  const data = props.event.data as Data;
  switch (type) {
    case 'work.item.created': {
      const status = text(data.item?.status?.name);
      if (!status) return <>Created</>;
      // First seen later than created (a backfill, a first delivery that was an update): the status then, not at creation.
      const [created, updated] = [Date.parse(text(data.item?.createdAt) ?? ''), Date.parse(text(data.item?.updatedAt) ?? '')];
      const asCreated = Number.isNaN(created) || Number.isNaN(updated) || updated - created < 60_000;
      return asCreated ? <>Created as {status}</> : <>Created (first seen as {status})</>;
    }
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
    case 'work.item.development_changed': {
      const commits = count(data.commitsAdded);
      const parts = [
        commits > 0 ? `${commits} commit${commits === 1 ? '' : 's'} pushed` : '',
        count(data.branchesAdded) > 0 ? `${plural(count(data.branchesAdded), 'branch')} named after it` : '',
        count(data.branchesRemoved) > 0 ? `${plural(count(data.branchesRemoved), 'branch')} deleted` : '',
      ].filter(Boolean);
      return <>Development: {parts.join(', ') || 'changed'}</>;
    }
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

/** The tool's time of the change, as people read it; the hover says when the hub recorded it too when that differs. */
const When = (props: { event: TimelineEntry; now: Date }) => {
  const { at, time } = props.event;
  const recorded = Math.abs(Date.parse(time) - Date.parse(at)) >= 60_000;
  return (
    <time datetime={at} title={recorded ? `${exactTime(at)}, recorded by the hub ${exactTime(time)}` : exactTime(at)}>
      {relativeTime(at, props.now)}
    </time>
  );
};

export const Timeline = (props: { events: readonly TimelineEntry[]; nextPage?: string; now: Date }) => (
  <section aria-labelledby="timeline-h" data-section="timeline">
    <h2 id="timeline-h">Timeline</h2>
    {props.events.length === 0 ? (
      <p class="muted">No events recorded for this item yet.</p>
    ) : (
      <ol class="timeline">
        {props.events.map((event) => (
          <li data-event={event.type}>
            <When event={event} now={props.now} /> · <Describe event={event} />
          </li>
        ))}
      </ol>
    )}
    {props.nextPage ? <a href={props.nextPage}>Older events</a> : null}
  </section>
);
