import { STATUS_CODES } from 'node:http';
import { connectionTokens, HOP_BY_HOP } from '../hop-by-hop.js';

/*
 * The head of a response to a client, written from the pod's raw header buffers (undici's) without
 * making a string of each: names and values are copied byte for byte, minus the hop-by-hop fields
 * (RFC 9110 §7.6.1) and those the pod's Connection header names.
 */

// Lengths of the hop-by-hop names: most fields are of another length and need no comparing.
const HOP_LENGTHS = new Uint8Array(256);
for (const name of HOP_BY_HOP) HOP_LENGTHS[name.length] = 1;

/** `name` (raw bytes) equals `lower` ignoring ASCII case; token characters only, so |0x20 is safe. */
export function nameIs(name: Buffer, lower: string): boolean {
  const n = lower.length;
  if (name.length !== n) return false;
  for (let i = 0; i < n; i++) if (((name[i] as number) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

function isKeepAlive(value: Buffer): boolean {
  return nameIs(value, 'keep-alive');
}

function isHopByHop(name: Buffer): boolean {
  if (name.length >= HOP_LENGTHS.length || HOP_LENGTHS[name.length] !== 1) return false;
  for (const hop of HOP_BY_HOP) if (nameIs(name, hop)) return true;
  return false;
}

export interface HeadFacts {
  /** The pod's Content-Length, or -1 when it sent none. */
  contentLength: number;
  hasDate: boolean;
  /** Bytes of the kept fields in the head. */
  size: number;
}

// Per head: which raw fields are kept (1) — reused, heads are built one at a time.
let keep = new Uint8Array(64);

const statusLines = new Map<number, { text: string; line: string }>();

function statusLine(status: number, statusText: string): string {
  const cached = statusLines.get(status);
  if (cached !== undefined && cached.text === statusText) return cached.line;
  const line = `HTTP/1.1 ${status} ${statusText === '' ? (STATUS_CODES[status] ?? '') : statusText}\r\n`;
  if (statusLines.size < 128) statusLines.set(status, { text: statusText, line });
  return line;
}

/**
 * Decides which of the pod's fields go to the client (every one but the hop-by-hop fields and those
 * its Connection header names) and notes in `facts` what framing needs. Then call buildHead.
 */
export function scanResponseHeaders(raw: readonly Buffer[], facts: HeadFacts): void {
  const n = raw.length;
  if (keep.length < n) keep = new Uint8Array(n * 2);
  facts.contentLength = -1;
  facts.hasDate = false;
  facts.size = 0;
  let named: Set<string> | null = null;
  for (let i = 0; i < n; i += 2) {
    const name = raw[i] as Buffer;
    // Pods say Connection: keep-alive on nearly every response: no string made for that.
    if (name.length === 10 && nameIs(name, 'connection') && !isKeepAlive(raw[i + 1] as Buffer)) {
      const tokens = connectionTokens((raw[i + 1] as Buffer).toString('latin1'));
      if (tokens !== null) for (const t of tokens) (named ??= new Set()).add(t);
    }
  }
  for (let i = 0; i < n; i += 2) {
    const name = raw[i] as Buffer;
    const value = raw[i + 1] as Buffer;
    let kept = !isHopByHop(name);
    if (kept && named !== null && named.has(name.toString('latin1').toLowerCase())) kept = false;
    if (kept) {
      if (name.length === 14 && nameIs(name, 'content-length')) facts.contentLength = Number(value.toString('latin1'));
      else if (name.length === 4 && nameIs(name, 'date')) facts.hasDate = true;
      facts.size += name.length + value.length + 4;
    }
    keep[i] = kept ? 1 : 0;
  }
}

/** The head: status line, the fields scanResponseHeaders kept, then `extra` (whole lines) and the blank line. */
export function buildHead(status: number, statusText: string, raw: readonly Buffer[], facts: HeadFacts, extra: string): Buffer {
  const first = statusLine(status, statusText);
  const head = Buffer.allocUnsafe(first.length + facts.size + extra.length + 2);
  let at = head.write(first, 0, 'latin1');
  for (let i = 0; i < raw.length; i += 2) {
    if (keep[i] !== 1) continue;
    at += (raw[i] as Buffer).copy(head, at);
    head[at++] = 58; // ':'
    head[at++] = 32;
    at += (raw[i + 1] as Buffer).copy(head, at);
    head[at++] = 13;
    head[at++] = 10;
  }
  at += head.write(extra, at, 'latin1');
  head[at++] = 13;
  head[at] = 10;
  return head;
}

/**
 * The fields scanResponseHeaders kept, as strings: [name, value, name, value, ...] (latin1, byte for
 * byte). For the node:http front, whose ServerResponse frames the body itself.
 */
export function keptResponseFields(raw: readonly Buffer[], facts: HeadFacts): string[] {
  scanResponseHeaders(raw, facts);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (keep[i] !== 1) continue;
    out.push((raw[i] as Buffer).toString('latin1'), (raw[i + 1] as Buffer).toString('latin1'));
  }
  return out;
}
