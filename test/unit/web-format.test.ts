import { describe, expect, it } from 'vitest';
import type { ItemEntry } from '../../core/item-context.ts';
import { niceMax } from '../../web/charts.tsx';
import { durationText, exactTime, relativeTime, safeHref } from '../../web/format.tsx';
import { ItemTable } from '../../web/linked-items.tsx';

describe('times as people read them', () => {
  const now = new Date('2024-03-20T12:00:00.000Z');
  it('says how long ago, in the largest whole unit', () => {
    expect(relativeTime('2024-03-20T11:59:40.000Z', now)).toBe('just now');
    expect(relativeTime('2024-03-20T11:15:00.000Z', now)).toBe('45 minutes ago');
    expect(relativeTime('2024-03-20T11:00:00.000Z', now)).toBe('1 hour ago');
    expect(relativeTime('2024-03-17T10:00:00.000Z', now)).toBe('3 days ago');
    expect(relativeTime('2024-02-20T12:00:00.000Z', now)).toBe('4 weeks ago');
    expect(relativeTime('2023-01-01T00:00:00.000Z', now)).toBe('1 year ago');
    expect(relativeTime('2024-03-22T12:00:00.000Z', now)).toBe('in 2 days');
    expect(durationText(36 * 3_600_000)).toBe('1 day');
  });
  it('gives the exact time for the hover, in UTC', () => {
    expect(exactTime('2024-03-04T17:15:00.000Z')).toBe('4 Mar 2024, 17:15 UTC');
  });
});

describe('what the pages render from the tools', () => {
  it('links only to web addresses', () => {
    expect(safeHref('https://github.com/octo/api/pull/1')).toBe('https://github.com/octo/api/pull/1');
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref(undefined)).toBeUndefined();
  });
  it('rounds chart axes to 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 3, 7, 12, 48, 230].map(niceMax)).toEqual([1, 1, 5, 10, 20, 50, 500]);
  });
});

describe('linked items', () => {
  const now = new Date('2024-03-20T12:00:00.000Z');
  const issue: ItemEntry = { id: 'wi_1', ref: 'github:octo/api#12', indexed: true, source: 'github', title: 'Retry checkout', owners: ['Alana Grant'] };
  const email: ItemEntry = { id: 'wi_2', ref: 'email:platform@acme.example/m1', indexed: true, source: 'email', title: 'Checkout fails', owners: [], request: { requester: 'Ana Lima', answer: 'waiting' } };
  const cells = (html: string) => [...html.matchAll(/<td class="optional">([^<]*)<\/td>/g)].map((m) => m[1]);

  it('names each entry’s owners, or the requester of an email request, when a list holds both', () => {
    const html = String(ItemTable({ items: [issue, email], now, label: 'Mentioned in' }));
    expect(html).toContain('Owner or requester');
    // owner or requester, team, last change
    expect(cells(html)).toEqual(['Alana Grant', '—', '—', 'Ana Lima', '—', '—']);
  });

  it('names the column after what every entry holds', () => {
    expect(String(ItemTable({ items: [email], now, label: 'Mentioned in' }))).toContain('>Requester<');
    expect(String(ItemTable({ items: [issue], now, label: 'Implemented by' }))).toContain('>Owner<');
  });
});
