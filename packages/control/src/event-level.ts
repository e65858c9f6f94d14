import type { EventLevel, EventType } from '@podgate/protocol';

/*
 * How much an event needs a person (docs/admin-api.md, "Event levels"). One rule, applied as the
 * event is recorded; only an automatic ejection is settled later, by DNS (ejection-verdicts.ts).
 */

/** Ejection reasons of a pod that went away: a rollout's or a scale-down's pod, when DNS drops it. */
export const LEAVING_REASONS: ReadonlySet<string> = new Set(['connect_refused', 'closed_before_header', 'reset_before_header']);

/** Ejection reasons of a pod that went silent: clients waited (a connect timeout, a probe) before it was found. */
export const SILENT_REASONS: ReadonlySet<string> = new Set(['connect_timeout', 'connect_unreachable', 'stalled', 'probe_failed']);

const ROUTINE_TYPES: ReadonlySet<string> = new Set<EventType>([
  'peer_added',
  'peer_removed',
  'peer_terminating',
  'peer_returned',
  'peer_draining',
  'peer_drained',
  'peer_restored',
  'panic_left',
  'dns_recovered',
  'service_added',
  'service_removed',
  'operator_action',
  'config_reloaded',
  'fleet_recovered',
]);

const NOTICE_TYPES: ReadonlySet<string> = new Set<EventType>(['requests_rescued', 'dns_failed', 'dns_empty']);

/**
 * The level an event is recorded with. An automatic ejection for a leaving or silent pod is a
 * `notice` until DNS says whether the pod was leaving; an ejection by an operator is routine; one
 * on response-level evidence (5xx in a row, invalid headers) is a pod in rotation answering badly.
 */
// `type` is a string: the schema's union of literals reads as one on the TypeScript side.
export function levelOf(type: string, reason?: string): EventLevel {
  if (type === 'peer_ejected') {
    if (reason === 'operator_eject') return 'routine';
    if (reason !== undefined && (LEAVING_REASONS.has(reason) || SILENT_REASONS.has(reason))) return 'notice';
    return 'alert';
  }
  if (ROUTINE_TYPES.has(type)) return 'routine';
  if (NOTICE_TYPES.has(type)) return 'notice';
  // panic_entered, dns_emptied, fleet_degraded: a service short of pods, or a fleet cut off.
  return 'alert';
}
