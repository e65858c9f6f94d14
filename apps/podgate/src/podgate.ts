import { DnsRefresher, type DnsEvent } from '@podgate/discovery';
import type { PeerEvent, PodgateConfig, ServiceConfig } from '@podgate/protocol';
import { ProxyServer } from '@podgate/proxy';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';

export interface PodgateOptions {
  logger?: Logger;
  /** Every peer-table change and DNS event, for tests and (later) the live feed. */
  onEvent?: (event: PeerEvent | DnsEvent) => void;
}

/**
 * The daemon in one process: the data plane plus one DNS refresh loop per service feeding it.
 * Loops are independent: one service's DNS trouble never delays another's.
 */
export class Podgate {
  readonly proxy: ProxyServer;
  readonly logger: Logger;
  private readonly config: PodgateConfig;
  private readonly refreshers = new Map<string, DnsRefresher>();
  private readonly onEvent: (event: PeerEvent | DnsEvent) => void;

  private constructor(config: PodgateConfig, options: PodgateOptions) {
    this.config = config;
    this.logger = options.logger ?? pino({ level: config.log.level });
    this.onEvent = options.onEvent ?? (() => undefined);
    this.proxy = new ProxyServer({ config: { ...config, services: [] }, logger: this.logger, onPeerEvent: (e) => this.peerEvent(e) });
  }

  static async start(config: PodgateConfig, options: PodgateOptions = {}): Promise<Podgate> {
    const podgate = new Podgate(config, options);
    for (const service of config.services) podgate.addService(service);
    const address = await podgate.proxy.listen();
    podgate.logger.info({ listen: `${address.address}:${address.port}`, services: config.services.map((s) => s.name) }, 'podgate is serving');
    return podgate;
  }

  get address(): AddressInfo {
    return this.proxy.address as AddressInfo;
  }

  addService(service: ServiceConfig): void {
    this.proxy.addService(service);
    const refresher = new DnsRefresher({
      service: service.name,
      dnsName: service.dnsName,
      dns: this.config.dns,
      onAddresses: (ips) => this.proxy.setAddresses(service.name, ips),
      onEvent: (e) => this.dnsEvent(e),
    });
    this.refreshers.set(service.name, refresher);
    refresher.start();
  }

  async removeService(name: string): Promise<void> {
    this.refreshers.get(name)?.stop();
    this.refreshers.delete(name);
    await this.proxy.removeService(name);
  }

  dnsStatus(name: string) {
    return this.refreshers.get(name)?.status();
  }

  /** Stops DNS loops, stops accepting, lets in-flight requests finish up to `graceMs`. */
  async close(graceMs = 10_000): Promise<void> {
    for (const r of this.refreshers.values()) r.stop();
    this.refreshers.clear();
    await this.proxy.close(graceMs);
  }

  private peerEvent(e: PeerEvent): void {
    if (e.type === 'peer_ejected') {
      this.logger.warn(e, `peer ${e.address} ejected: ${e.detail ?? e.reason}`);
      // A pod that dies is usually a rollout: look for its replacement now rather than at the TTL.
      if (e.reason !== 'operator_eject') this.refreshers.get(e.service)?.refreshSoon();
    } else this.logger.info(e, `${e.type.replace('_', ' ')} ${e.address}`.trim());
    this.onEvent(e);
  }

  private dnsEvent(e: DnsEvent): void {
    if (e.type === 'dns_failed') this.logger.warn(e, `DNS refresh of ${e.service} failed (${e.code}): keeping ${e.keptAddresses} known addresses`);
    else if (e.type === 'dns_empty') this.logger.warn(e, `DNS has no addresses for ${e.service} (${e.code}): keeping the last known set for ${e.graceRemainingMs} ms`);
    else if (e.type === 'dns_emptied') this.logger.error(e, `DNS has had no addresses for ${e.service} past the grace period: the service is empty`);
    else if (e.changed) this.logger.info({ service: e.service, addresses: e.addresses }, `DNS: ${e.service} has ${e.addresses.length} addresses`);
    this.onEvent(e);
  }
}
