import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { BlackholeListener } from './blackhole-listener.js';
import { freezeSocket } from './freeze-socket.js';
import { LabError } from './lab-error.js';
import { routePodRequest, type PodRouteContext } from './pod-routes.js';

/**
 * How a pod dies during a rolling update, after the three nginx errors of the seed write-up:
 * - `graceful`: SIGTERM handled well — no new connections, in-flight requests finish.
 * - `refuse`: the process is gone, the IP still there — resets, then `111: Connection refused`.
 * - `blackhole`: nothing answers at all — requests hang, connects time out (`113`).
 * - `hang`: the process freezes (SIGSTOP, a deadlock, a GC spiral, a frozen cgroup; issue 12) while
 *   its kernel lives on — connects still pass and requests are buffered, nothing is ever answered,
 *   kept-alive sockets stay open and silent — until close() (the kubelet's SIGKILL).
 */
export type TerminationMode = 'graceful' | 'refuse' | 'blackhole' | 'hang';
export type LabPodState = 'running' | TerminationMode | 'closed';

export interface LabPodOptions {
  name: string;
  /** Its own loopback IP (127.0.0.0/8), e.g. 127.0.1.7, as a pod has its own IP. */
  host: string;
  /** 0 lets the kernel choose (handy in tests); `port` then tells which. */
  port: number;
  /** Wait before answering /recognize; default 0. */
  delayMs?: number;
  /** Idle keep-alive sockets are closed after this; default 5000 (node's own default). */
  keepAliveTimeoutMs?: number;
}

// Kubernetes' default terminationGracePeriodSeconds is 30.
export const DEFAULT_GRACE_MS = 30_000;

export class LabPod {
  readonly name: string;
  readonly host: string;
  #port: number;
  readonly #server: http.Server;
  /** node:http's own 'connection' listeners (its parser); a hung pod detaches them. */
  readonly #httpConnectionListeners: ReadonlyArray<(...args: unknown[]) => void>;
  readonly #sockets = new Set<net.Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #state: LabPodState = 'running';
  #served = 0;
  #inFlight = 0;
  #blackhole: BlackholeListener | undefined;
  #terminating: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  readonly #routeContext: PodRouteContext;

