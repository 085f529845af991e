import * as z from 'zod';

/**
 * Epoch milliseconds of a Jira timestamp, read leniently: Jira writes offsets without a colon
 * (`2024-03-01T10:00:00.000+0000`, which zod's ISO datetime rejects), the webhook `timestamp` is
 * epoch milliseconds (a number, or a string on older servers), and old servers send
 * `2017-12-25 16:33:21,396` without a zone (read as UTC). Date-only fields (`duedate`) are midnight UTC.
 */
export function parseJiraTime(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? epochMillis(value) : undefined;
  const text = value.trim();
  if (/^\d{9,}$/.test(text)) return epochMillis(Number(text));
  const iso = text
    .replace(/^(\d{4}-\d{2}-\d{2})[ T]/, '$1T')
    .replace(/(T\d{2}:\d{2}:\d{2}),(\d+)/, '$1.$2')
    .replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const zoned = iso.includes('T') && !/(?:Z|[+-]\d{2}:\d{2})$/i.test(iso) ? `${iso}Z` : iso;
  if (!/^\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2}))?$/i.test(zoned)) return undefined;
  const millis = Date.parse(zoned);
  return Number.isNaN(millis) ? undefined : millis;
}

/** The range of a JavaScript Date (ECMA-262 §21.4.1.1): beyond it `toISOString()` throws. */
const MAX_EPOCH_MILLIS = 8.64e15;

/** Jira sends milliseconds; a ten-digit value can only be seconds. Out of a Date's range: not a date. */
const epochMillis = (value: number): number | undefined => {
  const millis = Math.abs(value) < 1e11 ? value * 1000 : value;
  return Math.abs(millis) <= MAX_EPOCH_MILLIS ? millis : undefined;
};

/** A Jira timestamp in any of its shapes, normalized to `toISOString()` UTC. */
export const JiraTime = z.union([z.string(), z.number()]).transform((value, context) => {
  const millis = parseJiraTime(value);
  if (millis === undefined) {
    context.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a date Jira writes` });
    return z.NEVER;
  }
  return new Date(millis).toISOString();
});

export const OptionalJiraTime = JiraTime.nullish().transform((value) => value ?? undefined);
