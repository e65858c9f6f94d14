import type { ClientExchange } from './front/client-exchange.js';

/** Stable codes for the errors podgate answers clients with. */
export type ClientErrorCode =
  | 'PODGATE_BAD_REQUEST'
  | 'PODGATE_NO_ROUTE'
  | 'PODGATE_REQUEST_TIMEOUT'
  | 'PODGATE_BODY_TOO_LARGE'
  | 'PODGATE_HEADER_TOO_LARGE'
  | 'PODGATE_UPGRADE_UNSUPPORTED'
  | 'PODGATE_EXPECTATION_FAILED'
  | 'PODGATE_UPSTREAM_FAILED'
  | 'PODGATE_NO_PEER'
  | 'PODGATE_UPSTREAM_TIMEOUT';

export const STATUS_OF: Record<ClientErrorCode, number> = {
  PODGATE_BAD_REQUEST: 400,
  PODGATE_NO_ROUTE: 404,
  PODGATE_REQUEST_TIMEOUT: 408,
  PODGATE_BODY_TOO_LARGE: 413,
  PODGATE_HEADER_TOO_LARGE: 431,
  PODGATE_EXPECTATION_FAILED: 417,
  PODGATE_UPGRADE_UNSUPPORTED: 501,
  PODGATE_UPSTREAM_FAILED: 502,
  PODGATE_NO_PEER: 503,
  PODGATE_UPSTREAM_TIMEOUT: 504,
};

export interface ClientErrorBody {
  error: ClientErrorCode;
  message: string;
  requestId: string;
  service?: string;
  tries?: number;
}

/** A short JSON body naming the cause in one line, with the request id to find it in the logs. */
export function clientErrorBody(code: ClientErrorCode, message: string, requestId: string, extra?: { service?: string; tries?: number }): string {
  const body: ClientErrorBody = { error: code, message, requestId, ...extra };
  return JSON.stringify(body) + '\n';
}

/** Answers `ex` with the error (Connection as the exchange leaves the connection, or close). */
export function sendClientError(
  ex: ClientExchange,
  code: ClientErrorCode,
  message: string,
  requestId: string,
  extra?: { service?: string; tries?: number; close?: boolean },
): void {
  const body = clientErrorBody(code, message, requestId, { service: extra?.service, tries: extra?.tries });
  const status = STATUS_OF[code];
  ex.sendWhole(status, REASONS[status] ?? 'Error', errorFields(body, requestId), body, extra?.close === true);
}

/** The same error as a whole response that closes the connection, for a request never read whole. */
export function rawClientError(code: ClientErrorCode, message: string, requestId: string): string {
  const body = clientErrorBody(code, message, requestId);
  const status = STATUS_OF[code];
  return `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n${errorFields(body, requestId)}connection: close\r\n\r\n${body}`;
}

function errorFields(body: string, requestId: string): string {
  return `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n`;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Content Too Large',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
