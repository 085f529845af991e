import { startEmbeddedEngine } from './embedded-engine.ts';

/**
 * The embedded engine as its own process: `node --import tsx store/embedded-engine-process.ts [path]`
 * prints `{"endpoint": "http://127.0.0.1:<port>"}` on its first line, and stops when its parent does.
 * Keeps the engine's CPU work off the event loop of whoever uses it (tests, benchmarks).
 */
const engine = await startEmbeddedEngine(process.argv[2] ? { path: process.argv[2] } : {});
process.stdout.write(`${JSON.stringify({ endpoint: engine.endpoint })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void engine.close().then(() => process.exit(0)));
