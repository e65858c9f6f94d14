import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';

/*
 * An operator at work through podgate's real admin API (docs/admin-api.md), with the operator
 * token: every `everyMs` one action, in turn drain a pod, restore it, eject another, restore it…
 * (one pod at most is held out by hand at a time, and only while three or more are active), plus
 * what a dashboard reads now and then (the service list, the event log, /metrics, with the viewer
 * token). Every answer is counted; a 404 on a peer that a rolling update just removed is a race
 * with the rollout, counted apart, not an error.
 */

export interface OperatorReport {
  /** `drain 200`, `restore 404`, `GET /metrics 200`, … */
  byAction: Record<string, number>;
  /** State podgate reported for the peer, by action: `drain→draining`, … */
  states: Record<string, number>;
  /** Peer actions answered 404 because the peer had left (a rollout removed it). */
  goneRaces: number;
  /** Anything else not 2xx, or a request that failed: must be 0. */
  errors: number;
  firstErrors: string[];
  actions: number;
}

interface PeerView {
  address: string;
  state: string;
}

const MAX_ERRORS_KEPT = 20;
const REQUEST_TIMEOUT_MS = 10_000;

export async function runOperator(o: {
  adminUrl: string;
  service: string;
  operatorToken: string;
  viewerToken: string;
  everyMs: number;
  deadline: number;
  stop: AbortSignal;
  maxActions: number;
  /** ms since the soak began, for the error lines. */
  clock: () => number;
}): Promise<OperatorReport> {
  const report: OperatorReport = { byAction: {}, states: {}, goneRaces: 0, errors: 0, firstErrors: [], actions: 0 };
  const agent = new Agent({ headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS, connect: { timeout: REQUEST_TIMEOUT_MS } });
  const fail = (what: string): void => {
    report.errors++;
    if (report.firstErrors.length < MAX_ERRORS_KEPT) report.firstErrors.push(`${(o.clock() / 1000).toFixed(1)} s: ${what}`);
  };
  const call = async (method: 'GET' | 'POST', path: string, token: string, label: string): Promise<{ status: number; body: string } | null> => {
    try {
      const res = await request(`${o.adminUrl}${path}`, { dispatcher: agent, method, headers: { authorization: `Bearer ${token}` } });
      const body = await res.body.text();
      report.byAction[`${label} ${res.statusCode}`] = (report.byAction[`${label} ${res.statusCode}`] ?? 0) + 1;
      return { status: res.statusCode, body };
    } catch (err) {
      report.byAction[`${label} failed`] = (report.byAction[`${label} failed`] ?? 0) + 1;
      fail(`${method} ${path}: ${(err as Error).message}`);
      return null;
    }
  };
  const peerAction = async (address: string, action: 'drain' | 'eject' | 'restore'): Promise<void> => {
    report.actions++;
    const r = await call('POST', `/api/v1/services/${o.service}/peers/${encodeURIComponent(address)}/${action}`, o.operatorToken, action);
    if (r === null) return;
    if (r.status === 404) {
      report.goneRaces++;
      return;
    }
    if (r.status !== 200) {
      fail(`${action} ${address}: ${r.status} ${r.body.slice(0, 200)}`);
      return;
    }
    const state = (JSON.parse(r.body) as Partial<PeerView>).state ?? '?';
    report.states[`${action}→${state}`] = (report.states[`${action}→${state}`] ?? 0) + 1;
  };

  let held: string | null = null;
  let nextHold: 'drain' | 'eject' = 'drain';
  let tick = 0;
  let since = 0;
  try {
    while (!o.stop.aborted && performance.now() < o.deadline && report.actions < o.maxActions) {
      tick++;
      if (held !== null) {
        await peerAction(held, 'restore');
        held = null;
      } else {
        const r = await call('GET', `/api/v1/services/${o.service}`, o.viewerToken, 'GET /services/:name');
        if (r !== null && r.status !== 200) fail(`GET /api/v1/services/${o.service}: ${r.status} ${r.body.slice(0, 200)}`);
        const peers = r?.status === 200 ? ((JSON.parse(r.body) as { peers?: PeerView[] }).peers ?? []) : [];
        const active = peers.filter((p) => p.state === 'active');
        if (active.length >= 3) {
          const peer = active[tick % active.length] as PeerView;
          await peerAction(peer.address, nextHold);
          held = peer.address;
          nextHold = nextHold === 'drain' ? 'eject' : 'drain';
        }
      }
      // What the dashboard reads besides the feed.
      if (tick % 5 === 0) {
        const list = await call('GET', '/api/v1/services', o.viewerToken, 'GET /services');
        if (list !== null && list.status !== 200) fail(`GET /api/v1/services: ${list.status} ${list.body.slice(0, 200)}`);
        const events = await call('GET', `/api/v1/events?since=${since}&limit=500`, o.viewerToken, 'GET /events');
        if (events !== null && events.status !== 200) fail(`GET /api/v1/events: ${events.status} ${events.body.slice(0, 200)}`);
        if (events?.status === 200) since = (JSON.parse(events.body) as { next?: number }).next ?? since;
        const metrics = await call('GET', '/metrics', o.viewerToken, 'GET /metrics');
        if (metrics !== null && metrics.status !== 200) fail(`GET /metrics: ${metrics.status}`);
      }
      await sleep(o.everyMs, undefined, { signal: o.stop }).catch(() => undefined);
    }
    // Leave no pod held out of rotation.
    if (held !== null) await peerAction(held, 'restore');
  } finally {
    await agent.close();
  }
  return report;
}

/** podgate_requests_total summed by status, from /metrics (a cross-check of the clients' counts). */
export async function scrapeRequestsByStatus(adminUrl: string, viewerToken: string): Promise<Record<string, number>> {
  const res = await request(`${adminUrl}/metrics`, {
    method: 'GET',
    headers: { authorization: `Bearer ${viewerToken}` },
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  const text = await res.body.text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^podgate_requests_total\{([^}]*)\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/gm)) {
    const status = /status="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '?';
    out[status] = (out[status] ?? 0) + Number(m[2]);
  }
  return out;
}
