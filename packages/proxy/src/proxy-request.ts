import type { Peer } from '@podgate/balancer';
import { CONNECT_PHASE_CAUSES } from '@podgate/protocol';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import { sendClientError } from './client-error.js';
import { classifyError, statusClass, type TryFailure } from './failure.js';
import { forwardableHeaders } from './hop-by-hop.js';
import type { ProxyContext } from './proxy-context.js';
import type { RequestBody } from './request-body.js';
import type { ServiceRuntime } from './service-runtime.js';
import { UpstreamTry } from './upstream-try.js';
import { bucketOf } from './control/messages.js';

// RFC 9110 §9.2.2: methods whose repetition has the same effect as one request.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
// Request headers podgate sets itself.
const REWRITTEN = new Set(['content-length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/**
 * One client request through its tries: picks a peer this request has not tried, dispatches,
 * classifies a failure, ejects, retries while the rules of DESIGN.md allow, and streams the
 * chosen response back. Nothing is retried once response bytes went to the client.
 */
export class ProxyRequest {
  readonly id: string;
  readonly service: ServiceRuntime;
  clientGone = false;

  private readonly ctx: ProxyContext;
  private readonly req: IncomingMessage;
  private readonly res: ServerResponse;
  private readonly start: number;
  private readonly body: RequestBody;
  private readonly headers: string[];
  private readonly retryNonIdempotent: boolean;
  private readonly tried: Peer<Pool>[] = [];
  private current: UpstreamTry | null = null;
  private lastFailure: TryFailure | null = null;
  private committed = false;
  private finished = false;
  private status = 0;

  constructor(ctx: ProxyContext, service: ServiceRuntime, req: IncomingMessage, res: ServerResponse, id: string, start: number, body: RequestBody) {
    this.ctx = ctx;
    this.service = service;
    this.req = req;
    this.res = res;
    this.id = id;
    this.start = start;
    this.body = body;
    this.retryNonIdempotent = IDEMPOTENT.has(req.method as string) || service.config.retry.on.includes('non_idempotent');
    this.headers = this.upstreamHeaders();
    res.on('close', this.onClientClose);
  }

  get method(): string {
    return this.req.method as string;
  }

  get path(): string {
    return this.req.url as string;
  }

  get client(): string {
    return this.req.socket.remoteAddress ?? '';
  }

  /** Starts the first try. */
  run(): void {
    this.service.retryBudget.deposit(this.start);
    this.service.counters.requests++;
    this.service.counters.inFlight++;
    this.nextTry();
  }

  private upstreamHeaders(): string[] {
    const req = this.req;
    const h = req.headers;
    const out = forwardableHeaders(req.rawHeaders, h.connection, REWRITTEN);
    const client = req.socket.remoteAddress ?? '';
    const xff = h['x-forwarded-for'];
    out.push('x-forwarded-for', xff === undefined ? client : `${xff}, ${client}`);
    out.push('x-forwarded-proto', 'http');
    if (h.host !== undefined) out.push('x-forwarded-host', h.host);
    if (h['x-request-id'] === undefined) out.push('x-request-id', this.id);
    const length = this.body.contentLength();
    if (length !== null) out.push('content-length', String(length));
    return out;
  }

  private readonly onClientClose = (): void => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.current?.abort(new Error('client closed the connection'));
    if (this.current === null) this.finish(499);
  };

  private nextTry(): void {
    const service = this.service;
    const now = Date.now();
    const peer = service.table.pick(now, this.tried.length === 0 ? null : this.tried);
    if (peer === null) {
      if (this.tried.length === 0) {
        this.reply503();
      } else {
        this.giveUp();
      }
      return;
    }
    const isRetry = this.tried.length > 0;
    this.tried.push(peer);
    service.table.acquire(peer, isRetry);
    if (isRetry) {
      service.counters.retries++;
      service.counters.retriesInFlight++;
    }
    const attempt = new UpstreamTry(this, peer, isRetry);
    this.current = attempt;
    service.pool(peer).dispatch(
      {
        path: this.req.url as string,
        method: this.req.method as Dispatcher.HttpMethod,
        headers: this.headers,
        body: this.body.forTry(),
        headersTimeout: service.config.timeouts.responseHeaderMs,
        bodyTimeout: service.config.timeouts.idleMs,
      },
      attempt,
    );
  }

  /** Response header from a try. True: commit and stream it; false: discard it, a retry started. */
  onTryHeaders(attempt: UpstreamTry, status: number, rawHeaders: Buffer[], statusText: string): boolean {
    const service = this.service;
    const peer = attempt.peer;
    const bucket = bucketOf(Date.now() - attempt.start);
    peer.latency[bucket] = (peer.latency[bucket] ?? 0) + 1;
    const failClass = statusClass(status);
    if (failClass !== null) {
      const failure: TryFailure = { cause: status === 429 ? 'status_429' : 'status_5xx', class: failClass, message: `upstream answered ${status}` };
      if (status !== 429) service.table.reportFailure(attempt.peer, 'status_5xx', Date.now(), failure.message);
      if (this.mayRetry(failure)) {
        this.lastFailure = failure;
        this.endTry(attempt, false);
        queueMicrotask(() => this.retryOrGiveUp());
        return false;
      }
    } else {
      service.table.reportSuccess(attempt.peer);
    }
    const headers: string[] = [];
    const raw: string[] = new Array(rawHeaders.length);
    for (let i = 0; i < rawHeaders.length; i++) raw[i] = (rawHeaders[i] as Buffer).toString('latin1');
    let connection: string | undefined;
    for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === 'connection') connection = raw[i + 1];
    forwardableHeaders(raw, connection, null, headers);
    this.committed = true;
    this.status = status;
    try {
      this.res.writeHead(status, statusText, headers);
    } catch (err) {
      // Node refused a header the parser let through: not worth crashing over.
      this.ctx.logger.warn({ req: this.id, service: service.name, peer: attempt.peer.address, err: String(err) }, 'upstream sent a header node cannot forward');
      attempt.abort(err as Error);
      this.res.destroy();
    }
    return true;
  }

  /** A body chunk of the committed response; false asks undici to pause until the client drains. */
  writeBody(chunk: Buffer, attempt: UpstreamTry): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', attempt.onDrain);
    return false;
  }

  onTryComplete(attempt: UpstreamTry): void {
    this.endTry(attempt, true);
    this.res.end();
    this.finish(this.status);
  }

  /** The discarded body of a retried error response ended. */
  onDiscardEnd(attempt: UpstreamTry): void {
    this.releasePeer(attempt);
  }

  onTryError(attempt: UpstreamTry, err: Error): void {
    const service = this.service;
    if (this.committed) {
      // Response bytes already reached the client: nothing can be retried, cut the response.
      this.endTry(attempt, true);
      this.ctx.logger.warn({ req: this.id, service: service.name, peer: attempt.peer.address, err: (err as { code?: string }).code ?? err.message }, 'upstream failed while sending the response to the client');
      this.res.destroy();
      this.finish(this.status);
      return;
    }
    if (this.clientGone || this.req.errored !== null) {
      this.endTry(attempt, true);
      this.finish(499);
      return;
    }
    if ((err as { code?: string }).code === 'PODGATE_BODY_TOO_LARGE') {
      // A streamed body grew past the limit on its way to the pod: the client's fault, not the pod's.
      this.endTry(attempt, true);
      this.status = 413;
      sendClientError(this.res, 'PODGATE_BODY_TOO_LARGE', err.message, this.id, { service: service.name, close: true });
      this.finish(413);
      return;
    }
    const failure = classifyError(err);
    const now = Date.now();
    const ejected = service.table.reportFailure(attempt.peer, failure.cause, now, failure.message);
    this.ctx.logger.warn(
      { req: this.id, service: service.name, peer: attempt.peer.address, cause: failure.cause, ejected, try: this.tried.length },
      `${failure.message}, upstream: "${attempt.peer.address}"`,
    );
    this.lastFailure = failure;
    this.endTry(attempt, true);
    this.retryOrGiveUp();
  }

  private retryOrGiveUp(): void {
    const failure = this.lastFailure as TryFailure;
    if (!this.clientGone && this.mayRetry(failure)) this.nextTry();
    else if (this.clientGone) this.finish(499);
    else this.giveUp();
  }

  /**
   * DESIGN.md's retry rules: tries left, inside the deadline, a replayable body, and either a
   * connect-phase failure (the pod never saw the request: always retried, outside the budget) or a
   * class that `on` names, for a method `on` allows, within the retry budget.
   */
  private mayRetry(failure: TryFailure): boolean {
    const retry = this.service.config.retry;
    if (this.tried.length >= retry.tries) return false;
    if (Date.now() - this.start >= retry.deadlineMs) return false;
    if (!this.body.replayable()) return false;
    if (CONNECT_PHASE_CAUSES.has(failure.cause)) return true;
    if (!retry.on.includes(failure.class) || !this.retryNonIdempotent) return false;
    if (this.service.retryBudget.tryWithdraw(Date.now())) return true;
    this.service.counters.budgetExhausted++;
    return false;
  }

  private endTry(attempt: UpstreamTry, release: boolean): void {
    if (this.current === attempt) this.current = null;
    if (release) this.releasePeer(attempt);
  }

  private releasePeer(attempt: UpstreamTry): void {
    if (attempt.isRetry) this.service.counters.retriesInFlight--;
    this.service.table.release(attempt.peer, Date.now());
  }

  private reply503(): void {
    this.status = 503;
    sendClientError(this.res, 'PODGATE_NO_PEER', this.service.noPeerReason(), this.id, { service: this.service.name });
    this.finish(503);
  }

  private giveUp(): void {
    const failure = this.lastFailure;
    const tries = this.tried.length;
    const timeout = failure?.class === 'timeout';
    this.status = timeout ? 504 : 502;
    const cause = failure === null ? 'no peer left to try' : failure.message;
    sendClientError(this.res, timeout ? 'PODGATE_UPSTREAM_TIMEOUT' : 'PODGATE_UPSTREAM_FAILED', `${cause} (${tries} ${tries === 1 ? 'try' : 'tries'})`, this.id, {
      service: this.service.name,
      tries,
    });
    this.finish(this.status);
  }

  private finish(status: number): void {
    if (this.finished) return;
    this.finished = true;
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
