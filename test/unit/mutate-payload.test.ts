import { describe, expect, it } from 'vitest';
import { splice } from '../support/mutate-payload.ts';

describe('the payload mutator (test support)', () => {
  it('splices a value in literally, even one holding $-patterns', () => {
    // With String.replace's string form, `$'` and `$\`` copy the text around the marker: a random
    // megabyte string then grew the body to hundreds of megabytes and stalled the hub under test.
    expect(splice('{"a":"__x__","b":1}', '"__x__"', '"$\'$`$&$$"')).toBe('{"a":"$\'$`$&$$","b":1}');
  });
});
