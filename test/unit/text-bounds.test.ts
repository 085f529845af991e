import { describe, expect, it } from 'vitest';
import type { UpsertChange } from '../../core/changes.ts';
import { TEXT_BOUNDS, withinTextBounds } from '../../core/text-bounds.ts';

const upsert = (title: string, labels: string[]) =>
  ({
    op: 'upsert',
    at: '2026-01-01T00:00:00Z',
    item: {
      ref: 'github:octo/api#1',
      source: 'github',
      kind: 'issue',
      title,
      container: { key: 'octo/api', name: 'api' },
      status: { name: 'open', category: 'todo' },
      priority: { level: 'none' },
      owners: [],
      labels,
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
      links: [],
    },
  }) as unknown as UpsertChange;

describe('free text within its bounds', () => {
  it('leaves a change whose text is within bounds as it is', () => {
    const change = upsert('x'.repeat(TEXT_BOUNDS.title), ['bug']);
    expect(withinTextBounds(change)).toBe(change);
  });

  it('clips a long title and long labels with an ellipsis, and keeps every label', () => {
    const clipped = withinTextBounds(upsert(`Title ${'x'.repeat(5_000)}`, ['bug', 'y'.repeat(300)])) as UpsertChange;
    expect(clipped.item.title).toHaveLength(TEXT_BOUNDS.title);
    expect(clipped.item.title).toMatch(/^Title x+…$/);
    expect(clipped.item.labels).toEqual(['bug', `${'y'.repeat(TEXT_BOUNDS.label - 1)}…`]);
  });

  it('clips a title at the last space near its bound, so no word or address is cut in two', () => {
    const title = `${'word '.repeat(199)}alice@example.com and more`;
    const clipped = withinTextBounds(upsert(title, [])) as UpsertChange;
    expect(clipped.item.title).toBe(`${'word '.repeat(199).trimEnd()}…`);
  });

  it('never splits a character outside the Basic Multilingual Plane', () => {
    const clipped = withinTextBounds(upsert('x', [`${'y'.repeat(253)}🚀🚀`])) as UpsertChange;
    expect(clipped.item.labels[0]).toBe(`${'y'.repeat(253)}…`);
  });
});
