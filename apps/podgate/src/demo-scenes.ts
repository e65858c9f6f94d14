import type { LabCluster, LabDnsServer, RolloutOptions } from '@podgate/lab';
import type { PeerAction } from '@podgate/protocol';

/*
 * What happens to the demo's services, each a minute apart, so that every state podgate shows is on
 * screen for seconds, not milliseconds: real lab pods, real failures, reached by the mechanisms a
 * cluster uses (a rollout's steps, a grace period, endpoints that lag, a lost node, a container
 * restarted in place, a DNS server failing, an operator's drain).
 */

/** Changes a peer as an operator does through the admin API (the demo's `demo` operator). */
export type Operate = (service: string, address: string, action: PeerAction) => Promise<unknown>;

export interface SceneContext {
  dns: LabDnsServer;
  clusters: ReadonlyMap<string, LabCluster>;
  operate: Operate | null;
  stop: AbortSignal;
}

type Scene = (ctx: SceneContext) => Promise<void>;

// A step every 4-5 s and a new pod ready 1 s after it starts: a rollout of 4 pods takes about 20 s,
// long enough to see the surge pod, each old pod leave and its replacement arrive.
const ROLLOUT_PACE = { stepPauseMs: 4000, readyDelayMs: 1000, graceMs: 30_000 } satisfies Partial<RolloutOptions>;

/** Each service's scenes, taken in turn, one a minute; `firstMs` staggers the services. */
export const SCENES: ReadonlyArray<{ service: string; firstMs: number; scenes: readonly Scene[] }> = [
  {
    service: 'image-lobby',
    firstMs: 15_000,
    scenes: [
      // Routine: each old pod refuses new connections, finishes what it has and leaves DNS.
      (ctx) => roll(ctx, 'image-lobby', { ...ROLLOUT_PACE, mode: 'graceful' }),
      // The first old pod crashes on SIGTERM while Kubernetes' endpoints still list it for 10 s
      // (a kubelet slow to report it): a listed pod refusing, found at its first refusal. Longer
      // than podgate's next two answers (one at once, one a 5 s TTL later), so DNS is seen to list it.
      (ctx) => roll(ctx, 'image-lobby', { ...ROLLOUT_PACE, mode: ['refuse', 'graceful', 'graceful', 'graceful'], dnsLagMs: { refuse: 10_000 } }),
      // The first old pod's node is lost: connects time out and kept connections go silent, and
      // the endpoints list it until the node controller gives up on the node (40 s by default,
      // 20 s here). Its probe finds it and its requests are re-sent; 25 s later the node is back
      // without it (connects refused).
      (ctx) =>
        roll(ctx, 'image-lobby', {
          ...ROLLOUT_PACE,
          mode: ['blackhole', 'graceful', 'graceful', 'graceful'],
          dnsLagMs: { blackhole: 20_000 },
          blackholeMs: 25_000,
        }),
    ],
  },
  {
    service: 'reports',
    firstMs: 30_000,
    scenes: [
      // An operator drains a pod before maintenance: draining while its 3 s requests finish,
      // drained after, restored 25 s later.
      async (ctx) => {
        const pod = ctx.clusters.get('reports')?.pods.at(-1);
        if (ctx.operate === null || pod === undefined) return;
        await ctx.operate('reports', pod.address, 'drain');
        await pause(25_000, ctx.stop);
        await ctx.operate('reports', pod.address, 'restore');
      },
      // A rollout of pods busy with 3 s requests: each old pod stays terminating until they end.
      (ctx) => roll(ctx, 'reports', { ...ROLLOUT_PACE, stepPauseMs: 5000, mode: 'graceful' }),
    ],
  },
  {
    service: 'search',
    firstMs: 45_000,
    scenes: [
      // The DNS server fails this name for 20 s (SERVFAIL): podgate keeps the pods it knows.
      async (ctx) => {
        const name = ctx.clusters.get('search')?.dnsName;
        if (name === undefined) return;
        ctx.dns.failName(name, 'servfail');
        await pause(20_000, ctx.stop);
        ctx.dns.failName(name, null);
      },
      // A pod's container crashes and the kubelet restarts it in place 4 s later: the same
      // address comes back while podgate still counts it dead, and returns when its ejection ends.
      async (ctx) => {
        const cluster = ctx.clusters.get('search');
        const pod = cluster?.pods[0];
        if (cluster !== undefined && pod !== undefined) await cluster.restartPod(pod, { downMs: 4000 });
      },
    ],
  },
];

/** Plays each service's scenes in turn, a minute apart, until `stop` fires or `endAt` passes. */
export async function playScenes(ctx: SceneContext, everyMs: number, endAt: number): Promise<void> {
  await Promise.all(
    SCENES.map(async ({ firstMs, scenes }) => {
      let next = Date.now() + Math.min(firstMs, everyMs);
      for (let i = 0; ; i++) {
        await pause(next - Date.now(), ctx.stop);
        if (ctx.stop.aborted || Date.now() >= endAt) return;
        next += everyMs;
        try {
          await (scenes[i % scenes.length] as Scene)(ctx);
        } catch (err) {
          // The lab closed under it (Ctrl-C); anything else (a peer DNS dropped before the drain
          // reached it) costs this scene only.
          if ((err as { code?: string }).code === 'LAB_CLOSED') return;
        }
      }
    }),
  );
}

async function roll(ctx: SceneContext, service: string, options: RolloutOptions): Promise<void> {
  await ctx.clusters.get(service)?.rollingUpdate(options);
}

function pause(ms: number, stop: AbortSignal): Promise<void> {
  if (ms <= 0 || stop.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop.addEventListener('abort', done, { once: true });
  });
}
