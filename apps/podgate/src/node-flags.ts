/**
 * Node flags for a process that runs the data plane. V8's memory reducer shrinks the heap after a
 * quiet spell; under the next burst the young generation and the old generation's limit regrow
 * slowly, request state is promoted and full mark-compacts run several times a second. Measured
 * on POST 64 KiB through podgate (5 s of load, 15 s quiet, 5 s of load): 104-129 then 147-196 µs of
 * CPU a request with the reducer, 111-116 then 111-122 µs without it.
 */
export const DATA_PLANE_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/** The data-plane flags this process was started without (they cannot be set once it runs). */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return DATA_PLANE_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
