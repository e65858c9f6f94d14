import { AddressAllocator, nextSubnet } from './address-allocator.js';
import type { LabDnsServer } from './dns-server.js';
import { LabError } from './lab-error.js';
import { DEFAULT_GRACE_MS, LabPod, type TerminationMode } from './pod.js';
import { runRollingUpdate, type EmitStep, type RolloutOptions, type RolloutStep } from './rolling-update.js';

export type { RolloutOptions, RolloutStep } from './rolling-update.js';

export interface LabClusterOptions {
  dns: LabDnsServer;
  /** The headless Service name, e.g. image-lobby.lab.svc.cluster.local. */
  dnsName: string;
  /** Every pod listens on this port, as pods of one Deployment do; default 18080. */
  port?: number;
  /** Seconds; default 5, CoreDNS's kubernetes plugin default. */
  ttl?: number;
  /** Default 4. */
  replicas?: number;
  podDelayMs?: number;
  /** Second octet of pod IPs (127.<subnet>.x.y) so clusters do not collide; default from a counter. */
  subnet?: number;
}

// A clash with a pod of another process costs one address; this many in a row is a bug.
const MAX_BIND_ATTEMPTS = 64;

/**
 * A Deployment behind a headless Service, on loopback: each pod has its own 127.x IP and
 * the Service name resolves (in a LabDnsServer) to the IPs of the ready pods.
 */
export class LabCluster {
  readonly dnsName: string;
  readonly port: number;
  readonly #dns: LabDnsServer;
  readonly #ttl: number;
  readonly #podDelayMs: number | undefined;
  readonly #addresses: AddressAllocator;
  readonly #namePrefix: string;
  #replicas: number;
  #podCount = 0;
  #running: LabPod[] = [];
  readonly #all = new Set<LabPod>();
  readonly #listed = new Set<LabPod>();
  readonly #timers = new Map<NodeJS.Timeout, () => void>();
  #busy = false;
  #closed = false;

