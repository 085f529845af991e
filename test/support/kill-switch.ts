import type { Db } from '../../store/db.ts';

/** The commands that write to the table: what a kill point counts. */
const WRITES = new Set(['BatchWriteItemCommand', 'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

const MIDDLEWARE_NAME = 'tributaryTestKillSwitch';

export interface KillSwitch {
  /** write requests that reached the engine */
  readonly writes: number;
  /** calls refused since the switch tripped */
  readonly refused: number;
  /** whether the process is "dead": every call since the limit fails */
  readonly tripped: boolean;
  /** takes the middleware off the client */
  remove(): void;
}

/** What every call gets once the switch tripped. Not a DynamoDB error: nothing answered. */
export class ProcessKilledError extends Error {
  override name = 'ProcessKilledError';
}

/**
 * Stands for a process killed right after its `limit`th write request (BatchWriteItem, PutItem,
 * UpdateItem, DeleteItem): from then on every call fails, reads too, before it reaches the SDK's
 * retries, so nothing the dead process does afterwards reaches storage. Calls already on the wire
 * finish, as a request sent before a SIGKILL may still be applied. Without `limit` it only counts.
 */
export const installKillSwitch = (db: Db, options: { limit?: number } = {}): KillSwitch => {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let writes = 0;
  let refused = 0;
  let tripped = false;
  const middleware =
    (next: (args: any) => Promise<any>, context: { commandName?: string }) =>
    async function killSwitch(args: any) {
      if (tripped) {
        refused++;
        throw new ProcessKilledError(`${context.commandName ?? 'call'}: the process was killed (test)`);
      }
      if (WRITES.has(context.commandName ?? '')) {
        writes++;
        if (writes >= limit) tripped = true;
      }
      return next(args);
    };
  const stack = db.doc.middlewareStack;
  stack.add(middleware as never, { name: MIDDLEWARE_NAME, step: 'initialize', priority: 'high', override: true });
  return {
    get writes() {
      return writes;
    },
    get refused() {
      return refused;
    },
    get tripped() {
      return tripped;
    },
    remove: () => stack.remove(MIDDLEWARE_NAME),
  };
};
