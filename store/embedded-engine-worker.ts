import { parentPort, workerData } from 'node:worker_threads';
import { startEmbeddedEngine } from './embedded-engine.ts';

/**
 * The embedded engine on a worker thread of the hub (store/embedded-engine.ts
 * `startEmbeddedEngineWorker`): posts `{ endpoint }` once it listens, and closes at the first
 * message it is sent. Writes reach LevelDB before the engine answers them, so a hub that dies with
 * it loses nothing.
 */
const { path } = workerData as { path?: string };
const engine = await startEmbeddedEngine(path ? { path } : {});
parentPort!.postMessage({ endpoint: engine.endpoint });
parentPort!.once('message', () => {
  // Open keep-alive connections would hold close() up; a short grace period is enough.
  setTimeout(() => process.exit(0), 1_000).unref();
  void engine.close().then(() => process.exit(0));
});