  private constructor(options: LabPodOptions) {
    this.name = options.name;
    this.host = options.host;
    this.#port = options.port;
    this.#routeContext = {
      name: options.name,
      delayMs: options.delayMs ?? 0,
      reply: (res, status, body, replyOptions) => this.#reply(res, status, body, replyOptions?.close ?? false),
      answering: () => this.#answering(),
      countServed: () => {
        this.#served++;
      },
      later: (ms, fn) => {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          fn();
        }, ms);
        this.#timers.add(timer);
      },
    };
    this.#server = http.createServer({ keepAliveTimeout: options.keepAliveTimeoutMs ?? 5000 }, (req, res) => this.#onRequest(req, res));
    this.#httpConnectionListeners = this.#server.listeners('connection') as Array<(...args: unknown[]) => void>;
    this.#server.on('connection', (socket: net.Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      if (this.#state === 'hang') {
        // No node:http listener on it, so nothing else would catch a reset.
        socket.on('error', () => {});
        freezeSocket(socket);
      }
    });
    // A client that resets mid-request must not crash the lab.
    this.#server.on('clientError', (_err, socket) => socket.destroy());
  }

  static async start(options: LabPodOptions): Promise<LabPod> {
    validate(options);
    const pod = new LabPod(options);
    await new Promise<void>((resolve, reject) => {
      pod.#server.once('error', reject);
      pod.#server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
        pod.#server.off('error', reject);
        const bound = pod.#server.address();
        if (bound !== null && typeof bound === 'object') pod.#port = bound.port;
        resolve();
      });
    });
    return pod;
  }

  /** The port bound; the kernel's choice when the options said 0. */
  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Requests answered, on any route (the raw /invalid-header head counts; /close and /reset do not). */
  get served(): number {
    return this.#served;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get state(): LabPodState {
    return this.#state;
  }

  servedSince(mark: number): number {
    return this.#served - mark;
  }

  /**
   * Starts dying in `mode`. Resolves when the termination is in effect: `graceful` once
   * in-flight requests finished (or `graceMs` passed, then the rest are cut), `refuse` at
   * once, `blackhole` once connects time out, `hang` at once (frozen; it stays so until close(),
   * which is for the caller to do, as the kubelet kills a pod past its grace period). Terminating
   * twice returns the first promise.
   */
  terminate(mode: TerminationMode, options: { graceMs?: number } = {}): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new LabError('LAB_CLOSED', `pod ${this.name} is closed`));
    this.#terminating ??= this.#terminate(mode, options.graceMs ?? DEFAULT_GRACE_MS);
    return this.#terminating;
  }

  /** Frees everything — listener, sockets, timers, the python child — whatever the state. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#clearTimers();
    if (this.#server.listening) this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
    this.#drained?.();
    await this.#blackhole?.close();
  }

  async #terminate(mode: TerminationMode, graceMs: number): Promise<void> {
    if (mode === 'graceful') {
      this.#state = mode;
      return this.#terminateGracefully(graceMs);
    }
    if (mode === 'refuse') {
      this.#state = mode;
      this.#server.close();
      this.#clearTimers();
      for (const socket of this.#sockets) socket.destroy();
      return;
    }
    if (mode === 'hang') {
      this.#freeze();
      return;
    }
    // python takes over the listening socket itself (node's internal handle fd, stable on
    // Unix), so connects go from accepted straight to timing out, never refused in between.
    // The pod keeps serving while python starts (tens of ms, more under load) and goes silent
    // only once python holds the socket: a node that is lost stops everything at one instant,
    // with no stretch in which connects pass but nothing answers (a hung process, not this).
    const fd = (this.#server as unknown as { _handle?: { fd?: number } })._handle?.fd;
    const inherit = fd !== undefined && fd >= 0 ? { fd, release: () => this.#startBlackhole() } : undefined;
    if (inherit === undefined) this.#startBlackhole();
    const listener = await BlackholeListener.start(this.host, this.port, inherit);
    // close() may have run while python was starting.
    if ((this.#state as LabPodState) === 'closed') await listener.close();
    else this.#blackhole = listener;
  }

  async #terminateGracefully(graceMs: number): Promise<void> {
    // http.Server#close stops accepting and closes idle keep-alive sockets at once; busy
    // ones get `Connection: close` on their response (see #reply).
    this.#server.close();
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#drained = undefined;
    }
    // Past the grace period the kubelet sends SIGKILL: whatever is left is cut.
    for (const socket of this.#sockets) socket.destroy();
  }

  #startBlackhole(): void {
    // close() may have run while python was starting.
    if (this.#state === 'closed') return;
    this.#state = 'blackhole';
    // net.Server#close, not http.Server#close: the latter also closes idle keep-alive
    // sockets, and a blackholed pod must keep them open and silent.
    net.Server.prototype.close.call(this.#server);
    // 0 disables node's per-server request/headers timers, which would answer 408.
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 0;
    this.#clearTimers();
    for (const socket of this.#sockets) {
      socket.setTimeout(0);
      socket.pause();
    }
  }

  /**
   * A stopped process: the listening socket stays open, so the kernel still completes handshakes
   * and buffers what clients send, but nothing is read or answered. One difference: node keeps
   * accepting, so the listen backlog (511) never fills; a truly stopped process would start
   * dropping SYNs past it, which a proxy's connects would see as timeouts (the blackhole case).
   */
  #freeze(): void {
    this.#state = 'hang';
    // New connections get no HTTP parser and are created with their reads stopped.
    for (const listener of this.#httpConnectionListeners) this.#server.off('connection', listener);
    (this.#server as unknown as { pauseOnConnect: boolean }).pauseOnConnect = true;
    // 0 disables node's per-server request/headers timers, which would answer 408.
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 0;
    // Answers due later (delayMs, /slow) never come.
    this.#clearTimers();
    for (const socket of this.#sockets) freezeSocket(socket);
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#inFlight++;
    res.once('close', () => {
      this.#inFlight--;
      if (this.#inFlight === 0) this.#drained?.();
    });
    if (this.#state === 'blackhole') {
      // A request that slipped in on a kept socket: never answered, socket kept.
      req.socket.setTimeout(0);
      req.socket.pause();
      return;
    }
    if (this.#state === 'hang') {
      freezeSocket(req.socket);
      return;
    }
    routePodRequest(this.#routeContext, req, res);
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #answering(): boolean {
    return this.#state === 'running' || this.#state === 'graceful';
  }

  #reply(res: ServerResponse, status: number, body: unknown, close: boolean): void {
    if (!this.#answering() || res.writableEnded || res.destroyed) return;
    // RFC 9110 §15.3.5, §15.4.5: 204 and 304 carry no content.
    const data = status === 204 || status === 304 ? '' : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { 'content-length': Buffer.byteLength(data) };
    if (data !== '') headers['content-type'] = 'application/json';
    if (close || this.#state === 'graceful') headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(data);
    this.#served++;
  }
}

function validate(options: LabPodOptions): void {
  if (!net.isIPv4(options.host) || !options.host.startsWith('127.')) {
    throw new LabError('LAB_INVALID_OPTION', `invalid host ${options.host}: the lab binds loopback only (127.0.0.0/8)`);
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new LabError('LAB_INVALID_OPTION', `invalid port ${options.port}`);
  }
  if (options.delayMs !== undefined && !(options.delayMs >= 0)) {
    throw new LabError('LAB_INVALID_OPTION', `invalid delayMs ${options.delayMs}`);
  }
}
