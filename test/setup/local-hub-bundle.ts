import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildLocalHub } from '../../scripts/build-local.ts';

/**
 * `npm start`'s bundle for the tests that run the hub as a process (test/support/hub-process.ts),
 * built once per project run into a directory of its own, so that runs never build over each other
 * or over `npm start`'s; removed at the end. Workers find it in `TRIBUTARY_TEST_HUB_BUNDLE`.
 */
export default async function setup() {
  const dist = join(import.meta.dirname, '../../dist');
  mkdirSync(dist, { recursive: true });
  const outdir = mkdtempSync(join(dist, 'local-test-'));
  process.env.TRIBUTARY_TEST_HUB_BUNDLE = await buildLocalHub(outdir);
  return () => rmSync(outdir, { recursive: true, force: true });
}
