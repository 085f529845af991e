import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CORE = join(ROOT, 'core');
const WEB = join(ROOT, 'web');
/** What the pure domain may import: itself, zod, and hashing. Never the AWS SDK, fs, net or http. */
const ALLOWED = [/^\.\//, /^zod$/, /^node:crypto$/];

/**
 * Every module a source file names: static imports and re-exports (types included), side-effect
 * imports, `import()` and `require()`, read by TypeScript's own pre-processor rather than a pattern.
 */
const importsOf = (source: string): string[] => ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);

const sourcesUnder = (directory: string): string[] =>
  readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|tsx|mts|cts|js|jsx)$/.test(f))
    .map((f) => join(directory, f));

/** Whether a relative specifier of `file` lands inside `directory`. */
const landsIn = (file: string, specifier: string, directory: string): boolean => {
  if (!specifier.startsWith('.')) return false;
  const rest = relative(directory, resolve(dirname(file), specifier));
  return rest !== '' && !rest.startsWith('..') && !rest.startsWith(sep);
};

/**
 * What a page component may import: other components of web/, the pure domain (core/), and
 * hono/jsx. Never store/, pipeline/, the HTTP routes or anything with I/O: a component gets its
 * data as props from the query function its page shares with the API (functions/http/views/).
 */
const webImportAllowed = (file: string, specifier: string): boolean =>
  landsIn(file, specifier, WEB) || landsIn(file, specifier, CORE) || /^hono\/jsx(\/[\w-]+)*$/.test(specifier);

describe('core/', () => {
  const files = readdirSync(CORE).filter((f) => f.endsWith('.ts'));

  it.each(files)('%s imports nothing with I/O', (file) => {
    const source = readFileSync(join(CORE, file), 'utf8');
    const imports = importsOf(source);
    expect(imports.filter((specifier) => !ALLOWED.some((pattern) => pattern.test(specifier)))).toEqual([]);
  });
});

describe('web/', () => {
  const files = sourcesUnder(WEB);

  it('has components to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => relative(ROOT, f)))('%s imports only web/, core/ and hono/jsx', (file) => {
    const path = join(ROOT, file);
    const imports = importsOf(readFileSync(path, 'utf8'));
    expect(imports.filter((specifier) => !webImportAllowed(path, specifier))).toEqual([]);
  });

  it('refuses what a component must not import, however it is written', () => {
    const page = join(WEB, 'item-page.tsx');
    const nested = join(WEB, 'parts', 'chart.tsx');
    const refused = [
      "import { listAlerts } from '../store/alerts.ts';",
      "import type { Db } from '../store/db.ts';",
      "export { getItems } from '../store/item-queries.ts';",
      "import '../store/db.ts';",
      "const store = await import('../store/alerts.ts');",
      "const fs = require('node:fs');",
      "import { loadItemView } from '../functions/http/views/item.ts';",
      "import { Hono } from 'hono';",
      "import { QueryCommand } from '@aws-sdk/lib-dynamodb';",
      "import { x } from './../store/alerts.ts';",
      "import { x } from '../core/../store/alerts.ts';",
    ];
    for (const line of refused) {
      const imports = importsOf(line);
      expect(imports, line).toHaveLength(1);
      expect(webImportAllowed(page, imports[0]!), line).toBe(false);
    }
    expect(webImportAllowed(nested, '../../store/db.ts')).toBe(false);
    for (const [file, specifier] of [
      [page, './format.tsx'],
      [page, '../core/item-context.ts'],
      [page, 'hono/jsx'],
      [page, 'hono/jsx/jsx-runtime'],
      [nested, '../format.tsx'],
      [nested, '../../core/alerts.ts'],
    ] as const) {
      expect(webImportAllowed(file, specifier), specifier).toBe(true);
    }
  });
});

describe('the dashboard route', () => {
  it('reads its views through functions/http/views/ only: from store/ nothing but the sign-in throttle', () => {
    const file = join(ROOT, 'functions/http/routes/dashboard.ts');
    const fromStore = importsOf(readFileSync(file, 'utf8')).filter((specifier) => landsIn(file, specifier, join(ROOT, 'store')));
    expect(fromStore).toEqual(['../../../store/sign-in-throttle.ts']);
  });
});
