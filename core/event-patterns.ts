import * as z from 'zod';
import { ValidationError } from './errors.ts';
import { EventType } from './events.ts';

/**
 * Event-type patterns, as subscriptions (`types`) and the event stream (`?types=`) take them: an
 * event type (`work.alert.raised`), a prefix of types ending in `.*` (`work.item.*`, `work.*`), or
 * `*` for every type. A pattern that names no type of the catalog is refused, so a typo
 * (`work.itme.*`) fails at once instead of matching nothing forever.
 */
const names = (): readonly string[] => EventType.options;

export const isKnownPattern = (pattern: string): boolean => {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -1);
    return prefix.length > 1 && names().some((type) => type.startsWith(prefix));
  }
  return names().includes(pattern);
};

export const EventTypePattern = z
  .string()
  .min(1)
  .max(100)
  .refine(isKnownPattern, { message: 'is not an event type, a prefix of types ending in `.*` (e.g. `work.item.*`), or `*`: see GET /v1/events/schemas' })
  .describe('an event type (`work.alert.raised`), a prefix ending in `.*` (`work.item.*`), or `*`');

/** Whether `type` matches one pattern. */
export const matchesType = (type: string, pattern: string): boolean =>
  pattern === '*' || (pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern);

/** Whether `type` matches any of `patterns` (none: every type). */
export const matchesAnyType = (type: string, patterns: readonly string[] | undefined): boolean =>
  !patterns || patterns.length === 0 || patterns.some((pattern) => matchesType(type, pattern));

/** `work.item.*,work.alert.raised` (a query string's `types`) → the patterns; 422 naming each one that names no type. */
export const parseTypeList = (value: string, path: string): string[] => {
  const patterns = value.split(',').map((p) => p.trim()).filter(Boolean);
  const bad = patterns.filter((p) => !isKnownPattern(p));
  if (bad.length > 0 || patterns.length > 50) {
    const message = 'is not an event type, a prefix of types ending in `.*` (e.g. `work.item.*`), or `*`: see GET /v1/events/schemas';
    throw new ValidationError(patterns.length > 50 ? [{ path, message: 'lists more than 50 patterns' }] : bad.map((p) => ({ path, message: `${p} ${message}` })), 'The query string');
  }
  return patterns;
};
