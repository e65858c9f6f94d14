import type { Socket } from 'node:net';

/*
 * Request bodies are held until their request ends (a retry may replay them). Held that long, a
 * fresh Buffer per body outlives the young generation's collections, and V8 only frees its memory
 * (external to the heap) in full mark-compacts, which it then runs several times a second under
 * load: measured with `pnpm bench --profile --workload=post64k`, 57-61 mark-compacts in 10 s
 * with a fresh buffer per body, 4-5 when the memory is reused. So bodies from 16 KiB to 1 MiB
 * are copied into buffers that are reused once their request is over.
 *
 * Reuse is safe only when no socket still has bytes of the body to send: a pod may answer before
 * it read the whole body, and bytes still queued behind the answer would be sent from memory a
 * later request has already overwritten. undici writes a Buffer body between socket.cork() and
 * socket.uncork() and then reports onBodySent; so upstream sockets note when they are corked, and
 * a body whose socket did not take it all at once goes back to the pool only once that socket has
 * drained or closed (a 1 MiB body rarely fits the socket at once: dropped to the GC instead, each
 * one was a fresh MiB outside the heap, and V8 marked the whole heap several times a second to
 * free them).
 */

const MIN_CLASS = 14; // 16 KiB
const MAX_CLASS = 20; // 1 MiB
// Free buffers kept per size class: 8 MiB of each at most (56 MiB in all, and only of sizes used):
// 128 bodies of 64 KiB in flight at once, or 8 of 1 MiB.
const KEPT_BYTES_PER_CLASS = 8 * 1024 * 1024;

/** Smallest body copied into a reusable buffer; smaller ones come from node's own 8 KiB pool. */
export const POOLED_MIN_BYTES = 1 << MIN_CLASS;
export const POOLED_MAX_BYTES = 1 << MAX_CLASS;

const free: Buffer[][] = [];
for (let c = 0; c <= MAX_CLASS; c++) free.push([]);

function classOf(size: number): number {
  let c = MIN_CLASS;
  while (1 << c < size) c++;
  return c;
}

/** A buffer of at least `size` bytes (POOLED_MIN_BYTES to POOLED_MAX_BYTES), reused or new. */
export function takeBodyBuffer(size: number): Buffer {
  const c = classOf(size);
  return (free[c] as Buffer[]).pop() ?? Buffer.allocUnsafeSlow(1 << c);
}

/** Gives back a buffer from takeBodyBuffer that nothing reads any more. */
export function giveBodyBuffer(buffer: Buffer): void {
  const c = classOf(buffer.length);
  const list = free[c] as Buffer[];
  if (buffer.length === 1 << c && list.length * buffer.length < KEPT_BYTES_PER_CLASS) list.push(buffer);
}

let lastCorked: Socket | null = null;

/** For upstream sockets: remembers the last one corked (undici corks around a Buffer body). */
export function noteCorks(socket: Socket): void {
  const cork = socket.cork.bind(socket);
  socket.cork = (): void => {
    lastCorked = socket;
    cork();
  };
}

/**
 * Called from onBodySent, right after undici's uncork: 'flushed' when the socket it wrote to handed
 * every byte to the kernel; the socket when some are still queued there (the body's memory is read
 * until it drains or closes); 'unknown' when no cork was seen (never reuse that body).
 */
export function socketStillSending(): Socket | 'flushed' | 'unknown' {
  const socket = lastCorked;
  lastCorked = null;
  if (socket === null) return 'unknown';
  return socket.writableLength === 0 ? 'flushed' : socket;
}
