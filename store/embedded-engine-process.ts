import { startEmbeddedEngine } from './embedded-engine.ts';

/**
 * The embedded engine as a process of its own, for the test run and the bench (`npm start` runs it
 * on a worker thread: store/embedded-engine-worker.ts): `node --import tsx
 * store/embedded-engine-process.ts [path]` prints `{"endpoint": "http://127.0.0.1:<port>"}` on its
 * first line, and stops when its stdin closes: when its parent stops it, or dies. Writes reach
 * LevelDB before the engine answers them, so exiting without closing the server loses nothing, and
 * frees the LevelDB LOCK for a successor.
 */
const engine = await startEmbeddedEngine(process.argv[2] ? { path: process.argv[2] } : {});
process.stdout.write(`${JSON.stringify({ endpoint: engine.endpoint })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  // Open keep-alive connections would hold close() up; a short grace period is enough.
  setTimeout(() => process.exit(0), 1_000).unref();
  void engine.close().then(() => process.exit(0));
});
