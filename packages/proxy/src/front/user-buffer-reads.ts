import { Socket } from 'node:net';

/*
 * A socket that reads into buffers podgate hands it, as `net.Socket`'s documented `onread` option
 * does (`{ buffer, callback }`, for sockets a program creates): node then calls `callback(n, buffer)`
 * for each read, and asks a buffer generator where the next read goes. A server's accepted sockets
 * cannot take the option, so podgate sets the same three fields on them and starts the handle's
 * user-buffer mode itself, as node's initSocketHandle does for the option. A request body of known
 * length is then read by the kernel straight into the buffer that holds it: no Buffer allocated
 * per read, no copy of each part by the parser, no copy into the body's buffer. Its fields are
 * node's own (found by their names on a socket made with the option); on a Node whose sockets
 * lack them, bodies are read as before ('data' events, copied).
 */

interface OnreadFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

function findOnreadFields(): OnreadFields | null {
  try {
    // node's Socket constructor reads `onread` (net.connect passes it on); its types name it only for connect.
    const options = { onread: { buffer: Buffer.alloc(1), callback: () => undefined } } as ConstructorParameters<typeof Socket>[0];
    const probe = new Socket(options);
    const byName = new Map(Object.getOwnPropertySymbols(probe).map((s) => [s.description, s]));
    probe.destroy();
    const buffer = byName.get('kBuffer');
    const callback = byName.get('kBufferCb');
    const generator = byName.get('kBufferGen');
    if (buffer === undefined || callback === undefined || generator === undefined) return null;
    const fields = probe as unknown as Record<symbol, unknown>;
    // What node's read callback relies on: the buffer, the callback, and a generator slot (null).
    if (!Buffer.isBuffer(fields[buffer]) || typeof fields[callback] !== 'function' || fields[generator] !== null) return null;
    return { buffer, callback, generator };
  } catch {
    return null;
  }
}

const FIELDS = findOnreadFields();

/** This Node's sockets can read into podgate's buffers. */
export const readsIntoBuffers = FIELDS !== null;

/**
 * Where reads go when no body buffer wants them: each such read is copied out in its callback, so
 * one buffer serves every connection (reads run one at a time, on this thread).
 */
export const SHARED_READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** The part of a socket's libuv handle that turns user-buffer reads on. */
interface UserBufferHandle {
  useUserBuffer?: (buffer: Uint8Array) => void;
}

/**
 * From now on, `socket` reads into buffers: the next read into SHARED_READ_BUFFER, each after it
 * into what `next` returns after the read before it; `onRead(n, buffer)` is told of each. For good:
 * node has no way back to its own buffers. False (nothing changed) when this Node cannot.
 */
export function useReadBuffers(socket: Socket, handle: object, onRead: (n: number, buffer: Uint8Array) => void, next: () => Uint8Array): boolean {
  const use = (handle as UserBufferHandle).useUserBuffer;
  if (FIELDS === null || typeof use !== 'function') return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  fields[FIELDS.buffer] = SHARED_READ_BUFFER;
  fields[FIELDS.callback] = onRead;
  fields[FIELDS.generator] = next;
  use.call(handle, SHARED_READ_BUFFER);
  return true;
}
