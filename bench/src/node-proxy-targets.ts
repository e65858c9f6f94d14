import { join } from 'node:path';
import type { Child } from './child-processes.js';
import { logTail } from './child-processes.js';
import { PORTS, PROXY_HOST, podUrls } from './layout.js';
import { distFile } from './paths.js';
import type { StartContext, Target } from './target.js';
import { waitForHttp } from './wait.js';
import { DATA_PLANE_NODE_FLAGS } from '@podgate/podgate/node-flags';

async function startNodeProxy(ctx: StartContext, name: string, entry: string, port: number): Promise<{ child: Child; url: string }> {
  // The same node flags as podgate's, so the comparison is of the code, not of the heap settings.
  const args = [...DATA_PLANE_NODE_FLAGS, distFile(entry), '--host', PROXY_HOST, '--port', String(port)];
  for (const upstream of podUrls()) args.push('--upstream', upstream);
  const child = ctx.children.spawn({ name, command: process.execPath, args, logFile: join(ctx.dir, `${name}.log`), ipc: true });
  const url = `http://${PROXY_HOST}:${port}/`;
  try {
    await waitForHttp(url, 15_000, () => child.process.exitCode === null);
  } catch (err) {
    throw new Error(`${name} did not start: ${(err as Error).message}\n${logTail(child.logFile)}`);
  }
  return { child, url };
}

export async function startFastifyProxy(ctx: StartContext, version: string): Promise<Target> {
  const { child, url } = await startNodeProxy(ctx, 'fastify', 'fastify-proxy-server.js', PORTS.fastify);
  return {
    id: 'fastify',
    label: '@fastify/http-proxy',
    url,
    setup:
      "fastify 5 + @fastify/http-proxy, upstream '' + replyOptions.getUpstream round robin over 4 pods (the plugin takes one upstream otherwise), undici Agent 64 connections/pod",
    version,
    child,
  };
}

export async function startHttpProxy(ctx: StartContext, version: string): Promise<Target> {
  const { child, url } = await startNodeProxy(ctx, 'http-proxy', 'http-proxy-server.js', PORTS.httpProxy);
  return {
    id: 'http-proxy',
    label: 'http-proxy',
    url,
    setup: 'http-proxy with http.Agent keepAlive (maxSockets 64/pod), target chosen per request round robin over 4 pods',
    version,
    child,
  };
}
