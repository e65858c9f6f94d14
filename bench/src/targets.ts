import { startCaddy } from './caddy-target.js';
import { ADMIN_PORTS, POD_HOSTS, POD_PORT, PORTS } from './layout.js';
import { commandExists, type Versions } from './machine-info.js';
import { startNginx } from './nginx-target.js';
import { startFastifyProxy, startHttpProxy } from './node-proxy-targets.js';
import { startPodgate } from './podgate-target.js';
import type { StartContext, Target, TargetId } from './target.js';
import { httpOnce } from './wait.js';

export interface StartedTargets {
  targets: Target[];
  skipped: Array<{ id: TargetId; reason: string }>;
}

export const directTarget = (): Target => ({
  id: 'direct',
  label: 'direct to one pod',
  url: `http://${POD_HOSTS[0]}:${POD_PORT}/`,
  setup: 'wrk straight at one pod (a Node http server): the ceiling',
  version: '',
  child: null,
});

/**
 * Starts the chosen targets one after the other. podgate must start; a comparison proxy that is
 * not installed or does not start is skipped with the reason, and the run goes on without it.
 */
export async function startTargets(ctx: StartContext, ids: readonly TargetId[], versions: Versions, log: (line: string) => void): Promise<StartedTargets> {
  const targets: Target[] = [];
  const skipped: StartedTargets['skipped'] = [];
  for (const id of ids) {
    let start: (() => Promise<Target>) | null = null;
    switch (id) {
      case 'direct':
        targets.push(directTarget());
        continue;
      case 'podgate-1w':
        targets.push(await startPodgate(ctx, { name: 'podgate-1w', workers: 1, port: PORTS.podgate1w, adminPort: ADMIN_PORTS.podgate1w }, id));
        continue;
      case 'podgate-2w':
        targets.push(await startPodgate(ctx, { name: 'podgate-2w', workers: 2, port: PORTS.podgate2w, adminPort: ADMIN_PORTS.podgate2w }, id));
        continue;
      case 'fastify':
        start = () => startFastifyProxy(ctx, `fastify ${versions.fastify}, @fastify/http-proxy ${versions.fastifyHttpProxy}`);
        break;
      case 'http-proxy':
        start = () => startHttpProxy(ctx, `http-proxy ${versions.httpProxy}`);
        break;
      case 'nginx':
        if (!commandExists('nginx')) {
          skipped.push({ id, reason: 'nginx is not installed (apt-get install -y nginx)' });
          continue;
        }
        start = () => startNginx(ctx, versions.nginx ?? '');
        break;
      case 'caddy':
        if (!commandExists('caddy')) {
          skipped.push({ id, reason: 'caddy is not installed (apt-get install -y caddy)' });
          continue;
        }
        start = () => startCaddy(ctx, versions.caddy ?? '');
        break;
    }
    try {
      targets.push(await start());
    } catch (err) {
      log(`  ${id} did not start, skipped: ${(err as Error).message}`);
      skipped.push({ id, reason: `did not start: ${(err as Error).message.split('\n')[0] ?? ''}` });
    }
  }
  return { targets, skipped };
}

/** A target must answer GET with a pod's ~100 bytes and a 64 KiB POST with its size, or it is not measured. */
export async function checkTarget(target: Target): Promise<string | null> {
  try {
    const get = await httpOnce(target.url, { timeoutMs: 5000 });
    if (get.status !== 200 || !get.body.startsWith('pod ')) return `GET answered ${get.status}: ${get.body.slice(0, 120)}`;
    const post = await httpOnce(target.url, { method: 'POST', body: Buffer.alloc(64 * 1024, 0x78), timeoutMs: 5000 });
    if (post.status !== 200 || !post.body.includes('"bytes":65536')) return `POST 64 KiB answered ${post.status}: ${post.body.slice(0, 120)}`;
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
