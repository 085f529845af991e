import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');

/** Where `npm start`'s bundle goes (`prestart` builds it). */
export const LOCAL_HUB_DIR = join(ROOT, 'dist', 'local');

/**
 * The V8 settings `npm start` runs the hub with (package.json's `start` script passes them; the
 * tests and the bench start the hub with them too). V8 otherwise lets the hub's young generation
 * grow to two 16 MiB semi-spaces and its old generation to up to four times what a collection
 * leaves live, and after a burst of analyses (33 fresh `GET /v1/views/bottlenecks` at 100k items)
 * the hub held 313–350 MiB resident, most of it V8 pages of garbage. With 8 MiB semi-spaces and a
 * heap that grows by half of what is live: 256–263 MiB, and 199–204 instead of 269–306 at rest,
 * with an analysis 5–15 % slower. In runs back to back, neither the ack rate (223–281 deliveries/s
 * without, 244–291 with, over three runs each) nor the end-to-end rate (81 and 83/s) moved beyond
 * their noise. The growth setting applies to the engine's worker thread too.
 */
export const LOCAL_HUB_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50'] as const;

/**
 * The local hub as one ESM bundle: `outdir/hub.mjs`, and the embedded engine's worker thread as
 * `outdir/embedded-engine-worker.mjs` beside it, which store/embedded-engine.ts then starts without
 * the TypeScript loader. `npm start` runs this bundle instead of compiling TypeScript as it loads:
 * about 60 MiB less resident memory for the hub and 30 MiB for the engine, for a build of about a
 * second. Packages stay in node_modules (`packages: 'external'`), so `outdir` must be inside
 * the repository for Node to find them. Returns the hub's entry.
 */
export const buildLocalHub = async (outdir = LOCAL_HUB_DIR): Promise<string> => {
  await build({
    entryPoints: { hub: join(ROOT, 'functions/local.ts'), 'embedded-engine-worker': join(ROOT, 'store/embedded-engine-worker.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
  });
  return join(outdir, 'hub.mjs');
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildLocalHub();
