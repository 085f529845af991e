import { describe, expect, it } from 'vitest';
import { applyMergePatch, valueAtPath } from '../../core/merge-patch.ts';

describe('JSON Merge Patch (RFC 7396), for PATCH /v1/connections/{id}', () => {
  // The examples of RFC 7396 Appendix A.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('patches %j with %j into %j', (target, patch, result) => {
    expect(applyMergePatch(target, patch)).toEqual(result);
  });

  it('leaves the target unchanged', () => {
    const target = { statusRules: { Review: 'in_review' } };
    applyMergePatch(target, { statusRules: { Review: null, QA: 'in_review' } });
    expect(target).toEqual({ statusRules: { Review: 'in_review' } });
  });

  it('reads the value at a dotted path, for comparing secret settings', () => {
    expect(valueAtPath({ credentials: { token: 't' } }, 'credentials.token')).toBe('t');
    expect(valueAtPath({ credentials: null }, 'credentials.token')).toBeUndefined();
    expect(valueAtPath({}, 'passwordSha256')).toBeUndefined();
  });
});
