import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { itemSize, rowKindOf, writeUnitsOf } from '../../store/write-meter.ts';

type Image = Record<string, AttributeValue>;
const s = (value: string): AttributeValue => ({ S: value });
/** a row of about `kb` KB: its keys plus a padding attribute */
const row = (keys: Record<string, string>, kb: number, extra: Record<string, string> = {}): Image => {
  const image: Image = Object.fromEntries(Object.entries({ ...keys, ...extra }).map(([k, v]) => [k, s(v)]));
  image.pad = s('x'.repeat(Math.max(0, kb * 1024 - itemSize(image) - 3 - 10)));
  return image;
};
const itemKeys = { pk: 'T#t1#ITEM#i1', sk: 'ITEM' };

describe('write units by DynamoDB rules', () => {
  it('charges a row in no index its size rounded up per KB, at least 1', () => {
    expect(writeUnitsOf(undefined, { ...row(itemKeys, 0) })).toEqual({ table: 1, indexes: 0 });
    expect(writeUnitsOf(undefined, row(itemKeys, 3))).toEqual({ table: 3, indexes: 0 });
  });

  it('charges every index the row joins its projected size: all of the row in gsi1, its keys and listed attributes in queue', () => {
    const after = row(itemKeys, 2, { gsi1pk: 'a', gsi1sk: '1', qpk: 'inbox', qsk: '1', tenantId: 't1' });
    expect(writeUnitsOf(undefined, after)).toEqual({ table: 2, indexes: 2 + 1 });
  });

  it('bills an update the larger of before and after, and a moved index key a delete plus a put', () => {
    const before = row(itemKeys, 3, { gsi1pk: 'T#t1#deliveries#pending', gsi1sk: '1' });
    const after = row(itemKeys, 1, { gsi1pk: 'T#t1#deliveries#processed', gsi1sk: '1' });
    expect(writeUnitsOf(before, after)).toEqual({ table: 3, indexes: 3 + 1 });
  });

  it('charges an index nothing when none of its projected attributes changed, and a delete the row it removes', () => {
    const image = row(itemKeys, 2, { gsi2pk: 'a', gsi2sk: '1' });
    expect(writeUnitsOf(image, image)).toEqual({ table: 2, indexes: 0 });
    expect(writeUnitsOf(image, undefined)).toEqual({ table: 2, indexes: 2 });
  });

  it('names a row by the type of its partition and the head of its sort key, without ids or times', () => {
    expect(rowKindOf({ pk: 'T#ten_1#ITEM#itm_9', sk: 'FACET#owner#p_1' })).toBe('ITEM/FACET');
    expect(rowKindOf({ pk: 'T#ten_1#LOG#2026-12-05', sk: 'E#0001' })).toBe('LOG/E');
    expect(rowKindOf({ pk: 'T#ten_1#WIP', sk: 'person:p_1#itm_9' })).toBe('WIP/person');
    expect(rowKindOf({ pk: 'T#ten_1#AUDIT', sk: '2026-12-05T10:00:00Z#aud_1' })).toBe('AUDIT/dated');
    expect(rowKindOf({ pk: 'CONN#con_1', sk: 'CONN' })).toBe('CONN/CONN');
  });
});
