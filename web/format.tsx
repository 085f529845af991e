import type { Source, Status } from '../core/work-item.ts';

/** How people name the tools. */
export const SOURCE_NAMES: Record<Source, string> = { github: 'GitHub', jira: 'Jira', email: 'email' };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** A span of time as people say it: `3 days`, `5 hours`, `2 weeks`. */
export const durationText = (ms: number): string => {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return 'less than a minute';
  if (abs < HOUR) return plural(Math.floor(abs / MINUTE), 'minute');
  if (abs < DAY) return plural(Math.floor(abs / HOUR), 'hour');
  if (abs < 14 * DAY) return plural(Math.floor(abs / DAY), 'day');
  if (abs < 60 * DAY) return plural(Math.floor(abs / (7 * DAY)), 'week');
  if (abs < 365 * DAY) return plural(Math.floor(abs / (30 * DAY)), 'month');
  return plural(Math.floor(abs / (365 * DAY)), 'year');
};

/** `3 days ago`, `in 2 hours`, `just now`. */
export const relativeTime = (iso: string, now: Date): string => {
  const ms = now.getTime() - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  if (Math.abs(ms) < MINUTE) return 'just now';
  return ms > 0 ? `${durationText(ms)} ago` : `in ${durationText(ms)}`;
};

const EXACT = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

/** `4 Mar 2024, 17:15 UTC`: the exact time, shown on hover. */
export const exactTime = (iso: string): string => {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : `${EXACT.format(time)} UTC`;
};

/** A time as people read it ("3 days ago"), with the exact time on hover and for machines. */
export const Time = (props: { at: string; now: Date; prefix?: string }) => (
  <time datetime={props.at} title={exactTime(props.at)}>
    {props.prefix ?? ''}
    {relativeTime(props.at, props.now)}
  </time>
);

/** For how long something has held: `for 3 days`, with the exact start on hover. */
export const Since = (props: { at: string; now: Date }) => (
  <time datetime={props.at} title={`since ${exactTime(props.at)}`}>
    for {durationText(props.now.getTime() - Date.parse(props.at))}
  </time>
);

/** A status pill: the tool's word, its category for colour. */
export const StatusPill = (props: { status: Status }) => <span class={`status ${props.status.category}`}>{props.status.name}</span>;

/** Only web links: a URL from a payload is never rendered as `javascript:` or anything else. */
export const safeHref = (url: string | undefined): string | undefined => (url && /^https?:\/\//i.test(url) ? url : undefined);

export const itemPath = (id: string) => `/items/${encodeURIComponent(id)}`;

export const teamPath = (team: string) => `/teams/${encodeURIComponent(team)}`;

/** `octo/api#12`, `ACME-42`, or the ref: how people name an item. */
export const shortRef = (ref: string): string => {
  const rest = ref.slice(ref.indexOf(':') + 1);
  if (ref.startsWith('jira:')) return rest.slice(rest.lastIndexOf('/') + 1);
  if (ref.startsWith('github:')) return rest;
  return rest;
};
