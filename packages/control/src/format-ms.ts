/** `850 ms`, `2.4 s`: a duration in an event's detail or a log line. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
