import type { Peer } from '@podgate/balancer';
import { CONNECT_PHASE_CAUSES } from '@podgate/protocol';
import type { Dispatcher, Pool } from 'undici';
import type { Socket } from 'node:net';
import { sendClientError } from './client-error.js';
import { classifyError, statusClass, type TryFailure } from './failure.js';
import type { ClientExchange, ExchangeOwner } from './front/client-exchange.js';
import { forwardableHeaders, headerDrop } from './hop-by-hop.js';
import type { ProxyContext } from './proxy-context.js';
import type { RequestBody } from './request-body.js';
import type { ServiceRuntime } from './service-runtime.js';
import { ABANDONED, UpstreamTry } from './upstream-try.js';
import { bucketOf } from './messages.js';

// RFC 9110 §9.2.2: methods whose repetition has the same effect as one request.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
// Request headers podgate sets itself.
const REWRITTEN = headerDrop(['content-length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/**
 * One client request through its tries: picks a peer this request has not tried, dispatches,
 * classifies a failure, ejects, retries while the rules of `retry` (docs/config.md) allow, and
 * streams the chosen response back. Nothing is retried once response bytes went to the client.
 */
export class ProxyRequest implements ExchangeOwner {
  readonly id: string;
  readonly service: ServiceRuntime;
  clientGone = false;

  private readonly ctx: ProxyContext;
  private readonly ex: ClientExchange;
  private readonly start: number;
  private readonly body: RequestBody;
  private readonly headers: string[];
  private readonly retryNonIdempotent: boolean;
  private readonly tried: Peer<Pool>[] = [];
  /** Tries that may still produce the response (usually one). */
  private live: UpstreamTry[] = [];
  private lastFailure: TryFailure | null = null;
  /** Tries rescued from a dead peer: each gives its try back (see triesLeft). */
  private rescues = 0;
  /** Tries undici has not finished with (the body is theirs to read until then). */
  private openTries = 0;
  committed = false;
  private finished = false;
  private status = 0;

  constructor(ctx: ProxyContext, service: ServiceRuntime, ex: ClientExchange, id: string, start: number, body: RequestBody) {
    this.ctx = ctx;
    this.service = service;
    this.ex = ex;
    this.id = id;
    this.start = start;
    this.body = body;
    this.retryNonIdempotent = IDEMPOTENT.has(ex.method) || service.config.retry.on.includes('non_idempotent');
    this.headers = this.upstreamHeaders();
    ex.owner = this;
  }

  get method(): string {
    return this.ex.method;
  }

  get path(): string {
    return this.ex.url;
  }

  get client(): string {
    return this.ex.remoteAddress;
  }

  /** Starts the first try. */
  run(): void {
    this.service.retryBudget.deposit(this.start);
    this.service.counters.requests++;
    this.service.counters.inFlight++;
    this.nextTry();
  }

  private upstreamHeaders(): string[] {
    const ex = this.ex;
    const out = forwardableHeaders(ex.rawHeaders, ex.connection, REWRITTEN);
    const client = ex.remoteAddress;
    const xff = ex.forwardedFor;
    out.push('x-forwarded-for', xff === undefined ? client : `${xff}, ${client}`);
    out.push('x-forwarded-proto', 'http');
    if (ex.host !== undefined) out.push('x-forwarded-host', ex.host);
    if (!ex.hasRequestId) out.push('x-request-id', this.id);
    const length = this.body.contentLength();
    if (length !== null) out.push('content-length', String(length));
    return out;
  }

  /** The client's connection closed (for a response still being written: the client left). */
  onClientClose(): void {
    if (this.ex.finished) return;
    this.clientGone = true;
    for (const t of this.live) t.abort(new Error('client closed the connection'));
    if (this.live.length === 0) this.finish(499);
  }

  /**
   * Starts a try on a peer this request has not tried. Callers checked mayTryAgain (the first try
   * always may). Returns false when no peer is left; with nothing else in flight the request then
   * fails.
   */
  private nextTry(): boolean {
    const service = this.service;
    const now = Date.now();
    const peer = this.pickPeer(now);
    if (peer === null) {
      if (this.live.length > 0) return false;
      // No pod podgate knows of is alive: say so at once, rather than a 502 for the last failure.
      if (this.tried.length === 0 || service.table.usable === 0) this.reply503();
      else this.giveUp();
      return false;
    }
    const isRetry = this.tried.length > 0;
    this.tried.push(peer);
    service.table.acquire(peer, isRetry);
    if (isRetry) {
      service.counters.retries++;
      service.counters.retriesInFlight++;
    }
    const attempt = new UpstreamTry(this, peer, isRetry);
    this.openTries++;
    this.live.push(attempt);
    service.inflight.add(attempt);
    service.pool(peer).dispatch(
      {
        path: this.ex.url,
        method: this.ex.method as Dispatcher.HttpMethod,
        headers: this.headers,
        body: this.body.forTry(),
        headersTimeout: service.config.timeouts.responseHeaderMs,
        bodyTimeout: service.config.timeouts.idleMs,
      },
      attempt,
    );
    return true;
  }

  /**
   * A peer this request has not tried. When only known-dead peers are untried and the last try
   * never reached its pod (a connect failure), a live peer already tried may take it again: the
   * request cost that pod nothing yet, and the alternative is failing it.
   */
  private pickPeer(now: number): Peer<Pool> | null {
    const table = this.service.table;
    if (this.tried.length === 0) return table.pick(now);
    const peer = table.pick(now, this.tried);
    if (peer !== null) return peer;
    const last = this.lastFailure;
    if (last === null || !CONNECT_PHASE_CAUSES.has(last.cause)) return null;
    return table.pick(now, null);
  }

  /** Response header from a try. True: commit and stream it; false: drop it (a retry may start). */
  onTryHeaders(attempt: UpstreamTry, status: number, rawHeaders: Buffer[], statusText: string): boolean {
    const service = this.service;
    const peer = attempt.peer;
    const now = Date.now();
    const elapsed = now - attempt.start;
    service.headerLatency.record(elapsed, now);
    service.lastAnswerAt = now;
    peer.lastAnswerAt = now;
    peer.quietProbes = 0;
    const bucket = bucketOf(elapsed);
    peer.latency[bucket] = (peer.latency[bucket] ?? 0) + 1;
    if (this.committed || attempt.abandoned || this.clientGone) {
      this.dropLive(attempt);
      return false;
    }
    const failClass = statusClass(status);
    if (failClass !== null) {
      const failure: TryFailure = { cause: status === 429 ? 'status_429' : 'status_5xx', class: failClass, message: `upstream answered ${status}` };
      if (status !== 429) service.table.reportFailure(peer, 'status_5xx', now, failure.message);
      if (this.live.length > 1) {
        // A twin of this try is still running: let it answer instead.
        this.dropLive(attempt);
        return false;
      }
      if (this.mayRetry(failure)) {
        this.lastFailure = failure;
        this.dropLive(attempt);
        queueMicrotask(() => this.retryOrGiveUp());
        return false;
      }
    } else {
      service.table.reportSuccess(peer, now);
    }
    // This try wins: every other one in flight is dropped.
    if (this.live.length !== 1 || this.live[0] !== attempt) {
      for (const other of this.live) if (other !== attempt) other.abandon();
      this.live = [attempt];
    }
    this.committed = true;
    this.status = status;
    this.ex.writeHead(status, statusText, rawHeaders);
    return true;
  }

  /** A body chunk of the committed response; false asks undici to pause until the client drains. */
  writeBody(chunk: Buffer, attempt: UpstreamTry): boolean {
    if (this.ex.write(chunk)) return true;
    this.ex.onDrain(attempt.drainListener());
    return false;
  }

  onTryComplete(attempt: UpstreamTry): void {
    this.settle(attempt);
    this.ex.end();
    this.finish(this.status);
  }

  /** A try whose answer was not wanted (retried error status, lost race) ended. */
  onTryDropped(attempt: UpstreamTry): void {
    this.settle(attempt);
  }

  onTryError(attempt: UpstreamTry, err: Error): void {
    const service = this.service;
    this.settle(attempt);
    const code = (err as { code?: string }).code;
    if (attempt.abandoned) {
      // Dropped by podgate; its peer's failure still counts when it failed on its own.
      if (err !== ABANDONED && code !== 'UND_ERR_ABORTED') {
        const failure = classifyError(err);
        service.table.reportFailure(attempt.peer, failure.cause, Date.now(), failure.message);
      }
      return;
    }
    if (this.committed) {
      // Response bytes already reached the client: nothing can be retried, cut the response.
      this.ctx.logger.warn(
        { req: this.id, service: service.name, peer: attempt.peer.address, err: code ?? err.message },
        'upstream failed while sending the response to the client',
      );
      this.ex.destroy();
      this.finish(this.status);
      return;
    }
    if (this.clientGone || this.ex.receiveError !== null) {
      if (this.live.length === 0) this.finish(499);
      return;
    }
    if (code === 'PODGATE_BODY_TOO_LARGE') {
      // A streamed body grew past the limit on its way to the pod: the client's fault, not the pod's.
      for (const t of this.live) t.abandon();
      this.status = 413;
      sendClientError(this.ex, 'PODGATE_BODY_TOO_LARGE', err.message, this.id, { service: service.name, close: true });
      this.finish(413);
      return;
    }
    const failure = classifyError(err);
    const now = Date.now();
    const ejected = service.table.reportFailure(attempt.peer, failure.cause, now, failure.message);
    // Out on evidence that may not mean the pod is gone (a close before the header): its probe
    // tells at once, before the panic rule could route to a pod that refuses connections.
    if (ejected && !attempt.peer.knownDead) service.probePeer(attempt.peer);
    this.ctx.logger.warn(
      { req: this.id, service: service.name, peer: attempt.peer.address, cause: failure.cause, ejected, try: this.tried.length },
      `${failure.message}, upstream: "${attempt.peer.address}"`,
    );
    this.lastFailure = failure;
    if (this.live.length > 0) return; // a twin is still running
    this.retryOrGiveUp();
  }

  /** The sweep found this try still waiting for its connection past the late mark (its peer is probed). */
  onTryLate(late: UpstreamTry): void {
    this.connectHedge(late);
  }

  /** The sweep found this try without a response header past the stall mark (its peer is probed). */
  onTryStalled(_stalled: UpstreamTry): void {
    if (this.service.config.hedge.methods.includes(this.ex.method)) this.hedge();
  }

  /** Connect hedge (`connectHedge`): the late try was never sent, so it moves to another peer. */
  private connectHedge(late: UpstreamTry): void {
    if (!this.mayTryAgain()) return;
    if (!this.nextTry()) return; // nowhere else to go: keep waiting on it
    this.dropLive(late);
    late.abandon();
    this.service.counters.connectHedges++;
  }

  /** Hedge (`hedge.methods`): the stalled try keeps waiting while a twin races it on another peer. */
  private hedge(): void {
    if (this.live.length > 1 || !this.mayTryAgain()) return;
    if (this.nextTry()) this.service.counters.hedges++;
  }

  /**
   * Tries this request may still start. `retry.tries` counts every try started, the first
   * included: retries, connect hedges (the moved try) and hedges (the twin) each use one up. A try
   * rescued from a dead peer gives its try back, since it cost no live pod anything, so its re-send
   * (or a later try) is not lost to it (docs/failover.md, "How tries are counted").
   */
  private triesLeft(): number {
    return this.service.config.retry.tries + this.rescues - this.tried.length;
  }

  /**
   * What every try after the first needs, whatever started it (a retry, a connect hedge, a hedge):
   * a try left, inside `retry.deadline` (nginx's `proxy_next_upstream_timeout`), and a body that
   * can be sent again.
   */
  private mayTryAgain(): boolean {
    return this.triesLeft() > 0 && Date.now() - this.start < this.service.config.retry.deadlineMs && this.body.replayable();
  }

  /**
   * Its peer is dead and this try will never be answered: re-send it now, as a retry of a
   * `timeout`, when the rules allow; otherwise fail it now rather than at the response timeout.
   */
  rescueTry(attempt: UpstreamTry): void {
    this.dropLive(attempt);
    attempt.abandon();
    this.rescues++; // its try is given back: see triesLeft
    if (this.live.length > 0) return; // a twin is still running
    this.lastFailure = {
      cause: 'header_timeout',
      class: 'timeout',
      message: `upstream stopped answering (peer found dead), upstream: "${attempt.peer.address}"`,
    };
    this.retryOrGiveUp();
  }

  private dropLive(attempt: UpstreamTry): void {
    const i = this.live.indexOf(attempt);
    if (i !== -1) this.live.splice(i, 1);
  }

  private retryOrGiveUp(): void {
    const failure = this.lastFailure as TryFailure;
    if (this.clientGone) this.finish(499);
    else if (this.mayRetry(failure)) this.nextTry();
    else this.giveUp();
  }

  /**
   * The retry rules: another try allowed (mayTryAgain), and either a connect-phase failure
   * (the pod never saw the request: always retried, outside the budget) or a class that `on`
   * names, for a method `on` allows, within the retry budget.
   */
  private mayRetry(failure: TryFailure): boolean {
    const retry = this.service.config.retry;
    if (!this.mayTryAgain()) return false;
    if (CONNECT_PHASE_CAUSES.has(failure.cause)) return true;
    if (!retry.on.includes(failure.class) || !this.retryNonIdempotent) return false;
    if (this.service.retryBudget.tryWithdraw(Date.now())) return true;
    this.service.counters.budgetExhausted++;
    return false;
  }

  /** A try ended: its peer is released and it leaves the stall sweep. */
  private settle(attempt: UpstreamTry): void {
    if (attempt.settled) return;
    attempt.settled = true;
    this.openTries--;
    this.dropLive(attempt);
    this.service.inflight.delete(attempt);
    if (attempt.isRetry) this.service.counters.retriesInFlight--;
    this.service.table.release(attempt.peer, Date.now());
    if (this.finished && this.openTries === 0) this.body.release();
  }

  /** undici wrote the body to a socket that could not take it all at once (or to one it cannot name). */
  onBodyQueued(socket: Socket | 'unknown'): void {
    if (socket === 'unknown') this.body.keep();
    else this.body.sendingOn(socket);
  }

  private reply503(): void {
    this.status = 503;
    const last = this.lastFailure;
    const reason = last === null ? this.service.noPeerReason() : `${this.service.noPeerReason()}; last try: ${last.message}`;
    sendClientError(this.ex, 'PODGATE_NO_PEER', reason, this.id, {
      service: this.service.name,
      tries: this.tried.length === 0 ? undefined : this.tried.length,
    });
    this.finish(503);
  }

  private giveUp(): void {
    const failure = this.lastFailure;
    const tries = this.tried.length;
    const timeout = failure?.class === 'timeout';
    this.status = timeout ? 504 : 502;
    const cause = failure === null ? 'no peer left to try' : failure.message;
    sendClientError(
      this.ex,
      timeout ? 'PODGATE_UPSTREAM_TIMEOUT' : 'PODGATE_UPSTREAM_FAILED',
      `${cause} (${tries} ${tries === 1 ? 'try' : 'tries'})`,
      this.id,
      {
        service: this.service.name,
        tries,
      },
    );
    this.finish(this.status);
  }

  private finish(status: number): void {
    if (this.finished) return;
    this.finished = true;
    if (this.openTries === 0) this.body.release();
    const counters = this.service.counters;
    counters.inFlight--;
    const key = String(status);
    counters.responses[key] = (counters.responses[key] ?? 0) + 1;
    const ms = Date.now() - this.start;
    const bucket = bucketOf(ms);
    counters.duration[bucket] = (counters.duration[bucket] as number) + 1;
    counters.durationSumMs += ms;
    this.ctx.accessLog(this, status, ms, this.tried);
  }
}
