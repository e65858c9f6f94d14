import net from 'node:net';

/**
 * How every request is answered. The process itself is alive (its HTTP layer answers podgate's
 * `OPTIONS *` probe at once, not counted as a request) except `silent`: a hung process, whose
 * kernel accepts and reads while nothing answers. `busy`: alive, its requests never answered.
 */
export type Misbehaviour = 'close' | 'reset' | 'invalid_header' | 'silent' | 'busy' | 'status_502';

/**
 * A pod that misbehaves the same way on every request, for tests that need one bad peer next to
 * good lab pods. It speaks raw TCP so it can break HTTP in ways a node:http server cannot.
 */
export class BadPod {
  requests = 0;
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    private readonly how: Misbehaviour,
  ) {}

  static async start(host: string, port: number, how: Misbehaviour): Promise<BadPod> {
    const server = net.createServer();
    const pod = new BadPod(server, how);
    server.on('connection', (s) => pod.onConnection(s));
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return pod;
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const options = head.startsWith('OPTIONS * ');
      head = '';
      if (options && this.how !== 'silent') {
        socket.end('HTTP/1.1 204 No Content\r\nallow: GET, POST\r\n\r\n');
        return;
      }
      this.requests++;
      switch (this.how) {
        case 'close':
          socket.end();
          break;
        case 'reset':
          socket.resetAndDestroy();
          break;
        case 'invalid_header':
          socket.end('HTTP/1.1 200 OK\r\nbad header name: x\r\ncontent-length: 0\r\n\r\n');
          break;
        case 'status_502':
          socket.write('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 3\r\n\r\nbad');
          break;
        case 'silent':
        case 'busy':
          break;
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
