import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/*
 * A pod that records every request podgate sends it, byte for byte (method, target, raw header
 * list, body), and answers 200 with the target as its body, so the client can tell which request
 * each answer is for. It answers only once the whole body came: a request podgate cut short stays
 * recorded as incomplete, which is what a refused request may at most leave behind.
 */

export interface PodRecord {
  /** Arrival order over every pod of the log. */
  seq: number;
  pod: string;
  /** Which service the pod belongs to ('main', or 'evil' for the evil.test route). */
  group: string;
  method: string;
  url: string;
  /** [name, value, name, value, ...] as node read them (value without OWS). */
  rawHeaders: string[];
  body: Buffer;
  /** The whole body came (node's 'end'); false: the request was cut before its end. */
  complete: boolean;
}

/** What all the pods of a harness got, in arrival order. */
export class PodLog {
  readonly records: PodRecord[] = [];
  /** Bytes a pod's own parser refused (podgate sent something that is not HTTP/1.1). */
  readonly anomalies: string[] = [];
  private seq = 0;

  nextSeq(): number {
    return this.seq++;
  }
}

export class RecordingPod {
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly name: string,
    readonly host: string,
    /** The port it listens on (the one asked for, or the system's pick when 0 was asked). */
    readonly port: number,
    private readonly server: Server,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(name: string, group: string, host: string, port: number, log: PodLog): Promise<RecordingPod> {
    const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      // podgate's own liveness probe of a peer whose try is slow (a body a client sends slowly):
      // not a client's request, so not recorded.
      if (req.method === 'OPTIONS' && req.url === '*' && req.headers['user-agent'] === 'podgate-probe') {
        res.writeHead(204).end();
        return;
      }
      const record = startRecord(name, group, req, log);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        record.body = Buffer.concat(chunks);
        record.complete = true;
        const body = Buffer.from(req.url ?? '', 'latin1');
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
        res.end(body);
      });
      // Cut short: keep what came, still incomplete.
      req.on('close', () => {
        if (!record.complete) record.body = Buffer.concat(chunks);
      });
    });
    server.on('clientError', (err: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) => {
      // Resets, timeouts and a connection closed inside a message (HPE_INVALID_EOF_STATE: a request
      // podgate cut, recorded as incomplete) are podgate dropping a connection; other parse errors
      // are bytes no pod should get.
      if (err.code?.startsWith('HPE_') === true && err.code !== 'HPE_INVALID_EOF_STATE') {
        log.anomalies.push(`${name} could not parse what podgate sent (${err.code}): ${JSON.stringify(err.rawPacket?.toString('latin1') ?? '')}`);
      }
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new RecordingPod(name, host, (server.address() as AddressInfo).port, server);
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function startRecord(pod: string, group: string, req: IncomingMessage, log: PodLog): PodRecord {
  const record: PodRecord = {
    seq: log.nextSeq(),
    pod,
    group,
    method: req.method ?? '',
    url: req.url ?? '',
    rawHeaders: [...req.rawHeaders],
    body: Buffer.alloc(0),
    complete: false,
  };
  log.records.push(record);
  return record;
}
