import { describe, expect, it } from 'vitest';
import type { DevelopmentChange, UpsertChange } from '../../core/changes.ts';
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

  it("clips a commit's message line", () => {
    const commit = { sha: 'abc', repository: 'octo/api', message: 'm'.repeat(2_000), author: {}, at: '2026-01-01T00:00:00Z', branches: [] };
    const change: DevelopmentChange = { op: 'development', ref: 'github:octo/api#1', at: '2026-01-01T00:00:00Z', commits: [commit], branches: [] };
    const clipped = withinTextBounds(change) as DevelopmentChange;
    expect(clipped.commits[0]!.message).toHaveLength(TEXT_BOUNDS.commitMessage);
  });
});
