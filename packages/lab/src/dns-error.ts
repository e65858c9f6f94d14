/** Stable error codes of the lab DNS server; callers branch on `err.code`, never on the message. */
export type LabDnsErrorCode =
  'PODGATE_LAB_DNS_INVALID_OPTION' | 'PODGATE_LAB_DNS_INVALID_NAME' | 'PODGATE_LAB_DNS_INVALID_ADDRESS' | 'PODGATE_LAB_DNS_BIND_FAILED';

export class LabDnsError extends Error {
  readonly code: LabDnsErrorCode;

  constructor(code: LabDnsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabDnsError';
    this.code = code;
  }
}
