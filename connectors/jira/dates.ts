import * as z from 'zod';
import { type OrderedBy, RECEIVED } from '../../core/work-item.ts';

/** An instant read from a Jira timestamp, and whether Jira wrote it with a zone. */
export interface JiraInstant {
  millis: number;
  /**
   * False when Jira wrote a local time without a zone (old servers' `timestamp`, some `updated`
   * fields): it is read as UTC, and the instant it names lies within 14 h of that reading.
   */
  zoned: boolean;
}

/** The range of a JavaScript Date (ECMA-262 §21.4.1.1): beyond it `toISOString()` throws. */
const MAX_EPOCH_MILLIS = 8.64e15;

/** Jira sends milliseconds; a ten-digit value can only be seconds. Out of a Date's range: not a date. */
const epochMillis = (value: number): number | undefined => {
  const millis = Math.abs(value) < 1e11 ? value * 1000 : value;
  return Math.abs(millis) <= MAX_EPOCH_MILLIS ? millis : undefined;
};

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** `Jan`, `jan.`, `Sept`, `January` → its number; another language's month names are not read. */
const monthOfName = (name: string): number | undefined => {
  const lower = name.toLowerCase().replace(/\.$/, '');
  const index = MONTHS.findIndex((month) => lower.length >= 3 && month.startsWith(lower));
  return index >= 0 ? index + 1 : undefined;
};

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

/** Two-digit years are of this century: Jira did not exist before 2002. */
const fullYear = (year: string): number => (year.length === 2 ? 2000 + Number(year) : Number(year));

/**
 * `6/13/2019` is June 13 (13 cannot be a month), `30.01.2019` is January 30, `7/7/2019` is July 7
 * either way; `6/7/2019` is June 7 in the United States and July 6 elsewhere, and the payload does
 * not say which locale wrote it: never guessed, so unreadable.
 */
const dayAndMonth = (first: number, second: number): { day: number; month: number } | undefined => {
  if (first === second) return { day: first, month: second };
  if (first > 12 && second <= 12) return { day: first, month: second };
  if (second > 12 && first <= 12) return { day: second, month: first };
  return undefined;
};

/** The date forms Jira servers write, each with what follows it (a time, or nothing). */
const DATE_FORMS: readonly [RegExp, (m: RegExpExecArray) => CalendarDate | undefined][] = [
  // 2024-03-01, 2019-1-30, 2019/01/30: ISO 8601 and the year-first locale forms
  [/^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?=$|[T\s,])/, (m) => ({ year: Number(m[1]), month: Number(m[3]), day: Number(m[4]) })],
  // 6/13/2019, 30.01.2019, 13/06/19: day and month in the order of the server's locale
  [
    /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?=$|[\s,])/,
    (m) => {
      const order = dayAndMonth(Number(m[1]), Number(m[3]));
      return order ? { year: fullYear(m[4]!), ...order } : undefined;
    },
  ],
  // 30/Jan/19 (Jira's own default format), 30-Jan-2019, 30 January 2019
  [
    /^(\d{1,2})([-/ ])([A-Za-z]{3,9}\.?)\2(\d{4}|\d{2})(?=$|[\s,])/,
    (m) => {
      const month = monthOfName(m[3]!);
      return month ? { year: fullYear(m[4]!), month, day: Number(m[1]) } : undefined;
    },
  ],
  // Jan 30, 2019 and January 30, 2019 (US English)
  [
    /^([A-Za-z]{3,9}\.?) (\d{1,2}),? (\d{4})(?=$|[\s,])/,
    (m) => {
      const month = monthOfName(m[1]!);
      return month ? { year: Number(m[3]), month, day: Number(m[2]) } : undefined;
    },
  ],
];

/**
 * What may follow a date: a time (`19:48:08,900`, `12:51:58 PM,687`, `7:48 PM`, `09:00:00.000`),
 * then a zone (`Z`, `+0100`, `-05:00`, `UTC`, `GMT+1`). Zone abbreviations such as `CST` name
 * several zones, so they are not read.
 */
