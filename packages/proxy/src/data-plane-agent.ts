import type { PeerEvent } from '@podgate/protocol';
import type { ProxyServer } from './proxy-server.js';
import type { DataPlaneNotice } from './service-runtime.js';
import type { ToPrimary, ToWorker } from './messages.js';

// Counters reach the primary at least once a second (issue 3); twice gives the feed fresher numbers.
const STATS_INTERVAL_MS = 500;

/**
 * The data plane's side of the messages: applies what the primary decided to the local
 * ProxyServer, and reports local ejections at once and counters periodically.
 */
export class DataPlaneAgent {
  private readonly timer: NodeJS.Timeout;
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly proxy: ProxyServer,
    private readonly worker: number,
    private readonly send: (message: ToPrimary) => void,
    statsIntervalMs = STATS_INTERVAL_MS,
  ) {
    this.timer = setInterval(() => this.send({ type: 'stats', stats: this.proxy.stats(this.worker) }), statsIntervalMs);
    this.timer.unref();
  }

  /** For ProxyServer's onPeerEvent: a peer this worker ejected on its own evidence. */
  readonly onLocalEvent = (e: PeerEvent): void => {
    if (e.type !== 'peer_ejected' || e.reason === null || e.reason === 'operator_eject') return;
    this.send({ type: 'ejected', service: e.service, address: e.address, reason: e.reason, detail: e.detail ?? '', at: e.at });
  };

  /** For ProxyServer's onNotice: something worth an event in the primary's log. */
  readonly onNotice = (n: DataPlaneNotice): void => {
    this.send({ type: 'notice', service: n.service, address: n.address, kind: n.type, detail: n.detail, at: Date.now() });
  };

  /** Messages are applied in order; `services` may wait for pools to close. */
  receive(message: ToWorker): Promise<void> {
    this.applying = this.applying.then(() => this.apply(message));
    return this.applying;
  }

  private async apply(message: ToWorker): Promise<void> {
    switch (message.type) {
      case 'services':
        await this.proxy.applyServices(message.services);
        return;
      case 'peers':
        this.proxy.setPeers(message.service, message.addresses, message.states, message.reason);
        return;
      case 'peer_state':
        this.proxy.syncPeer(message.service, message.peer);
        return;
      case 'barrier':
        // The counts after every earlier message took effect (a drain: what is left in flight).
        this.send({ type: 'stats', stats: this.proxy.stats(this.worker), barrier: message.seq });
        return;
    }
  }

  /** Sends the final counters. */
  close(): void {
    clearInterval(this.timer);
    this.send({ type: 'stats', stats: this.proxy.stats(this.worker) });
  }
}
