import { isIPv4, isIPv6 } from 'node:net';

/** RFC 1035 §3.2.2 and RFC 3596 §2.1 (AAAA), RFC 6891 §6.1.1 (OPT). */
export const DnsType = { A: 1, AAAA: 28, OPT: 41 } as const;
/** RFC 1035 §3.2.4; 255 is the QCLASS "any" (§3.2.5). */
export const DnsClass = { IN: 1, ANY: 255 } as const;
/** RFC 1035 §4.1.1. */
export const DnsRcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;

const HEADER_BYTES = 12;
/** RFC 1035 §4.2.2: the two-byte length prefix of TCP bounds every message. */
export const MAX_MESSAGE_BYTES = 65_535;
// RFC 1035 §2.3.4: labels 63 octets or less, names 255 octets or less.
const MAX_LABEL_BYTES = 63;
const MAX_NAME_BYTES = 255;
// A name is at most 127 labels, so more pointer hops than that can only be a loop.
const MAX_POINTER_HOPS = 127;
// RFC 1035 §4.1.4: a pointer is two octets starting with binary 11; the question name sits right
// after the 12-byte header, so every answer name can be this one pointer.
const POINTER_TO_QUESTION = 0xc000 | HEADER_BYTES;

export interface DnsQuestion {
  /** Labels as sent, bytes untouched, so the question is echoed exactly (RFC 1035 §4.1.1). */
  labels: readonly Buffer[];
  /** Lower-case dotted name without the trailing dot, for lookups (RFC 4343: ASCII case-insensitive). */
  key: string;
  type: number;
  class: number;
}

export type ParsedQuery =
  /** Not even a header: nothing to answer to. */
  | { kind: 'drop' }
  /** The header parses but the rest does not (RFC 1035 §4.1.1: FORMERR). */
  | { kind: 'formerr'; id: number; opcode: number; recursionDesired: boolean }
  | {
      kind: 'query';
      id: number;
      opcode: number;
      recursionDesired: boolean;
      question: DnsQuestion;
      /** The requestor's UDP payload size from an EDNS0 OPT record, or null without one. */
      ednsPayloadSize: number | null;
    };

export interface DnsAnswer {
  type: number;
  ttl: number;
  rdata: Buffer;
}

export interface DnsResponse {
  id: number;
  opcode: number;
  recursionDesired: boolean;
  rcode: number;
  question: DnsQuestion | null;
  /** Written as given: a truncated UDP answer passes none, a truncated TCP answer those that fit. */
  answers: readonly DnsAnswer[];
  /** Sets the TC bit (RFC 1035 §4.1.1); the answers are not touched. */
  truncated: boolean;
  /** Payload size to advertise in an OPT record, or null for none. */
  ednsPayloadSize: number | null;
}

interface NameRead {
  labels: Buffer[];
  end: number;
}

/** Reads a possibly compressed name at `offset`; null when it runs off the end, loops or is too long. */
function readName(message: Buffer, offset: number): NameRead | null {
  const labels: Buffer[] = [];
  let position = offset;
  let end: number | null = null;
  let nameBytes = 1;
  for (let hops = 0; hops <= MAX_POINTER_HOPS;) {
    const length = message[position];
    if (length === undefined) return null;
    if (length === 0) return { labels, end: end ?? position + 1 };
    const kind = length & 0xc0;
    if (kind === 0xc0) {
      const low = message[position + 1];
      if (low === undefined) return null;
      end ??= position + 2;
      position = ((length & 0x3f) << 8) | low;
      hops += 1;
      continue;
    }
    // 0x40 and 0x80 are the retired extended label types (RFC 6891 §5): not accepted.
    if (kind !== 0 || length > MAX_LABEL_BYTES) return null;
    if (position + 1 + length > message.length) return null;
    nameBytes += length + 1;
    if (nameBytes > MAX_NAME_BYTES) return null;
    labels.push(message.subarray(position + 1, position + 1 + length));
    position += 1 + length;
  }
  return null;
}

function asciiLower(label: Buffer): string {
  let text = '';
  for (const byte of label) text += String.fromCharCode(byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte);
  return text;
}

/** Skips one resource record; returns its type, class and the offset after it, or null if it is cut. */
function readRecordHead(message: Buffer, offset: number): { type: number; class: number; end: number } | null {
  const name = readName(message, offset);
  if (name === null || name.end + 10 > message.length) return null;
  const type = message.readUInt16BE(name.end);
  const klass = message.readUInt16BE(name.end + 2);
  const rdLength = message.readUInt16BE(name.end + 8);
  const end = name.end + 10 + rdLength;
  return end > message.length ? null : { type, class: klass, end };
}

