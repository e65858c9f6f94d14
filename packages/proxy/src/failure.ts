import type { FailureCause, FailureClass } from '@podgate/protocol';

export interface TryFailure {
  cause: FailureCause;
  class: FailureClass;
  /** In nginx's words, so operators recognise it in logs. */
  message: string;
}

const CONNECT_UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENETDOWN']);

/** Classifies an error undici reported for a try that got no response header. */
export function classifyError(err: unknown): TryFailure {
  const e = err as { code?: string; name?: string } | null;
  // undici's HTTPParserError often carries no code (llhttp's reason is only in the message).
  const code = e?.code ?? (e?.name === 'HTTPParserError' ? 'HPE_INVALID' : '');
  if (code === 'ECONNREFUSED') {
    return { cause: 'connect_refused', class: 'error', message: 'connect() failed (111: Connection refused) while connecting to upstream' };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return { cause: 'connect_timeout', class: 'timeout', message: 'upstream timed out (110: Connection timed out) while connecting to upstream' };
  }
  if (CONNECT_UNREACHABLE.has(code)) {
    return { cause: 'connect_unreachable', class: 'error', message: `connect() failed (113: No route to host, ${code}) while connecting to upstream` };
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return { cause: 'header_timeout', class: 'timeout', message: 'upstream timed out (110: Connection timed out) while reading response header from upstream' };
  }
  if (code.startsWith('HPE_') || code === 'UND_ERR_INFO') {
    return { cause: 'invalid_header', class: 'invalid_header', message: `upstream sent invalid header (${code}) while reading response header from upstream` };
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return {
      cause: 'reset_before_header',
      class: 'error',
      message: 'recv() failed (104: Connection reset by peer) while reading response header from upstream',
    };
  }
  // UND_ERR_SOCKET ("other side closed") and anything unexpected.
  const detail = code === 'UND_ERR_SOCKET' || code === '' ? '' : ` (${code})`;
  return {
    cause: 'closed_before_header',
    class: 'error',
    message: `upstream prematurely closed connection${detail} while reading response header from upstream`,
  };
}

/** The failure class of an upstream status, or null when the status is not a failure. */
export function statusClass(status: number): FailureClass | null {
  switch (status) {
    case 500:
      return 'http_500';
    case 502:
      return 'http_502';
    case 503:
      return 'http_503';
    case 504:
      return 'http_504';
    case 429:
      return 'http_429';
    default:
      return null;
  }
}
