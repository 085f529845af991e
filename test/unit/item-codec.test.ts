import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventsForChange } from '../../core/events.ts';
import { applyChange } from '../../core/merge.ts';
import { ITEM_DICTIONARIES, decodeItemDoc, encodeItemDoc, itemDocJson } from '../../store/item-codec.ts';
import { encodeStoredEvent, storedEventJson } from '../../store/stored-event.ts';
import { at, githubPerson, upsert } from '../fixtures/work-items.ts';

const item = applyChange(undefined, upsert({ ref: 'github:octo/api#12', title: 'Checkout fails on Safari', owners: [githubPerson('octocat', 583231)], labels: ['bug', 'checkout'] }))!;
const json = JSON.stringify(item);

describe('item records', () => {
  it('store the item deflated with the dictionary, a quarter of its JSON or less, and read it back', () => {
    const stored = encodeItemDoc(json);
    expect(stored[0]).toBe(1);
    expect(stored.byteLength).toBeLessThan(json.length / 3);
    expect(decodeItemDoc(stored)).toEqual(JSON.parse(json));
  });

  it('read an item stored as JSON text, as records were written before', () => {
    expect(decodeItemDoc(json)).toEqual(JSON.parse(json));
  });

  it('refuse an item written with a dictionary this version does not know, saying to upgrade', () => {
    const stored = encodeItemDoc(json);
    stored[0] = 9;
    expect(() => itemDocJson(stored)).toThrow(/item dictionary 9.*upgrade/);
  });

  it('store their events against the item: a fraction of the event gzipped, unreadable without the item', () => {
    const [event] = eventsForChange(undefined, item, { tenantId: 'ten_a', causationKey: 'test#1', time: at(1) });
    const against = encodeStoredEvent(event!, json);
    const gzipped = encodeStoredEvent(event!);
    expect(against.byteLength).toBeLessThan(gzipped.byteLength / 2);
    expect(JSON.parse(storedEventJson(against, json))).toEqual(event);
    expect(JSON.parse(storedEventJson(gzipped))).toEqual(event);
    expect(() => storedEventJson(against)).toThrow(/without the item/);
  });

  it('keep their dictionary byte for byte: every item compressed with it needs it to be read', () => {
    // A dictionary that must change gets the next version (2); this one never does.
    expect(createHash('sha256').update(ITEM_DICTIONARIES[1]!).digest('hex')).toBe('6b259068c1161708470be9add319b9c26c3b0735e6e8f71dcdc4c7129da18353');
  });
});
