import { Resolver } from 'node:dns/promises';
import type { DnsConfig } from '@podgate/protocol';
import { isIP } from 'node:net';
import { sameAddresses, sortAddresses } from './address-order.js';
import { DiscoveryError } from './discovery-error.js';
import { classifyAnswers, describeDnsError, type DnsOutcome } from './dns-outcome.js';
import { answerDelayMs, retryDelayMs, scheduledDelayMs } from './refresh-delay.js';

/** While urgent, refreshes start this often at least, whatever minRefreshMs and the TTL say. */
export const URGENT_REFRESH_MS = 1000;

/**
 * What a service's DNS says right now: no answer yet (`resolving`), addresses (`resolved`), the
 * name has no records (`empty`: NXDOMAIN or NODATA, a real answer), or the nameserver failing
 * (`failing`: refused, timed out, SERVFAIL...: the answer is unknown, not empty).
 */
export type DnsCondition = 'resolving' | 'resolved' | 'empty' | 'failing';

/**
 * `cause` names what happened and the nameserver (`127.0.0.1:53: connection refused`). `repeat`
 * counts the refreshes in a row that ended this same way (same type and cause), this one
 * included: 1 means the cause is new, so a listener can collapse the rest into one record.
 */
export type DnsEvent =
  /** `ttlSeconds`: the answer's lowest TTL; null when no record carried one (refreshed at minRefreshMs). */
  | { type: 'dns_resolved'; service: string; addresses: readonly string[]; ttlSeconds: number | null; nextRefreshMs: number; changed: boolean }
  /** The nameserver failed: the last known good set is kept. */
  | {
      type: 'dns_failed';
      service: string;
      code: string;
      message: string;
      cause: string;
      keptAddresses: number;
      lastKnownGoodAgeMs: number | null;
      repeat: number;
    }
  /** NXDOMAIN or no records, still inside the grace period: the last known good set is kept. */
  | { type: 'dns_empty'; service: string; code: 'ENOTFOUND' | 'ENODATA'; cause: string; graceRemainingMs: number; repeat: number }
  /** Grace over (or nothing to keep): the service has no addresses. */
  | { type: 'dns_emptied'; service: string; code: 'ENOTFOUND' | 'ENODATA'; cause: string; repeat: number }
  /**
   * The first answer with addresses after refreshes that failed or found no records: how long
   * that lasted (from the first of them to this answer) and how many there were of each.
   */
  | { type: 'dns_recovered'; service: string; troubleMs: number; failed: number; empty: number; lastCause: string };

export interface DnsStatus {
  lastRefreshAt: number | null;
  lastSuccessAt: number | null;
  lastError: { code: string; message: string; at: number } | null;
  lastKnownGoodAgeMs: number | null;
  addresses: readonly string[];
  nextRefreshAt: number | null;
  /** Refreshes so far by result, for metrics. */
  refreshes: { resolved: number; failed: number; empty: number };
  condition: DnsCondition;
  /** While `empty` or `failing`: what is wrong, in one line that names the name and the nameserver. */
  problem: string | null;
  /** While `empty` or `failing`: when the first refresh of the current run without addresses landed. */
  troubleSince: number | null;
  /** Refreshing at least once a second because the service is short of live pods (setUrgent). */
  urgent: boolean;
}

export interface DnsRefresherOptions {
  service: string;
  dnsName: string;
  dns: DnsConfig;
  /** Called only when the set changes, with sorted, deduplicated IPv4 and IPv6 addresses. */
  onAddresses: (addresses: readonly string[]) => void;
  /** Called once per refresh with what it found. */
  onEvent?: (event: DnsEvent) => void;
  /** Random source for jitter, in [0, 1). Default Math.random. */
  random?: () => number;
  /** Clock in ms. Default Date.now. */
  now?: () => number;
}

/**
 * Resolves one Service's headless DNS name on a timer that follows the answer's TTL, and keeps the
 * last known good addresses through DNS failures. Refreshers share nothing, so one service's DNS
 * trouble never delays another's (the failure mode of the nginx setup podgate replaces).
 */
