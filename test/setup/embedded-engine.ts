import type { TestProject } from 'vitest/node';
import { startEmbeddedEngine } from '../../store/embedded-engine.ts';

/** One in-memory dynalite for the run; each test file works in its own table. */
export default async function setup(project: TestProject) {
  const engine = await startEmbeddedEngine();
  project.provide('dynamodbEndpoint', engine.endpoint);
  return () => engine.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}
