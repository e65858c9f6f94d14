import httpProxy from 'http-proxy';
import { Agent, createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';

/*
 * `http-proxy` (node-http-proxy) in front of the pods, as its users write it: one keep-alive
 * http.Agent, a target chosen per request, round robin.
 * Run: node http-proxy-server.js --host 127.0.0.1 --port 18704 --upstream http://127.0.10.1:18700 ...
 */
const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' }, upstream: { type: 'string', multiple: true } } });
const upstreams = values.upstream ?? [];
if (upstreams.length === 0) throw new Error('http-proxy-server: at least one --upstream');

// maxSockets is per host, so per pod: 64, as podgate's keepalive.connections.
const agent = new Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64, timeout: 60_000 });
const proxy = httpProxy.createProxyServer({ agent });
proxy.on('error', (err, _req, res) => {
  if ('writeHead' in res) {
    const r = res as ServerResponse;
    if (!r.headersSent) r.writeHead(502, { 'content-type': 'text/plain' });
    r.end(`proxy error: ${err.message}\n`);
  } else {
    (res as Socket).destroy();
  }
});

let next = 0;
const server = createServer((req, res) => {
  const target = upstreams[next] ?? upstreams[0];
  next = (next + 1) % upstreams.length;
  proxy.web(req, res, { target });
});
server.keepAliveTimeout = 65_000;
server.listen({ host: values.host ?? '127.0.0.1', port: Number(values.port ?? '18704'), backlog: 4096 }, () => {
  process.stdout.write(`http-proxy listening on ${values.host}:${values.port} → ${upstreams.join(' ')}\n`);
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