export class DnsRefresher {
  readonly #service: string;
  readonly #dnsName: string;
  readonly #dns: DnsConfig;
  readonly #onAddresses: (addresses: readonly string[]) => void;
  readonly #onEvent: (event: DnsEvent) => void;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #resolver: Resolver;

  #addresses: readonly string[] = [];
  #lastRefreshAt: number | null = null;
  #lastSuccessAt: number | null = null;
  #lastError: DnsStatus['lastError'] = null;
  #nextRefreshAt: number | null = null;
  /** When the first NXDOMAIN/NODATA of the current empty streak came; null while answers have addresses. */
  #emptySince: number | null = null;
  #running = false;
  /** Bumped by stop(), so a refresh that was in flight then changes nothing when it lands. */
  #generation = 0;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #soonRequested = false;
  #urgent = false;
  readonly #refreshes = { resolved: 0, failed: 0, empty: 0 };
  #condition: DnsCondition = 'resolving';
  #problem: string | null = null;
  /** The current run of refreshes without addresses; null while answers have addresses. */
  #trouble: { since: number; failed: number; empty: number; key: string; repeat: number; cause: string } | null = null;

  constructor(options: DnsRefresherOptions) {
    validate(options);
    this.#service = options.service;
    this.#dnsName = options.dnsName;
    this.#dns = options.dns;
    this.#onAddresses = options.onAddresses;
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#resolver = new Resolver({ timeout: options.dns.timeoutMs, tries: options.dns.attempts });
    try {
      this.#resolver.setServers(options.dns.nameservers);
    } catch (error) {
      throw new DiscoveryError('PODGATE_DNS_INVALID_OPTION', `invalid dns.nameservers: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** Resolves at once, then again after each answer's TTL (bounded) until stop(). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.refresh();
  }

  stop(): void {
    this.#running = false;
    this.#generation += 1;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#nextRefreshAt = null;
    this.#inFlight = null;
    this.#resolver.cancel();
  }

  /** One refresh now; joins the one in flight rather than overlapping it. Never rejects. */
  refresh(): Promise<void> {
    if (this.#inFlight !== null) return this.#inFlight;
    const tracked: Promise<void> = this.#refreshOnce(this.#generation).finally(() => {
      if (this.#inFlight !== tracked) return;
      this.#inFlight = null;
      if (this.#soonRequested) {
        this.#soonRequested = false;
        this.refreshSoon();
      }
    });
    this.#inFlight = tracked;
    return tracked;
  }

  /**
   * Asks for an early refresh, e.g. because a pod just died: a rollout is probably under way and
   * the answer may already list its replacement. Still no sooner than minRefreshMs after the last
   * refresh, so a burst of failures costs one query, not one each.
   */
  refreshSoon(): void {
    if (!this.#running) return;
    if (this.#inFlight !== null) {
      // The query in flight may predate the change: ask again once it lands.
      this.#soonRequested = true;
      return;
    }
    const earliest = (this.#lastRefreshAt ?? 0) + this.#dns.minRefreshMs;
    if (this.#nextRefreshAt !== null && this.#nextRefreshAt <= earliest) return;
    this.#schedule(Math.max(0, earliest - this.#now()));
  }

  /**
   * Urgent while the service is short of live pods (the control plane decides): refreshes then
   * start at least every URGENT_REFRESH_MS, the first at once unless one started less than that
   * ago, whatever minRefreshMs says. A service with next to nothing left to send to is worth one
   * query a second; the answer may already list the replacements. Off: back to the TTL's rhythm
   * after the next refresh.
   */
  setUrgent(urgent: boolean): void {
    if (urgent === this.#urgent) return;
    this.#urgent = urgent;
    // With a refresh in flight, its end schedules the next one within the urgent interval.
    if (!urgent || !this.#running || this.#inFlight !== null) return;
    const earliest = (this.#lastRefreshAt ?? 0) + URGENT_REFRESH_MS;
    if (this.#nextRefreshAt !== null && this.#nextRefreshAt <= earliest) return;
    this.#schedule(Math.max(0, earliest - this.#now()));
  }

  get urgent(): boolean {
    return this.#urgent;
  }

  status(): DnsStatus {
    return {
      lastRefreshAt: this.#lastRefreshAt,
      lastSuccessAt: this.#lastSuccessAt,
      lastError: this.#lastError,
      lastKnownGoodAgeMs: this.#lastKnownGoodAgeMs(),
      addresses: this.#addresses,
      nextRefreshAt: this.#nextRefreshAt,
      refreshes: { ...this.#refreshes },
      condition: this.#condition,
      problem: this.#problem,
      troubleSince: this.#trouble?.since ?? null,
      urgent: this.#urgent,
    };
  }

  async #refreshOnce(generation: number): Promise<void> {
    const startedAt = this.#now();
    this.#lastRefreshAt = startedAt;
    let delayMs: number;
    try {
      const [v4, v6] = await Promise.allSettled([this.#resolver.resolve4(this.#dnsName, { ttl: true }), this.#resolver.resolve6(this.#dnsName, { ttl: true })]);
      if (generation !== this.#generation) return;
      delayMs = this.#apply(classifyAnswers(v4, v6, this.#dnsName));
    } catch (error) {
      // Only a listener can throw here; the loop goes on and the next refresh delivers again.
      if (generation !== this.#generation) return;
      const message = error instanceof Error ? error.message : String(error);
      this.#lastError = { code: 'PODGATE_DNS_LISTENER_FAILED', message, at: this.#now() };
      delayMs = retryDelayMs(this.#dns, this.#random);
    }
    if (this.#urgent) delayMs = Math.min(delayMs, Math.max(0, startedAt + URGENT_REFRESH_MS - this.#now()));
    this.#schedule(delayMs);
  }

  /** Applies one outcome to the state, tells the listeners, and returns the delay to the next refresh. */
  #apply(outcome: DnsOutcome): number {
    const at = this.#now();
    this.#refreshes[outcome.kind]++;
    if (outcome.kind === 'resolved') {
      let addresses = outcome.addresses;
      let delayMs = answerDelayMs(outcome.ttlSeconds, this.#dns, this.#random);
      if (outcome.failedFamily !== null) {
        // One family answered, the other timed out: unknown is not empty, keep that family's pods.
        const family = outcome.failedFamily;
        addresses = sortAddresses([...addresses, ...this.#addresses.filter((a) => isIP(a) === family)]);
        delayMs = Math.min(delayMs, retryDelayMs(this.#dns, this.#random));
      }
      const trouble = this.#trouble;
      this.#condition = 'resolved';
      this.#problem = null;
      this.#trouble = null;
      this.#lastSuccessAt = at;
      this.#emptySince = null;
      if (trouble !== null) {
        this.#onEvent({
          type: 'dns_recovered',
          service: this.#service,
          troubleMs: at - trouble.since,
          failed: trouble.failed,
          empty: trouble.empty,
          lastCause: trouble.cause,
        });
      }
      const changed = !sameAddresses(addresses, this.#addresses);
      if (changed) this.#setAddresses(addresses);
      this.#onEvent({
        type: 'dns_resolved',
        service: this.#service,
        addresses,
        ttlSeconds: outcome.ttlSeconds,
        nextRefreshMs: delayMs,
        changed,
      });
      return delayMs;
    }
    const cause = describeDnsError(outcome.code, outcome.message, {
      dnsName: this.#dnsName,
      nameservers: this.#dns.nameservers,
      timeoutMs: this.#dns.timeoutMs,
      attempts: this.#dns.attempts,
    });
    this.#lastError = { code: outcome.code, message: cause, at };
    const retryMs = retryDelayMs(this.#dns, this.#random);
    if (outcome.kind === 'failed') {
      // Unknown is not empty: keep serving the last known good set.
      const repeat = this.#noteTrouble('failing', `dns_failed ${outcome.code} ${cause}`, cause, at);
      this.#problem = `DNS lookup of ${this.#dnsName} failed: ${cause}`;
      this.#onEvent({
        type: 'dns_failed',
        service: this.#service,
        code: outcome.code,
        message: outcome.message,
        cause,
        keptAddresses: this.#addresses.length,
        lastKnownGoodAgeMs: this.#lastKnownGoodAgeMs(),
        repeat,
      });
      return retryMs;
    }
    // An NXDOMAIN can be a DNS blip during a rollout or a Service re-created: wait emptyGraceMs
    // before dropping every pod, and check again at the end of the grace rather than later.
    this.#emptySince ??= at;
    this.#problem = cause;
    const graceRemainingMs = this.#emptySince + this.#dns.emptyGraceMs - at;
    if (graceRemainingMs > 0 && this.#addresses.length > 0) {
      const repeat = this.#noteTrouble('empty', `dns_empty ${outcome.code} ${cause}`, cause, at);
      this.#onEvent({ type: 'dns_empty', service: this.#service, code: outcome.code, cause, graceRemainingMs, repeat });
      return Math.min(retryMs, graceRemainingMs);
    }
    const repeat = this.#noteTrouble('empty', `dns_emptied ${outcome.code} ${cause}`, cause, at);
    if (this.#addresses.length > 0) this.#setAddresses([]);
    this.#onEvent({ type: 'dns_emptied', service: this.#service, code: outcome.code, cause, repeat });
    return retryMs;
  }

  /** Counts a refresh without addresses in the current run; returns how many in a row had this `key`. */
  #noteTrouble(condition: 'failing' | 'empty', key: string, cause: string, at: number): number {
    this.#condition = condition;
    const trouble = (this.#trouble ??= { since: at, failed: 0, empty: 0, key, repeat: 0, cause });
    if (condition === 'failing') trouble.failed++;
    else trouble.empty++;
    if (trouble.key === key) trouble.repeat++;
    else {
      trouble.key = key;
      trouble.repeat = 1;
    }
    trouble.cause = cause;
    return trouble.repeat;
  }

  #setAddresses(addresses: readonly string[]): void {
    // The listener goes first: if it throws, the set stays the old one and the next refresh retries.
    this.#onAddresses(addresses);
    this.#addresses = addresses;
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#running) {
      this.#nextRefreshAt = null;
      return;
    }
    const now = this.#now();
    // Defence in depth (issue 17: a NaN delay fired the timer every millisecond, ~1,000 queries a
    // second): whatever computed it, the delay is finite, at most maxRefreshMs, and the next refresh
    // starts no sooner than min(minRefreshMs, URGENT_REFRESH_MS) after the last one started. The
    // urgent rhythm and the end of an empty grace period may come sooner than minRefreshMs; nothing
    // comes sooner than that floor.
    const floorMs = this.#lastRefreshAt === null ? 0 : this.#lastRefreshAt + Math.min(this.#dns.minRefreshMs, URGENT_REFRESH_MS) - now;
    delayMs = scheduledDelayMs(delayMs, floorMs, this.#dns);
    this.#nextRefreshAt = now + delayMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.refresh();
    }, delayMs);
    // A refresher alone must not keep the process alive.
    this.#timer.unref();
  }

  #lastKnownGoodAgeMs(): number | null {
    return this.#lastSuccessAt === null ? null : this.#now() - this.#lastSuccessAt;
  }
}

