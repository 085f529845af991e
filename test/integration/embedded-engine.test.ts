import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchGet, batchWrite } from '../../store/batch.ts';
import { createDb, ensureTable } from '../../store/db.ts';
import { type EmbeddedEngine, startEmbeddedEngine } from '../../store/embedded-engine.ts';

/** The table files under `dir` that this process has mapped into memory (LevelDB maps the ones it keeps open). */
const mappedTableFiles = (dir: string): Set<string> =>
  new Set(
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .map((line) => line.split(/\s+/).slice(5).join(' '))
      .filter((path) => path.startsWith(dir) && path.endsWith('.ldb')),
  );

describe('the embedded engine on a data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-engine-files-'));
  let engine: EmbeddedEngine | undefined;
  afterAll(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps at most 64 table files open, so the pages its reads touched do not all stay in memory', async () => {
    engine = await startEmbeddedEngine({ path: dir });
    const db = createDb({ endpoint: engine.endpoint, table: 'engine-files' });
    await ensureTable(db);
    // LevelDB's table files hold about 2 MiB: 10,000 rows of 16 KB (incompressible) make about 80.
    const keys = Array.from({ length: 10_000 }, (_, i) => ({ pk: `P#${String(i).padStart(5, '0')}`, sk: 'ROW' }));
    await batchWrite(db, keys.map((key) => ({ PutRequest: { Item: { ...key, filler: randomBytes(12_000).toString('base64') } } })));
    expect(readdirSync(dir).filter((name) => name.endsWith('.ldb')).length).toBeGreaterThan(64);

    // Rows spread over the whole key range: every table file is read.
    const read = await batchGet(db, keys.filter((_, i) => i % 50 === 0));
    expect(read).toHaveLength(200);
    expect(mappedTableFiles(dir).size).toBeLessThanOrEqual(64);
  }, 120_000);
});
