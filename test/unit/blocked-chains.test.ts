import { describe, expect, it } from 'vitest';
import { longestBlockedChains } from '../../core/blocked-chains.ts';
import { indexedItem } from '../fixtures/work-items.ts';

const item = (ref: string) => indexedItem({ ref, title: ref });

describe('blocked chains', () => {
  const [a, b, c, d, e] = ['jira:acme.atlassian.net/ACME-1', 'github:octo/api#2', 'github:octo/api#3', 'email:support@acme.example/m4', 'github:octo/web#5'].map(item) as [
    ReturnType<typeof item>,
    ReturnType<typeof item>,
    ReturnType<typeof item>,
    ReturnType<typeof item>,
    ReturnType<typeof item>,
  ];
  const items = new Map([a, b, c, d, e].map((i) => [i.id, i]));

  it('follows the longest line of blockers up from each item that holds nothing else up, longest first', () => {
    // a → b → c (c waits on b, b on a), and a → d, e → d.
    const chains = longestBlockedChains(
      [
        { blocked: b.id, blockers: [a.id] },
        { blocked: c.id, blockers: [b.id] },
        { blocked: d.id, blockers: [a.id, e.id] },
      ],
      items,
    );
    expect(chains.map((ch) => ch.items.map((i) => i.ref))).toEqual([[a.ref, b.ref, c.ref], expect.arrayContaining([d.ref])]);
    expect(chains[1]!.items).toHaveLength(2);
  });

  it('cuts cycles where they close', () => {
    const chains = longestBlockedChains(
      [
        { blocked: a.id, blockers: [c.id] },
        { blocked: b.id, blockers: [a.id] },
        { blocked: c.id, blockers: [b.id] },
      ],
      items,
    );
    expect(chains.length).toBeGreaterThan(0);
    for (const chain of chains) {
      expect(chain.items).toHaveLength(3);
      expect(new Set(chain.items.map((i) => i.id)).size).toBe(3);
    }
  });
});
