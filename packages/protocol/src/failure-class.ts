/**
 * Failure classes, named as nginx's `proxy_next_upstream` names them so operators recognise them.
 * `non_idempotent` is not a failure: in a retry `on` list it allows retrying POST and other unsafe
 * methods after the request was sent.
 */
export const FAILURE_CLASSES = ['error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_429'] as const;

export type FailureClass = (typeof FAILURE_CLASSES)[number];

export const RETRY_ON_NAMES = [...FAILURE_CLASSES, 'non_idempotent'] as const;
export type RetryOn = (typeof RETRY_ON_NAMES)[number];

/**
 * What exactly went wrong on one try, finer than the failure class. Each cause maps to one class;
 * the cause decides ejection, the class decides whether `on` allows a retry.
 */
export type FailureCause =
  | 'connect_refused'
  | 'connect_timeout'
  | 'connect_unreachable'
  | 'closed_before_header'
  | 'reset_before_header'
  | 'header_timeout'
  | 'invalid_header'
  | 'status_5xx'
  | 'status_429';

/** Failures that happen before any byte of the request reached the pod: always retryable, eject at once. */
export const CONNECT_PHASE_CAUSES: ReadonlySet<FailureCause> = new Set(['connect_refused', 'connect_timeout', 'connect_unreachable']);
