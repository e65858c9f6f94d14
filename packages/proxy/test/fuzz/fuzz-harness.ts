import { pino } from 'pino';
import { ProxyServer } from '../../src/index.js';
import { proxyConfig, serviceConfig } from '@podgate/lab';
import { BUFFER_BYTES, MAX_BODY_BYTES } from '../raw-client.js';
import { PodLog, RecordingPod } from './recording-pod.js';
import { EVIL_HOST } from './valid-requests.js';

/*
 * podgate in front of recording pods, built like raw-client.ts's startHostileHarness (same body
 * limits) but with pods that keep every byte. Two services: 'main' (any Host) on two pods, and
 * 'evil' (Host evil.test only) on one: no fuzz request is for evil.test except through a trailer,
 * a hidden request or a second Host line, so any request at the evil pod is a leak.
 */

/** Not used by any other test (see the lists in raw-client.ts and the *.test.ts files). */
export const FUZZ_POD_PORT = 18329;
const NET = '127.217.0';

export interface FuzzHarness {
  proxy: ProxyServer;
  port: number;
  log: PodLog;
  bufferBytes: number;
  maxBodyBytes: number;
  close(): Promise<void>;
}

/** The three pods on one port (a service has one port for all its pods). */
async function startPods(port: number, log: PodLog): Promise<RecordingPod[]> {
  const first = await RecordingPod.start('main-1', 'main', `${NET}.1`, port, log);
  const rest: RecordingPod[] = [];
  try {
    rest.push(await RecordingPod.start('main-2', 'main', `${NET}.2`, first.port, log));
    rest.push(await RecordingPod.start('evil-1', 'evil', `${NET}.3`, first.port, log));
  } catch (err) {
    await Promise.all([first, ...rest].map((p) => p.close()));
    throw err;
  }
  return [first, ...rest];
}

/** Body limits of the harness's services; by default raw-client.ts's small ones (the streamed path cheap to reach). */
export interface FuzzLimits {
  bufferBytes: number;
  maxBodyBytes: number;
}

export async function startFuzzHarness(limits: FuzzLimits = { bufferBytes: BUFFER_BYTES, maxBodyBytes: MAX_BODY_BYTES }): Promise<FuzzHarness> {
  const log = new PodLog();
  let pods: RecordingPod[];
  try {
    pods = await startPods(FUZZ_POD_PORT, log);
  } catch (err) {
    // Another run of this suite (`pnpm fuzz` next to `pnpm test`) holds the port: take any other.
    if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
    pods = await startPods(0, log);
  }
  const podPort = (pods[0] as RecordingPod).port;
  // No hedges and no rescues: a second copy of a request at a pod must mean a smuggled one.
  const common = {
    body: { bufferBytes: limits.bufferBytes, maxBytes: limits.maxBodyBytes },
    hedge: { methods: [] },
    rescue: { enabled: false },
    connectHedge: { enabled: false },
  };
  const config = proxyConfig([
    serviceConfig('main', podPort, common),
    serviceConfig('evil', podPort, { ...common, routes: [{ host: EVIL_HOST, pathPrefix: '/' }] }),
  ]);
  // Long enough for a case's slowest schedule (a few 300 ms pauses): a 408 would hide what we test.
  config.client.headerTimeoutMs = 2000;
  config.client.requestTimeoutMs = 4000;
  const proxy = new ProxyServer({ config, logger: pino({ level: 'silent' }) });
  const { port } = await proxy.listen();
  proxy.setAddresses('main', [`${NET}.1`, `${NET}.2`]);
  proxy.setAddresses('evil', [`${NET}.3`]);
  return {
    proxy,
    port,
    log,
    bufferBytes: limits.bufferBytes,
    maxBodyBytes: limits.maxBodyBytes,
    async close() {
      await proxy.close(100);
      await Promise.all(pods.map((p) => p.close()));
    },
  };
}
