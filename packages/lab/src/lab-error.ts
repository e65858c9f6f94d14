/**
 * Stable error codes of the lab's pods, clusters and load generator; callers branch on
 * `err.code`, never on the message.
 */
export type LabErrorCode =
  | 'LAB_INVALID_OPTION'
  | 'LAB_NO_PYTHON'
  | 'LAB_BLACKHOLE_FAILED'
  | 'LAB_NO_FREE_ADDRESS'
  | 'LAB_ROLLOUT_TIMEOUT'
  | 'LAB_BUSY'
  | 'LAB_CLOSED'
  | 'LAB_NO_REDIS'
  | 'LAB_REDIS_FAILED';

export class LabError extends Error {
  readonly code: LabErrorCode;

  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}
