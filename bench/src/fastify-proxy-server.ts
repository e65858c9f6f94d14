import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { parseArgs } from 'node:util';

/*
 * Fastify 5 with @fastify/http-proxy in front of the pods. The plugin takes one `upstream`; with
 * `upstream: ''` it asks `replyOptions.getUpstream` for each request, which is how it balances:
 * round robin here, over @fastify/reply-from's undici Agent (a keep-alive Pool per pod).
 * Run: node fastify-proxy-server.js --host 127.0.0.1 --port 18703 --upstream http://127.0.10.1:18700 ...
 */
const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' }, upstream: { type: 'string', multiple: true } } });
const upstreams = values.upstream ?? [];
if (upstreams.length === 0) throw new Error('fastify-proxy-server: at least one --upstream');

let next = 0;
const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
await app.register(proxy, {
  upstream: '',
  replyOptions: {
    getUpstream: () => {
      const target = upstreams[next] ?? upstreams[0] ?? '';
      next = (next + 1) % upstreams.length;
      return target;
    },
  },
  // 64 connections per pod, as podgate's keepalive.connections; no pipelining, as wrk.
  undici: { connections: 64, pipelining: 1, keepAliveTimeout: 30_000 },
});
await app.listen({ host: values.host ?? '127.0.0.1', port: Number(values.port ?? '18703'), backlog: 4096 });
process.stdout.write(`fastify http-proxy listening on ${values.host}:${values.port} → ${upstreams.join(' ')}\n`);
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
