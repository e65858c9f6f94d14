/** Stable error codes of the discovery package; callers branch on `err.code`, never on the message. */
export type DiscoveryErrorCode = 'PODGATE_DNS_INVALID_OPTION';

export class DiscoveryError extends Error {
  readonly code: DiscoveryErrorCode;

  constructor(code: DiscoveryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiscoveryError';
    this.code = code;
  }
}
