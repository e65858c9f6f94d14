import type { Peer } from '@podgate/balancer';
import type { Dispatcher, Pool } from 'undici';
import type { ProxyRequest } from './proxy-request.js';

/**
 * One try of a request on one peer: an undici dispatch handler (the native callback API, which
 * hands over raw header buffers without parsing them into an object). It reports back to its
 * ProxyRequest, which decides between committing the response, retrying and failing.
 */
export class UpstreamTry implements Dispatcher.DispatchHandler {
  readonly peer: Peer<Pool>;
  readonly isRetry: boolean;
  readonly start = Date.now();
  private readonly request: ProxyRequest;
  private abortFn: ((err?: Error) => void) | null = null;
  /** A retryable error status: the body is read and thrown away so the connection stays reusable. */
  private discarding = false;
  private done = false;
  private resumeUpstream: (() => void) | null = null;
  private paused = false;
  /** The client drained its buffer: let undici read from the pod again. */
  readonly onDrain = (): void => {
    if (!this.paused) return;
    this.paused = false;
    this.resumeUpstream?.();
  };

  constructor(request: ProxyRequest, peer: Peer<Pool>, isRetry: boolean) {
    this.request = request;
    this.peer = peer;
    this.isRetry = isRetry;
  }

  abort(err: Error): void {
    if (!this.done && this.abortFn !== null) this.abortFn(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.request.clientGone) abort(new Error('client closed the connection'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
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
    this.done = true;
    if (this.discarding) this.request.onDiscardEnd(this);
    else this.request.onTryComplete(this);
  }

  onError(err: Error): void {
    this.done = true;
    if (this.discarding) this.request.onDiscardEnd(this);
    else this.request.onTryError(this, err);
  }
}
