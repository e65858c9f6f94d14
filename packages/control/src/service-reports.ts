import type { DnsEvent } from '@podgate/discovery';
import type { PeerEvent } from '@podgate/protocol';
import type { Logger } from 'pino';
import type { ControlEvents } from './control-events.js';
import { EjectionVerdicts } from './ejection-verdicts.js';
import { formatMs } from './format-ms.js';
import { emptyReason, peerSync, peersMessage, type ServiceEntry } from './service-entry.js';
import type { WorkerLinks } from './worker-links.js';

/**
 * What each service's DNS loop and peer table report, and what follows: DNS answers reach the
 * table and the workers, state changes the event log, the workers and the feed; and the DNS loop
 * is steered (asked again soon after an ejection, every second while most pods are down).
 */
export class ServiceReports {
  private readonly services: ReadonlyMap<string, ServiceEntry>;
  private readonly workers: WorkerLinks;
  private readonly events: ControlEvents;
  private readonly logger: Logger;
  private readonly verdicts: EjectionVerdicts;

  constructor(services: ReadonlyMap<string, ServiceEntry>, workers: WorkerLinks, events: ControlEvents, logger: Logger) {
    this.services = services;
    this.workers = workers;
    this.events = events;
    this.logger = logger;
    this.verdicts = new EjectionVerdicts(events);
  }

