import type { FleetView, PeerView } from '@podgate/protocol';
import { formatDuration } from './format.js';

/*
 * The fleet in the operator's words: its state as a badge, who put a peer out of rotation and
 * through which instance, and where each instance's dashboard is.
 */

// The schema's unions of literals read as `string` on the TypeScript side: a value this build does
// not know is shown as the server spells it.
const STATE_LABELS: Readonly<Record<string, string>> = { off: 'not in a fleet', connecting: 'connecting', ok: 'ok', degraded: 'degraded' };

/** The state badge's text. */
export function fleetStateLabel(state: FleetView['state']): string {
  return STATE_LABELS[state] ?? state;
}

/** While degraded every operator change is refused (503 PODGATE_FLEET_UNAVAILABLE): every page says so. */
export function isFleetDegraded(fleet: FleetView | undefined): fleet is FleetView {
  return fleet?.state === 'degraded';
}

const HOLD_VERBS: Readonly<Record<string, string>> = { drain: 'drained', eject: 'ejected' };

/**
 * `drained by alice via host:8081`: who held the peer by hand and, when it was another instance,
 * through which (this one, or none outside a fleet, goes unsaid). Null when nobody did. The time
 * is left to the page, which keeps it current.
 */
export function heldByText(peer: Pick<PeerView, 'hold' | 'heldBy'>, self: string | null): string | null {
  const by = peer.heldBy;
  if (by === null) return null;
  // A hold the server reports without a kind (a view caught mid-change) reads as the neutral "held".
  const verb = (peer.hold === null ? undefined : HOLD_VERBS[peer.hold]) ?? 'held';
  const via = by.instance === null || by.instance === self ? '' : ` via ${by.instance}`;
  return `${verb} by ${by.actor}${via}`;
}

/** `ejected on host:8081's evidence`: another instance's failed tries ejected the peer here. */
export function ejectedByText(peer: Pick<PeerView, 'ejectedBy'>, self: string | null): string | null {
  const by = peer.ejectedBy;
  return by === null || by === self ? null : `ejected on ${by}'s evidence`;
}

// An address an instance binds to but nobody can browse to.
const UNSPECIFIED = new Set(['0.0.0.0', '::', '[::]']);

/**
 * `http://<admin>/`, the instance's dashboard; an IPv6 host goes in brackets (RFC 3986 §3.2.2).
 * Null for an admin API bound to every interface (0.0.0.0, ::): that address leads nowhere.
 */
export function adminHref(admin: string): string | null {
  const colon = admin.lastIndexOf(':');
  if (colon <= 0) return null;
  const host = admin.slice(0, colon);
  const port = admin.slice(colon + 1);
  if (!/^\d+$/.test(port) || UNSPECIFIED.has(host)) return null;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${bracketed}:${port}/`;
}

/** How long an instance has run, in whole seconds: `42 s`, `2 m 5 s`, `3 d 4 h` (another host's clock ahead of ours reads as `0 s`). */
export function formatUptime(startedAt: number, now: number): string {
  const seconds = Math.max(0, Math.floor((now - startedAt) / 1000));
  return seconds === 0 ? '0 s' : formatDuration(seconds * 1000);
}
