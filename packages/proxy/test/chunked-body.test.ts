import { describe, expect, it } from 'vitest';
import { ChunkedBodyDecoder, ChunkedFramingError } from '../src/front/chunked-body.js';

// The chunked body reader on its own (RFC 9112 §7.1): the socket-level behaviour is in
// hostile-input.test.ts; here every split of the bytes across reads.

interface Reading {
  body: string;
  announced: number[];
  /** Offset just past the body in the read that ended it, and that read's index. */
  end: number;
  endRead: number;
}

function decode(parts: readonly string[], limit = Infinity): Reading {
  const out: Reading = { body: '', announced: [], end: -1, endRead: -1 };
  const decoder = new ChunkedBodyDecoder(
    {
      onChunkData: (piece) => {
        out.body += piece.toString('latin1');
      },
      onChunkAnnounced: (total) => {
        out.announced.push(total);
        return total <= limit;
      },
    },
    64,
  );
  parts.forEach((part, i) => {
    if (out.end >= 0) return;
    const end = decoder.read(Buffer.from(part, 'latin1'), 0);
    if (end >= 0) {
      out.end = end;
      out.endRead = i;
    }
  });
  return out;
}

const BODY = '3;name=value;q="a b"\r\nabc\r\n00A\r\n0123456789\r\n0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n';
const NEXT = 'GET / HTTP/1.1\r\n';

describe('ChunkedBodyDecoder', () => {
  it('reads the same body and ends at the same byte wherever the reads split it', () => {
    const whole = BODY + NEXT;
    for (let at = 0; at <= BODY.length; at++) {
      const r = decode([whole.slice(0, at), whole.slice(at)]);
      expect(r.body, `split at ${at}`).toBe('abc0123456789');
      expect(r.announced).toEqual([3, 13]);
      // The body ends in the read holding its last LF; what follows is the next request's.
      expect(at === BODY.length ? r.end : r.end + at, `split at ${at}`).toBe(BODY.length);
    }
  });

  it('reads a body sent one byte a read', () => {
    const r = decode([...BODY]);
    expect(r.body).toBe('abc0123456789');
    expect(r.endRead).toBe(BODY.length - 1);
    expect(r.end).toBe(1);
  });

  it('takes leading zeros in a size without counting them against the 16 digits', () => {
    expect(decode([`${'0'.repeat(40)}2\r\nhi\r\n0\r\n\r\n`]).body).toBe('hi');
  });

  it('stops reading when a chunk is refused as too large', () => {
    const r = decode(['5\r\nhello\r\n10\r\nthis is past the limit and is not read\r\n'], 10);
    expect(r.announced).toEqual([5, 21]);
    expect(r.body).toBe('hello');
    expect(r.end).toBe(-1);
  });

  it.each([
    ['no size', '\r\nab\r\n0\r\n\r\n', 'invalid chunk size'],
    ['a space after the size', '2 \r\nab\r\n0\r\n\r\n', 'invalid chunk size'],
    ['a sign', '+2\r\nab\r\n0\r\n\r\n', 'invalid chunk size'],
    ['17 significant digits', '10000000000000000\r\n', 'chunk size overflows'],
    ['a bare LF after the size', '2\nab\r\n0\r\n\r\n', 'invalid chunk size'],
    ['a bare LF after an extension', '2;a\nab\r\n0\r\n\r\n', 'invalid chunk extension'],
    ['a CR without LF after the size', '2\rab\r\n0\r\n\r\n', 'chunk size line must end in CRLF'],
    ['more data than its size', '2\r\nabc\r\n0\r\n\r\n', 'chunk data longer than its size'],
    ['a bare CR after the data', '2\r\nab\r0\r\n\r\n', 'chunk data must end in CRLF'],
    ['a control byte in an extension', '2;a=\x00\r\nab\r\n0\r\n\r\n', 'invalid chunk extension'],
    ['an obs-fold trailer', '0\r\nX-A: 1\r\n 2\r\n\r\n', 'invalid trailer field'],
    ['a trailer name with a space', '0\r\nX A: 1\r\n\r\n', 'invalid trailer field name'],
    ['a bare LF in a trailer', '0\r\nX-A: 1\n\r\n', 'invalid trailer field value'],
    ['a bare LF at the end', '0\r\n\n', 'invalid trailer field'],
    ['a CR without LF at the end', '0\r\n\rX', 'chunked body must end in CRLF'],
  ])('refuses %s', (_name, body, message) => {
    expect(() => decode([body])).toThrow(message);
  });

  it('refuses a trailer section over its limit as too large', () => {
    try {
      decode([`0\r\nX-Long: ${'a'.repeat(100)}\r\n\r\n`]);
      expect.unreachable();
    } catch (err) {
      expect((err as ChunkedFramingError).tooLarge).toBe(true);
    }
  });

  it('refuses a chunk extension over 4096 bytes', () => {
    expect(() => decode([`2;${'e'.repeat(4097)}\r\nab\r\n0\r\n\r\n`])).toThrow('chunk extension too long');
    expect(decode([`2;${'e'.repeat(4096)}\r\nab\r\n0\r\n\r\n`]).body).toBe('ab');
  });
});