export function parseQuery(message: Buffer): ParsedQuery {
  if (message.length < HEADER_BYTES) return { kind: 'drop' };
  const id = message.readUInt16BE(0);
  const flags = message.readUInt16BE(2);
  // A message with QR set is a response: answering it could start a loop between two servers.
  if ((flags & 0x8000) !== 0) return { kind: 'drop' };
  const opcode = (flags >> 11) & 0x0f;
  const recursionDesired = (flags & 0x0100) !== 0;
  const formerr = { kind: 'formerr', id, opcode, recursionDesired } as const;
  const qdCount = message.readUInt16BE(4);
  const otherCount = message.readUInt16BE(6) + message.readUInt16BE(8);
  const arCount = message.readUInt16BE(10);
  // Every server in practice accepts exactly one question (RFC 9619).
  if (qdCount !== 1) return formerr;
  const name = readName(message, HEADER_BYTES);
  if (name === null || name.end + 4 > message.length) return formerr;
  const question: DnsQuestion = {
    labels: name.labels,
    key: name.labels.map(asciiLower).join('.'),
    type: message.readUInt16BE(name.end),
    class: message.readUInt16BE(name.end + 2),
  };
  let offset = name.end + 4;
  let ednsPayloadSize: number | null = null;
  // Counts are at most 65535 each and every record takes at least 11 bytes, so this ends quickly.
  for (let index = 0; index < otherCount + arCount; index += 1) {
    const record = readRecordHead(message, offset);
    if (record === null) return formerr;
    if (index >= otherCount && record.type === DnsType.OPT) ednsPayloadSize = record.class;
    offset = record.end;
  }
  return { kind: 'query', id, opcode, recursionDesired, question, ednsPayloadSize };
}

/** The bytes of one answer record: a pointer to the question name, type, class, TTL, RDLENGTH, RDATA. */
export function answerRecordBytes(answer: DnsAnswer): number {
  return 12 + answer.rdata.length;
}

export function encodeResponse(response: DnsResponse): Buffer {
  const { question, answers: answerSection, truncated } = response;
  const questionBytes = question === null ? 0 : question.labels.reduce((sum, label) => sum + label.length + 1, 1) + 4;
  const answerBytes = answerSection.reduce((sum, answer) => sum + answerRecordBytes(answer), 0);
  const optBytes = response.ednsPayloadSize === null ? 0 : 11;
  const size = HEADER_BYTES + questionBytes + answerBytes + optBytes;
  // RFC 1035 §4.2.2: a message over TCP carries a 16-bit length, so no message can be larger.
  if (size > MAX_MESSAGE_BYTES) throw new RangeError(`a DNS message is at most ${MAX_MESSAGE_BYTES} bytes; this one would be ${size}`);
  const message = Buffer.alloc(size);
  // QR, the echoed opcode, AA (we are the authority for every name we hold), TC, echoed RD; RA clear.
  const flags =
    0x8000 | ((response.opcode & 0x0f) << 11) | 0x0400 | (truncated ? 0x0200 : 0) | (response.recursionDesired ? 0x0100 : 0) | (response.rcode & 0x0f);
  message.writeUInt16BE(response.id, 0);
  message.writeUInt16BE(flags, 2);
  message.writeUInt16BE(question === null ? 0 : 1, 4);
  message.writeUInt16BE(answerSection.length, 6);
  message.writeUInt16BE(optBytes === 0 ? 0 : 1, 10);
  let offset = HEADER_BYTES;
  if (question !== null) {
    for (const label of question.labels) {
      message[offset] = label.length;
      label.copy(message, offset + 1);
      offset += label.length + 1;
    }
    offset += 1;
    message.writeUInt16BE(question.type, offset);
    message.writeUInt16BE(question.class, offset + 2);
    offset += 4;
  }
  for (const answer of answerSection) {
    message.writeUInt16BE(POINTER_TO_QUESTION, offset);
    message.writeUInt16BE(answer.type, offset + 2);
    message.writeUInt16BE(DnsClass.IN, offset + 4);
    message.writeUInt32BE(answer.ttl, offset + 6);
    message.writeUInt16BE(answer.rdata.length, offset + 10);
    answer.rdata.copy(message, offset + 12);
    offset += 12 + answer.rdata.length;
  }
  if (response.ednsPayloadSize !== null) {
    // Root name, type OPT, class = payload size, extended rcode/version/flags 0, no options.
    message.writeUInt16BE(DnsType.OPT, offset + 1);
    message.writeUInt16BE(response.ednsPayloadSize, offset + 3);
  }
  return message;
}

/** The 4-byte RDATA of an A record, or null if `address` is not dotted-quad IPv4. */
export function ipv4Rdata(address: string): Buffer | null {
  if (!isIPv4(address)) return null;
  return Buffer.from(address.split('.').map(Number));
}

/** The 16-byte RDATA of an AAAA record, or null if `address` is not IPv6 (zone ids are refused). */
export function ipv6Rdata(address: string): Buffer | null {
  if (!isIPv6(address) || address.includes('%')) return null;
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const dotted = text.slice(lastColon + 1);
  if (dotted.includes('.')) {
    // RFC 4291 §2.2 form 3: the last 32 bits written as IPv4; rewrite them as two hex groups.
    const v4 = ipv4Rdata(dotted);
    if (v4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = text.split('::');
  const parse = (part: string | undefined): number[] => (part === undefined || part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const all = halves.length === 2 ? [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest] : head;
  if (all.length !== 8 || all.some((group) => !Number.isInteger(group) || group < 0 || group > 0xffff)) return null;
  const rdata = Buffer.alloc(16);
  all.forEach((group, index) => rdata.writeUInt16BE(group, index * 2));
  return rdata;
}