  onAddresses(service: string, ips: readonly string[]): void {
    const entry = this.services.get(service);
    if (entry === undefined) return;
    const port = entry.config.port;
    const addresses = ips.map((ip) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`));
    entry.table.setAddresses(addresses, Date.now());
    this.workers.broadcast(peersMessage(service, entry));
    this.checkUrgent(entry);
    this.events.notify({ kind: 'service', name: service });
  }

  onPeerEvent(e: PeerEvent): void {
    if (e.type === 'peer_ejected') this.logger.warn(e, `peer ${e.address} of ${e.service} ejected: ${e.detail ?? e.reason}`);
    else this.logger.info(e, `${e.type.replace('_', ' ')} ${e.address}`.trim());
    const recorded = this.events.record({
      type: e.type,
      service: e.service,
      address: e.address,
      state: e.state ?? undefined,
      reason: e.reason ?? undefined,
      detail: e.detail,
    });
    if (e.type === 'peer_ejected') this.verdicts.opened(recorded);
    else if (e.type === 'peer_removed' || e.type === 'peer_terminating') this.verdicts.left(e.service, e.address, e.at);
    else if (e.type === 'peer_returned' || e.type === 'peer_restored') this.verdicts.returned(e.service, e.address);
    // By name: a table that a reload replaced may still report the end of a return probe.
    const entry = this.services.get(e.service);
    const peer = entry?.table.get(e.address);
    // States decided here reach every worker; DNS membership travels in `peers` messages.
    if (peer !== undefined && e.type !== 'peer_added' && e.type !== 'peer_terminating' && e.type !== 'panic_entered' && e.type !== 'panic_left') {
      this.workers.broadcast({ type: 'peer_state', service: e.service, peer: peerSync(peer) });
    }
    this.events.notify({ kind: 'service', name: e.service });
    if (e.type === 'peer_ejected' && e.reason !== 'operator_eject') entry?.refresher.refreshSoon();
    if (entry !== undefined) this.checkUrgent(entry);
  }

  onDnsEvent(e: DnsEvent): void {
    const entry = this.services.get(e.service);
    // Repeats of one cause are logged once (then at debug) and grow one event: a dead nameserver
    // must not flood the log, the event log and the dashboard once a refresh.
    switch (e.type) {
      case 'dns_failed': {
        const detail = `${e.cause}; keeping ${e.keptAddresses} known addresses`;
        this.logger[e.repeat === 1 ? 'warn' : 'debug'](e, `DNS refresh of ${e.service} failed: ${detail}`);
        this.recordDnsTrouble(entry, e, detail);
        break;
      }
      case 'dns_empty': {
        const detail = `${e.cause}; keeping the last known set for ${e.graceRemainingMs} ms`;
        this.logger[e.repeat === 1 ? 'warn' : 'debug'](e, `DNS has no addresses for ${e.service}: ${detail}`);
        this.recordDnsTrouble(entry, e, detail);
        break;
      }
      case 'dns_emptied': {
        const detail = `${e.cause}; no addresses past the grace period`;
        this.logger[e.repeat === 1 ? 'error' : 'debug'](
          e,
          `DNS has had no addresses for ${e.service} past the grace period: the service is empty (${e.cause})`,
        );
        this.recordDnsTrouble(entry, e, detail);
        break;
      }
      case 'dns_recovered': {
        const why = [e.failed > 0 ? `${e.failed} ${e.failed === 1 ? 'refresh' : 'refreshes'} failed` : null, e.empty > 0 ? `${e.empty} found no records` : null]
          .filter((x) => x !== null)
          .join(', ');
        const detail = `resolved again after ${formatMs(e.troubleMs)}: ${why}; last: ${e.lastCause}`;
        this.logger.info(e, `DNS of ${e.service} ${detail}`);
        this.events.record({ type: 'dns_recovered', service: e.service, detail, durationMs: e.troubleMs, failures: e.failed + e.empty });
        if (entry !== undefined) entry.dnsEventId = null;
        break;
      }
      case 'dns_resolved': {
        if (e.changed) this.logger.info({ service: e.service, addresses: e.addresses }, `DNS: ${e.service} has ${e.addresses.length} addresses`);
        // Refreshes never overlap: the one that just answered is the last one started.
        const sentAt = entry?.refresher.status().lastRefreshAt;
        if (entry !== undefined && sentAt != null)
          this.verdicts.answered(e.service, sentAt, (address) => entry.table.get(address)?.listed === true, Date.now());
        break;
      }
    }
    // The set may stay empty while the reason for it changes (no answer yet → nameserver refused).
    if (entry !== undefined && !entry.table.list().some((p) => p.listed) && emptyReason(entry) !== entry.sentReason) {
      this.workers.broadcast(peersMessage(e.service, entry));
    }
    this.events.notify({ kind: 'service', name: e.service });
  }

  /** The service was removed or replaced: its ejections wait for no DNS answer. */
  forgetService(service: string): void {
    this.verdicts.forgetService(service);
  }

  /**
   * Fewer than half of the service's known peers (listed, not held by an operator) alive: DNS is
   * asked about once a second until at least half are alive again, whatever dns.minRefresh says.
   * A service with next to nothing left to send to is worth one query a second, and during a
   * rollout the answer soon lists the replacements. A service DNS lists no pod for is not urgent:
   * nothing died, and DNS's own answer is retried at dns.minRefresh.
   */
  private checkUrgent(entry: ServiceEntry): void {
    let known = 0;
    let alive = 0;
    for (const peer of entry.table.list()) {
      if (!peer.listed || peer.hold !== null) continue;
      known++;
      if (peer.state === 'active') alive++;
    }
    const urgent = known > 0 && alive * 2 < known;
    if (urgent === entry.refresher.urgent) return;
    entry.refresher.setUrgent(urgent);
    const name = entry.config.name;
    if (urgent)
      this.logger.warn({ service: name, alive, known }, `${name}: ${alive} of ${known} pods alive: re-resolving ${entry.config.dnsName} every second`);
    else this.logger.info({ service: name, alive, known }, `${name}: ${alive} of ${known} pods alive: DNS refreshes back to their usual rhythm`);
    this.events.notify({ kind: 'service', name });
  }

  /** A DNS failure or empty answer: a new event when its cause is new, else the open one counts it. */
  private recordDnsTrouble(entry: ServiceEntry | undefined, e: DnsEvent & { repeat: number }, detail: string): void {
    const at = Date.now();
    if (e.repeat > 1 && entry?.dnsEventId != null) {
      if (this.events.update(entry.dnsEventId, { count: e.repeat, lastAt: at, detail }) !== null) return;
    }
    // A first occurrence, or the open event fell off the log: start one (with the count so far).
    const repeated = e.repeat > 1 ? { count: e.repeat, lastAt: at } : {};
    const full = this.events.record({ type: e.type, service: e.service, detail, at, ...repeated });
    if (entry !== undefined) entry.dnsEventId = full.id;
  }
}