  private constructor(options: LabClusterOptions) {
    this.#dns = options.dns;
    this.dnsName = options.dnsName;
    this.port = options.port ?? 18080;
    this.#ttl = options.ttl ?? 5;
    this.#replicas = options.replicas ?? 4;
    this.#podDelayMs = options.podDelayMs;
    this.#addresses = new AddressAllocator(options.subnet ?? nextSubnet());
    this.#namePrefix = options.dnsName.split('.')[0] ?? 'pod';
    checkCount('replicas', this.#replicas);
    checkCount('ttl', this.#ttl);
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new LabError('LAB_INVALID_OPTION', `invalid port ${this.port}`);
    }
  }

  /** Starts `replicas` pods and publishes them in DNS. */
  static async start(options: LabClusterOptions): Promise<LabCluster> {
    const cluster = new LabCluster(options);
    try {
      for (let i = 0; i < cluster.#replicas; i++) cluster.#list(await cluster.#startPod());
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  get replicas(): number {
    return this.#replicas;
  }

  /** Running pods: started and not terminating (a new pod may not be listed yet). */
  get pods(): readonly LabPod[] {
    return [...this.#running];
  }

  /** Every pod not yet closed, terminating, hung and blackholed ones included. */
  get allPods(): readonly LabPod[] {
    return [...this.#all];
  }

  /** "ip:port" of the pods DNS lists now. */
  get listed(): readonly string[] {
    return [...this.#listed].map((pod) => pod.address);
  }

  /**
   * Replaces every pod, with Kubernetes RollingUpdate semantics. Resolves with every step
   * once DNS lists only new pods and every old pod finished terminating; a blackholed pod
   * stays blackholed (in allPods) until close(); a hung pod stays hung until its grace period
   * (`graceMs`) is over, then it is closed, as the kubelet kills a pod that ignored SIGTERM.
   */
  async rollingUpdate(options: RolloutOptions): Promise<RolloutStep[]> {
    return this.#exclusive(() =>
      runRollingUpdate(
        {
          replicas: this.#replicas,
          runningPods: () => this.#running,
          startPod: () => this.#startPod(),
          list: (pod) => this.#list(pod),
          retire: (pod, mode, dnsLagMs, graceMs, emit, blackholeMs) => this.#retire(pod, mode, dnsLagMs, graceMs, emit, blackholeMs),
          after: (ms, cancel) => this.#after(ms, cancel),
          isClosed: () => this.#closed,
        },
        options,
      ),
    );
  }

  /** Scales to `replicas`: new pods are listed at once; surplus ones (newest first) terminate gracefully. */
  async scale(replicas: number): Promise<void> {
    checkCount('replicas', replicas);
    await this.#exclusive(async () => {
      this.#replicas = replicas;
      while (this.#running.length < replicas) this.#list(await this.#startPod());
      const surplus = this.#running.slice(replicas);
      await Promise.all(surplus.map((pod) => this.#retire(pod, 'graceful', 0, undefined, () => {})));
    });
  }

  /**
   * Restarts a pod's container in place, as the kubelet does after a crash: the process dies
   * (connections reset, then refused) and the pod leaves DNS as it turns unready; `downMs` later a
   * new process listens on the same IP and port, and the pod is listed again. Resolves with the new
   * pod (same name and address) once it is listed.
   */
  async restartPod(pod: LabPod, options: { downMs: number }): Promise<LabPod> {
    checkCount('downMs', options.downMs);
    return this.#exclusive(async () => {
      const index = this.#running.indexOf(pod);
      if (index === -1) throw new LabError('LAB_INVALID_OPTION', `pod ${pod.name} is not running in ${this.dnsName}`);
      await pod.terminate('refuse');
      this.#unlist(pod);
      await pod.close();
      this.#all.delete(pod);
      // Until it is back (or if it cannot come back), the Deployment is a pod short.
      this.#running.splice(index, 1);
      await this.#after(options.downMs);
      if (this.#closed) throw new LabError('LAB_CLOSED', `cluster ${this.dnsName} is closed`);
      const next = await LabPod.start({ name: pod.name, host: pod.host, port: this.port, delayMs: this.#podDelayMs });
      this.#running.splice(index, 0, next);
      this.#all.add(next);
      this.#list(next);
      return next;
    });
  }

  /** Closes every pod (blackholed ones too) and removes the name from DNS. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const [timer, resolve] of this.#timers) {
      clearTimeout(timer);
      resolve();
    }
    this.#timers.clear();
    this.#listed.clear();
    this.#dns.removeName(this.dnsName);
    const pods = [...this.#all];
    this.#all.clear();
    this.#running = [];
    await Promise.all(pods.map((pod) => pod.close()));
  }

  async #exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new LabError('LAB_CLOSED', `cluster ${this.dnsName} is closed`);
    if (this.#busy) throw new LabError('LAB_BUSY', `cluster ${this.dnsName} is already rolling or scaling`);
    this.#busy = true;
    try {
      return await work();
    } finally {
      this.#busy = false;
    }
  }

  async #startPod(): Promise<LabPod> {
    for (let attempt = 1; ; attempt++) {
      if (this.#closed) throw new LabError('LAB_CLOSED', `cluster ${this.dnsName} is closed`);
      const name = `${this.#namePrefix}-${++this.#podCount}`;
      try {
        const pod = await LabPod.start({ name, host: this.#addresses.next(), port: this.port, delayMs: this.#podDelayMs });
        this.#running.push(pod);
        this.#all.add(pod);
        return pod;
      } catch (err) {
        // Another process's pod holds this address: skip it, never reuse one.
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= MAX_BIND_ATTEMPTS) throw err;
      }
    }
  }

  #list(pod: LabPod): void {
    this.#listed.add(pod);
    this.#publish();
  }

  #unlist(pod: LabPod): void {
    if (this.#listed.delete(pod)) this.#publish();
  }

  #publish(): void {
    if (this.#closed) return;
    // A headless Service with no ready endpoint has no records: CoreDNS answers NXDOMAIN.
    if (this.#listed.size === 0) this.#dns.removeName(this.dnsName);
    else this.#dns.setRecords(this.dnsName, { a: [...this.#listed].map((pod) => pod.host), ttl: this.#ttl });
  }

  /**
   * Kubernetes removes a terminating pod from the endpoints and signals it at the same
   * time, so the pod may die before DNS (and its TTL) stops listing it: dnsLagMs models that.
   */
  async #retire(pod: LabPod, mode: TerminationMode, dnsLagMs: number, graceMs: number | undefined, emit: EmitStep, blackholeMs?: number): Promise<void> {
    const retiredAt = Date.now();
    this.#running = this.#running.filter((p) => p !== pod);
    emit('pod_terminating', pod, mode);
    const unlisted = (async () => {
      if (dnsLagMs > 0) await this.#after(dnsLagMs);
      if (this.#closed || !this.#listed.has(pod)) return;
      this.#unlist(pod);
      emit('pod_unlisted', pod);
    })();
    const ended = (async () => {
      await pod.terminate(mode, graceMs === undefined ? {} : { graceMs });
      if (mode === 'blackhole' && blackholeMs !== undefined && !this.#closed) void this.#closeLater(pod, blackholeMs - (Date.now() - retiredAt));
      if (mode === 'blackhole' || this.#closed) return;
      // A frozen process never acts on SIGTERM: it is SIGKILLed when the grace period is over.
      if (mode === 'hang') await this.#after(graceMs ?? DEFAULT_GRACE_MS);
      if (this.#closed) return;
      await pod.close();
      this.#all.delete(pod);
      emit('pod_closed', pod);
    })();
    await Promise.all([unlisted, ended]);
  }

  /** Closes a pod after `ms`, outside any rollout (close() closes it anyway). */
  async #closeLater(pod: LabPod, ms: number): Promise<void> {
    await this.#after(Math.max(0, ms));
    if (this.#closed) return;
    this.#unlist(pod);
    await pod.close();
    this.#all.delete(pod);
  }

  /** A timer close() cuts short, so no lab timer outlives its cluster. */
  #after(ms: number, cancel?: AbortSignal): Promise<void> {
    if (this.#closed || cancel?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#timers.delete(timer);
        cancel?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#timers.set(timer, done);
      cancel?.addEventListener('abort', done, { once: true });
    });
  }
}

function checkCount(key: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 0)) throw new LabError('LAB_INVALID_OPTION', `invalid ${key}: ${value}`);
}
