import { build } from 'esbuild';
import { BUNDLE_MAIN_FIELDS, UNBUNDLED_PACKAGES } from './infra/definitions.ts';
const r = await build({ entryPoints: { index: 'functions/lambda/api.ts' }, outdir: '/tmp/scratch/why', outExtension: { '.js': '.mjs' }, splitting: true, bundle: true, external: [...UNBUNDLED_PACKAGES], platform: 'node', target: 'node22', format: 'esm', mainFields: [...BUNDLE_MAIN_FIELDS], metafile: true, write: false });
const inputs = r.metafile.inputs;
const importers = new Map<string, string[]>();
for (const [file, info] of Object.entries(inputs)) for (const imp of info.imports) if (imp.kind === 'import-statement') { const list = importers.get(imp.path) ?? []; list.push(file); importers.set(imp.path, list); }
// shortest static chain from entry
const target = process.argv[2]!;
const prev = new Map<string, string>(); const queue = ['functions/lambda/api.ts']; const seen = new Set(queue);
while (queue.length) { const f = queue.shift()!; for (const imp of inputs[f]?.imports ?? []) if (imp.kind === 'import-statement' && !seen.has(imp.path)) { seen.add(imp.path); prev.set(imp.path, f); queue.push(imp.path); } }
let x: string | undefined = target; const chain = []; while (x) { chain.push(x); x = prev.get(x); } console.log(chain.reverse().join('\n  -> '));
console.log('static importers:', importers.get(target));
