/*
 * A chunked request body (RFC 9112 §7.1), read by podgate itself rather than by llhttp. node's
 * parser binding tells nothing of chunk sizes: a client that announced a chunk of 2^64 - 1 bytes
 * was only found by the request timeout, and the trailer section came back through the header
 * callback, where it once leaked into the next request. Read here, a chunk larger than the body
 * may be is refused as its size line ends, and trailers are checked and dropped.
 *
 * As strict as llhttp without lenient flags: no whitespace after the size, no bare CR or LF, data
 * followed by CRLF exactly, no obs-fold in trailers.
 */

/** What a decoder reports as it reads. */
export interface ChunkedBodyEvents {
  /** Data bytes of a chunk (a view into the buffer read: copy to keep past the call). */
  onChunkData(piece: Buffer): void;
  /**
   * A chunk size line ended: `total` is the body size once that chunk has arrived. False: the
   * body is refused (too large), and the decoder reads no further.
   */
  onChunkAnnounced(total: number): boolean;
}

/** Malformed framing; `tooLarge` when the trailer section is longer than a head may be. */
export class ChunkedFramingError extends Error {
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

const enum State {
  SizeStart,
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerLineStart,
  TrailerName,
  TrailerValue,
  TrailerLf,
  EndLf,
  Done,
}

const CR = 13;
const LF = 10;
// 2^64 - 1 has 16 hex digits: llhttp refuses more, as an overflow.
const MAX_SIZE_DIGITS = 16;
// A chunk line's extensions are read and dropped; past this they are an attack, not metadata.
const MAX_EXTENSION_BYTES = 4096;

export class ChunkedBodyDecoder {
  private state = State.SizeStart;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private extensionBytes = 0;
  private trailerBytes = 0;
  private total = 0;

  constructor(
    private readonly events: ChunkedBodyEvents,
    /** The trailer section's limit: the same as the head's. */
    private readonly maxTrailerBytes: number,
  ) {}

  /**
   * Reads `data` from `at`. Returns the offset just past the body's final CRLF when the body ended
   * in it, or -1 when it needs more bytes. Throws ChunkedFramingError on malformed framing.
   */
  read(data: Buffer, at: number): number {
    let i = at;
    const n = data.length;
    while (i < n) {
      if (this.state === State.Data) {
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        this.events.onChunkData(data.subarray(i, i + take));
        i += take;
        if (this.remaining === 0) this.state = State.DataCr;
        continue;
      }
      const c = data[i] as number;
      i++;
      switch (this.state) {
        case State.SizeStart:
          if (hexValue(c) < 0) throw new ChunkedFramingError('invalid chunk size');
          this.size = hexValue(c);
          this.digits = this.size === 0 ? 0 : 1;
          this.state = State.Size;
          break;
        case State.Size:
          if (hexValue(c) >= 0) {
            if (this.digits > 0 || c !== 48) this.digits++;
            if (this.digits > MAX_SIZE_DIGITS) throw new ChunkedFramingError('chunk size overflows');
            this.size = this.size * 16 + hexValue(c);
          } else if (c === 59 /* ; */) {
            this.extensionBytes = 0;
            this.state = State.Extension;
          } else if (c === CR) {
            this.state = State.SizeLf;
          } else {
            throw new ChunkedFramingError('invalid chunk size');
          }
          break;
        case State.Extension:
          // Read, checked for control bytes, and dropped: podgate re-frames the body.
          if (c === CR) this.state = State.SizeLf;
          else if (!isFieldByte(c)) throw new ChunkedFramingError('invalid chunk extension');
          else if (++this.extensionBytes > MAX_EXTENSION_BYTES) throw new ChunkedFramingError('chunk extension too long');
          break;
        case State.SizeLf:
          if (c !== LF) throw new ChunkedFramingError('chunk size line must end in CRLF');
          if (this.size === 0) {
            this.state = State.TrailerLineStart;
          } else {
            this.total += this.size;
            this.remaining = this.size;
            this.state = State.Data;
            if (!this.events.onChunkAnnounced(this.total)) {
              this.state = State.Done;
              return -1;
            }
          }
          break;
        case State.DataCr:
          if (c !== CR) throw new ChunkedFramingError('chunk data longer than its size');
          this.state = State.DataLf;
          break;
        case State.DataLf:
          if (c !== LF) throw new ChunkedFramingError('chunk data must end in CRLF');
          this.state = State.SizeStart;
          break;
        case State.TrailerLineStart:
          if (c === CR) {
            this.state = State.EndLf;
            break;
          }
          // RFC 9112 §5.2: obs-fold is refused in requests.
          if (!isTokenByte(c)) throw new ChunkedFramingError('invalid trailer field');
          this.countTrailerByte();
          this.state = State.TrailerName;
          break;
        case State.TrailerName:
          this.countTrailerByte();
          if (c === 58 /* : */) this.state = State.TrailerValue;
          else if (!isTokenByte(c)) throw new ChunkedFramingError('invalid trailer field name');
          break;
        case State.TrailerValue:
          if (c === CR) this.state = State.TrailerLf;
          else if (!isFieldByte(c)) throw new ChunkedFramingError('invalid trailer field value');
          else this.countTrailerByte();
          break;
        case State.TrailerLf:
          if (c !== LF) throw new ChunkedFramingError('trailer line must end in CRLF');
          this.state = State.TrailerLineStart;
          break;
        case State.EndLf:
          if (c !== LF) throw new ChunkedFramingError('chunked body must end in CRLF');
          this.state = State.Done;
          return i;
        default:
          return i - 1;
      }
    }
    return -1;
  }

  private countTrailerByte(): void {
    if (++this.trailerBytes > this.maxTrailerBytes) throw new ChunkedFramingError('trailer section too large', true);
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** RFC 9110 §5.6.2 tchar. */
function isTokenByte(c: number): boolean {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return c === 33 || (c >= 35 && c <= 39) || c === 42 || c === 43 || c === 45 || c === 46 || c === 94 || c === 95 || c === 96 || c === 124 || c === 126;
}

/** A byte of a field value or chunk extension: visible, SP, HTAB or obs-text (RFC 9110 §5.5); no CTL. */
function isFieldByte(c: number): boolean {
  return c === 9 || (c >= 32 && c !== 127);
}
