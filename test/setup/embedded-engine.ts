import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestProject } from 'vitest/node';

/**
 * One in-memory dynalite for the run, in its own process so the engine's work does not compete
 * with the test runner's event loop; each test file works in its own table.
 */
export default async function setup(project: TestProject) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'store/embedded-engine-process.ts'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
  const { endpoint } = JSON.parse(line!) as { endpoint: string };
  project.provide('dynamodbEndpoint', endpoint);
  project.provide('engineKind', 'embedded');
  return () => {
    child.kill();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    engineKind: 'embedded' | 'dynamodb-local';
  }
}