function validate(options: DnsRefresherOptions): void {
  const { dns } = options;
  const fail = (path: string, why: string): never => {
    throw new DiscoveryError('PODGATE_DNS_INVALID_OPTION', `invalid ${path}: ${why}`);
  };
  if (options.service.length === 0) fail('service', 'empty');
  if (options.dnsName.length === 0) fail('dnsName', 'empty');
  if (dns.nameservers.length === 0) fail('dns.nameservers', 'empty');
  if (!Number.isInteger(dns.timeoutMs) || dns.timeoutMs <= 0) fail('dns.timeoutMs', 'must be a positive integer');
  if (!Number.isInteger(dns.attempts) || dns.attempts <= 0) fail('dns.attempts', 'must be a positive integer');
  // A positive floor bounds how often the loop can run even with TTL 0 answers.
  if (!(dns.minRefreshMs > 0)) fail('dns.minRefreshMs', 'must be positive');
  if (!(dns.maxRefreshMs >= dns.minRefreshMs)) fail('dns.maxRefreshMs', 'must be at least dns.minRefreshMs');
  if (!(dns.emptyGraceMs >= 0)) fail('dns.emptyGraceMs', 'must not be negative');
  if (!(dns.jitter >= 0 && dns.jitter <= 1)) fail('dns.jitter', 'must be between 0 and 1');
}
