import type { ServerResponse } from 'node:http';

/** Stable codes for the errors podgate answers clients with. */
export type ClientErrorCode =
  | 'PODGATE_BAD_REQUEST'
  | 'PODGATE_NO_ROUTE'
  | 'PODGATE_REQUEST_TIMEOUT'
  | 'PODGATE_BODY_TOO_LARGE'
  | 'PODGATE_HEADER_TOO_LARGE'
  | 'PODGATE_UPGRADE_UNSUPPORTED'
  | 'PODGATE_UPSTREAM_FAILED'
  | 'PODGATE_NO_PEER'
  | 'PODGATE_UPSTREAM_TIMEOUT';

export const STATUS_OF: Record<ClientErrorCode, number> = {
  PODGATE_BAD_REQUEST: 400,
  PODGATE_NO_ROUTE: 404,
  PODGATE_REQUEST_TIMEOUT: 408,
  PODGATE_BODY_TOO_LARGE: 413,
  PODGATE_HEADER_TOO_LARGE: 431,
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
export function clientErrorBody(
  code: ClientErrorCode,
  message: string,
  requestId: string,
  extra?: { service?: string; tries?: number },
): string {
  const body: ClientErrorBody = { error: code, message, requestId, ...extra };
  return JSON.stringify(body) + '\n';
}

export function sendClientError(
  res: ServerResponse,
  code: ClientErrorCode,
  message: string,
  requestId: string,
  extra?: { service?: string; tries?: number; close?: boolean },
): void {
  const body = clientErrorBody(code, message, requestId, { service: extra?.service, tries: extra?.tries });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
  };
  if (extra?.close === true) headers.connection = 'close';
  res.writeHead(STATUS_OF[code], headers);
  res.end(body);
}

/** The same error written straight on a socket, for failures before node built a response. */
export function rawClientError(code: ClientErrorCode, message: string, requestId: string): string {
  const body = clientErrorBody(code, message, requestId);
  const status = STATUS_OF[code];
  return (
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
    `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`
  );
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
};
