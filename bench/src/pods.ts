import { join } from 'node:path';
import type { Child, Children } from './child-processes.js';
import { logTail } from './child-processes.js';
import { POD_HOSTS, POD_PORT } from './layout.js';
import { distFile } from './paths.js';
import { waitForHttp } from './wait.js';

/**
 * The four upstream pods, a Node process each, so on a multi-core machine the pods are not the
 * bottleneck (the bench checks: direct to one pod must beat every proxy in front of four).
 */
export async function startPods(children: Children, dir: string): Promise<Child[]> {
  const pods = POD_HOSTS.map((host) =>
    children.spawn({
      name: `pod ${host}`,
      command: process.execPath,
      args: [distFile('pod-server.js'), '--host', host, '--port', String(POD_PORT)],
      logFile: join(dir, `pod-${host}.log`),
      ipc: true,
    }),
  );
  await Promise.all(
    pods.map(async (pod, i) => {
      try {
        await waitForHttp(`http://${POD_HOSTS[i]}:${POD_PORT}/`, 10_000, () => pod.process.exitCode === null);
      } catch (err) {
        throw new Error(`${pod.name} did not start: ${(err as Error).message}\n${logTail(pod.logFile)}`);
      }
    }),
  );
  return pods;
}
