import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

/*
 * One upstream "pod" for the bench: GET answers about 100 bytes, POST drains the body and answers
 * its size. As little work as a server can do, so the proxies in front are what is measured.
 * Run: node pod-server.js --host 127.0.10.1 --port 18700
 */
const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' } } });
const host = values.host ?? '127.0.10.1';
const port = Number(values.port ?? '18700');

const GET_BODY = Buffer.from(`pod ${host} says hello `.padEnd(99, '.') + '\n');
const GET_HEADERS = { 'content-type': 'text/plain', 'content-length': String(GET_BODY.length) };

const server = createServer((req, res) => {
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.writeHead(200, GET_HEADERS);
    res.end(GET_BODY);
    return;
  }
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    const body = `{"pod":"${host}","bytes":${bytes}}\n`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
});
// Longer than any proxy's upstream idle timeout (podgate 30 s, nginx 60 s), so the proxy closes first.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen({ host, port, backlog: 4096 }, () => {
  process.stdout.write(`pod listening on ${host}:${port}\n`);
});
// The bench went away (even by SIGKILL): so does the pod.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