const TIME_AND_ZONE =
  /^(?:T|,?\s+)(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,](\d{1,9}))?(?:\s*([AaPp])\.?[Mm]\.?)?(?:[.,](\d{1,9}))?(?:\s*(Z|(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{2}(?::?\d{2})?))?$/;

/** Minutes east of UTC of a zone this reader accepts. */
const offsetMinutes = (zone: string): number => {
  const match = /([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(zone);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return match[1] === '-' ? -minutes : minutes;
};

const hourOfDay = (hour: number, meridiem: string | undefined): number | undefined => {
  if (!meridiem) return hour <= 23 ? hour : undefined;
  if (hour < 1 || hour > 12) return undefined;
  return (hour % 12) + (meridiem.toLowerCase() === 'p' ? 12 : 0);
};

/** Epoch milliseconds of a calendar date and time read as UTC, or undefined when no such date exists. */
const utcMillis = (date: CalendarDate, hour: number, minute: number, second: number, millis: number): number | undefined => {
  if (date.month < 1 || date.month > 12 || date.day < 1 || minute > 59 || second > 59) return undefined;
  const value = new Date(0);
  value.setUTCFullYear(date.year, date.month - 1, date.day);
  value.setUTCHours(hour, minute, second, millis);
  // Date rolls 2019-02-30 over to March 2: a date that does not exist is not read.
  return value.getUTCDate() === date.day && value.getUTCMonth() === date.month - 1 ? value.getTime() : undefined;
};

const readText = (text: string): JiraInstant | undefined => {
  if (/^\d{9,}$/.test(text)) {
    const millis = epochMillis(Number(text));
    return millis === undefined ? undefined : { millis, zoned: true };
  }
  for (const [form, dateOf] of DATE_FORMS) {
    const match = form.exec(text);
    if (!match) continue;
    const date = dateOf(match);
    if (!date) return undefined;
    const rest = text.slice(match[0].length);
    // A date alone (`duedate`) is a calendar day: midnight UTC, without a zone of its own.
    if (rest === '') return finite(utcMillis(date, 0, 0, 0, 0), false);
    const time = TIME_AND_ZONE.exec(rest);
    if (!time) return undefined;
    const [, hours, minutes, seconds, fraction, meridiem, lateFraction, zone] = time;
    if (fraction !== undefined && lateFraction !== undefined) return undefined;
    const hour = hourOfDay(Number(hours), meridiem);
    if (hour === undefined) return undefined;
    const millis = Number(((fraction ?? lateFraction ?? '') + '000').slice(0, 3));
    const local = utcMillis(date, hour, Number(minutes), Number(seconds ?? 0), millis);
    if (local === undefined) return undefined;
    return zone ? finite(local - offsetMinutes(zone) * 60_000, true) : finite(local, false);
  }
  return undefined;
};

const finite = (millis: number | undefined, zoned: boolean): JiraInstant | undefined =>
  millis !== undefined && Math.abs(millis) <= MAX_EPOCH_MILLIS ? { millis, zoned } : undefined;

/**
 * A Jira timestamp in any form Jira servers write, read without guessing:
 * - epoch milliseconds, as a number or a string (older servers' webhook `timestamp`), or seconds;
 * - ISO 8601 with Jira's colon-less offsets (`2024-03-01T10:00:00.000+0000`, which zod's ISO
 *   datetime rejects), or without a zone (`2024-03-01T10:00:00.000`);
 * - the locale forms of old servers: `2017-12-25 16:33:21,396`, `2019-1-30 19:48:08,900`,
 *   `6/13/2019, 12:51:58 PM,687`, `30/Jan/19 7:48 PM`, `Jan 30, 2019, 7:48:08 PM`;
 * - a date alone (`duedate`): midnight UTC.
 * A day and a month that could be either (`6/7/2019`) are not read, nor zone abbreviations, nor
 * dates that do not exist. Times without a zone are read as UTC and marked `zoned: false`.
 */
export function readJiraTime(value: unknown): JiraInstant | undefined {
  if (typeof value === 'number') {
    const millis = Number.isFinite(value) ? epochMillis(value) : undefined;
    return millis === undefined ? undefined : { millis, zoned: true };
  }
  return typeof value === 'string' ? readText(value.trim()) : undefined;
}

/** Epoch milliseconds of a Jira timestamp (see {@link readJiraTime}), or undefined when it cannot be read. */
export function parseJiraTime(value: string | number): number | undefined {
  return readJiraTime(value)?.millis;
}

/** An optional time (`created`): ISO UTC, or undefined when absent or unreadable. */
export const isoOfJiraTime = (value: unknown): string | undefined => {
  const instant = readJiraTime(value);
  return instant ? new Date(instant.millis).toISOString() : undefined;
};

/** A time the mapping can do without (`resolutiondate`, `duedate`): ISO UTC, or absent when Jira wrote none or one that cannot be read. */
export const OptionalJiraTime = z.unknown().transform((value) => isoOfJiraTime(value));

/** A time as ordering needs it: ISO UTC, and which field gave it. */
export interface OrderingTime {
  at: string;
  orderedBy: OrderedBy;
}

/**
 * The time that orders a change: the first candidate field, in order, holding a time written with a
 * zone; else the first holding a time without one (read as UTC); else when the delivery was
 * received. Within a payload as in the index, a time without a zone never outranks one with a zone.
 * `orderedBy` records which field gave the time, whether it had a zone, and the candidates passed
 * over (absent, unreadable, or without a zone).
 */
export function orderingTimeOf(candidates: readonly (readonly [field: string, value: unknown])[], receivedAt: string): OrderingTime {
  const read = candidates.map(([field, value]) => ({ field, instant: readJiraTime(value) }));
  const chosen = read.find((c) => c.instant?.zoned) ?? read.find((c) => c.instant);
  const skipped = read.slice(0, chosen ? read.indexOf(chosen) : read.length).map((c) => c.field);
  const passed = skipped.length > 0 ? { skipped } : {};
  if (!chosen?.instant) return { at: receivedAt, orderedBy: { field: RECEIVED, zoned: true, ...passed } };
  return { at: new Date(chosen.instant.millis).toISOString(), orderedBy: { field: chosen.field, zoned: chosen.instant.zoned, ...passed } };
}
