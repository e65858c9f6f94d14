import type net from 'node:net';

interface StreamHandle {
  reading?: boolean;
  readStop?: () => number;
  readStart?: () => number;
}

/**
 * Stops a socket the way a frozen process (SIGSTOP, a deadlock, a frozen cgroup) leaves it: nothing
 * more is read, so the kernel buffers what comes until the peer's window closes; nothing is written;
 * no timer closes it. Only destroy() ends it.
 *
 * `socket.pause()` alone is not enough: node resumes sockets on its own (reading a request body
 * calls `socket.resume()`, and node:http's 'resume' handler restarts the handle's reads), and a plain
 * net.Socket keeps reading into its buffer while paused. So reads stop at the handle, and both ways
 * back are shut for this socket.
 */
export function freezeSocket(socket: net.Socket): void {
  // Idle keep-alive sockets carry node:http's keepAliveTimeout, which would close them (a FIN a
  // frozen process never sends).
  socket.setTimeout(0);
  socket.pause();
  socket.resume = function frozen(this: net.Socket) {
    return this;
  };
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  if (handle === null || handle === undefined) return;
  if (handle.reading === true) handle.reading = false;
  handle.readStop?.();
  handle.readStart = () => 0;
}
