import type { Peer } from '@podgate/balancer';
import type { Dispatcher, Pool } from 'undici';
import { socketStillSending } from './body-pool.js';
import type { ProxyRequest } from './proxy-request.js';

/** Reason given to undici when podgate drops a try it no longer needs (connect-hedged, rescued, lost a hedge). */
export const ABANDONED = Object.assign(new Error('try abandoned by podgate'), { code: 'PODGATE_TRY_ABANDONED' });

/**
 * One try of a request on one peer: an undici dispatch handler (the native callback API, which
 * hands over raw header buffers without parsing them into an object). It reports back to its
 * ProxyRequest, which decides between committing the response, retrying and failing. Several
 * tries of one request can be in flight at once (a connect hedge, a hedge or a rescue); only one wins.
 */
export class UpstreamTry implements Dispatcher.DispatchHandler {
  readonly request: ProxyRequest;
  readonly peer: Peer<Pool>;
  readonly isRetry: boolean;
  readonly start = Date.now();
  /** undici put the request on a socket (the connection was up). */
  connected = false;
  headersReceived = false;
  /** The request no longer wants this try's answer; it is aborted as soon as undici allows. */
  abandoned = false;
  /** Ended (completed or failed), and its peer released. */
  settled = false;
  /** Sweep marks: already treated as late (connect) or stalled (response header). */
  late = false;
  stalled = false;

  private abortFn: ((err?: Error) => void) | null = null;
  /** An error status to retry or a lost race: the body is read and dropped, so the connection stays reusable. */
  private discarding = false;
  private resumeUpstream: (() => void) | null = null;
  private paused = false;
  private onDrain: (() => void) | null = null;

  /** For the client's 'drain': lets undici read from the pod again. Made on the first pause only. */
  drainListener(): () => void {
    this.onDrain ??= (): void => {
      if (!this.paused) return;
      this.paused = false;
      this.resumeUpstream?.();
    };
    return this.onDrain;
  }

  constructor(request: ProxyRequest, peer: Peer<Pool>, isRetry: boolean) {
    this.request = request;
    this.peer = peer;
    this.isRetry = isRetry;
  }

  /** Drops this try: aborts it now if undici gave us the means, else at its onConnect. */
  abandon(): void {
    this.abandoned = true;
    this.abort(ABANDONED);
  }

  abort(err: Error): void {
    if (!this.settled && this.abortFn !== null) this.abortFn(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    this.connected = true;
    if (this.abandoned) abort(ABANDONED);
    else if (this.request.clientGone) abort(new Error('client closed the connection'));
  }

  /** undici wrote the body (between socket.cork and uncork): did the socket take all of it? */
  onBodySent(): void {
    const sending = socketStillSending();
    if (sending !== 'flushed') this.request.onBodyQueued(sending);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    this.headersReceived = true;
    this.resumeUpstream = resume;
    if (!this.request.onTryHeaders(this, statusCode, rawHeaders, statusText)) this.discarding = true;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.discarding || this.request.writeBody(chunk, this)) return true;
    this.paused = true;
    return false;
  }

  onComplete(): void {
    if (this.discarding) this.request.onTryDropped(this);
    else this.request.onTryComplete(this);
  }

  onError(err: Error): void {
    if (this.discarding) this.request.onTryDropped(this);
    else this.request.onTryError(this, err);
  }
}
