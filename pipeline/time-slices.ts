/**
 * The longest the local hub's processing holds the event loop, in milliseconds, before it lets
 * webhooks that arrived meanwhile be acknowledged.
 */
export const PROCESSING_SLICE_MS = 3;

/** The runtime's own, taken when this module loads: a test's fake timers never hold processing up. */
const setImmediateOfRuntime = globalThis.setImmediate;
const nextTurn = () => new Promise<void>((resolve) => setImmediateOfRuntime(resolve));

/**
 * Cooperative time slicing for long CPU work on a shared event loop: call the returned function
 * between units of work, and every `sliceMs` of work it hands the loop back until the loop has
 * polled for I/O and run due timers, so the work interleaves with what waits on the loop, e.g. webhook
 * acknowledgements beside a batch being processed. Cheap when no slice has run out (a clock read).
 */
export const timeSlices = (sliceMs: number = PROCESSING_SLICE_MS): (() => Promise<void>) => {
  let started = performance.now();
  return async () => {
    if (performance.now() - started < sliceMs) return;
    // Two turns: an immediate set in the poll phase runs before the loop polls again; the second
    // is set in the check phase, so the loop polls (and runs due timers) before it.
    await nextTurn();
    await nextTurn();
    started = performance.now();
  };
};
