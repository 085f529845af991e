import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = join(import.meta.dirname, '../../core');
/** What the pure domain may import: itself, zod, and hashing. Never the AWS SDK, fs, net or http. */
const ALLOWED = [/^\.\//, /^zod$/, /^node:crypto$/];

describe('core/', () => {
  const files = readdirSync(CORE).filter((f) => f.endsWith('.ts'));

  it.each(files)('%s imports nothing with I/O', (file) => {
    const source = readFileSync(join(CORE, file), 'utf8');
    const imports = [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    expect(imports.filter((specifier) => !ALLOWED.some((pattern) => pattern.test(specifier)))).toEqual([]);
  });
});
