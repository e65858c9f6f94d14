import type { Child, Children } from './child-processes.js';

/** Something wrk sends load to: the direct pod (the ceiling) or one proxy in front of the four pods. */
export interface Target {
  id: TargetId;
  label: string;
  url: string;
  /** How it is set up, one line for the report. */
  setup: string;
  version: string;
  /** Null for the direct target, whose pod belongs to the pod set. */
  child: Child | null;
}

export type TargetId = 'direct' | 'podgate-1w' | 'podgate-2w' | 'fastify' | 'http-proxy' | 'nginx' | 'caddy';

export const TARGET_IDS: readonly TargetId[] = ['direct', 'podgate-1w', 'podgate-2w', 'fastify', 'http-proxy', 'nginx', 'caddy'];

/** What starting a target needs. */
export interface StartContext {
  children: Children;
  /** A private temporary directory for configs, logs and state. */
  dir: string;
  /** The lab DNS server, as `ip:port`, that answers the service name with the four pods. */
  nameserver: string;
}
