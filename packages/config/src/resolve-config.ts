import {
  checkServiceName,
  findRouteConflicts,
  policySpec,
  rootSpec,
  serviceSpec,
  type AdminConfig,
  type PodgateConfig,
  type ServiceConfig,
  type ServicePolicy,
} from '@podgate/protocol';
import { isLoopbackHost } from './addresses.js';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { describe, formatPath, isPlainObject, resolveSpec, toIssue, type PathSegment, type RawIssue } from './resolve-field.js';
import { formatDuration, formatSize } from './units.js';

/** The policy keys of a service, as resolved under `defaults`. */
export type ServiceDefaults = ServicePolicy;

/**
 * The resolved config plus its resolved `defaults:` section, which services added through the
 * admin API are resolved against, as the file's own services are.
 */
export interface ResolvedConfig extends PodgateConfig {
  defaults: ServiceDefaults;
}

export interface ResolveOptions {
  /**
   * Where PODGATE_OPERATOR_TOKEN / PODGATE_VIEWER_TOKEN are looked up (they count as configured
   * tokens for a non-loopback `admin.listen`). Default process.env.
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The service defaults a config carries: its resolved `defaults:`, or the built-in ones for a config built without them. */
export function serviceDefaultsOf(config: (PodgateConfig & { defaults?: ServiceDefaults }) | undefined): ServiceDefaults {
  return config?.defaults ?? builtinServiceDefaults();
}

/**
 * The issue with an admin API on a non-loopback address and no token configured (in `admin.tokens`
 * or the environment), or null. podgate would generate an operator token, print it where log
 * collectors read, and serve the API to the network with it: it refuses to start instead.
 */
export function adminListenIssue(admin: AdminConfig, env: Readonly<Record<string, string | undefined>>): ConfigIssue | null {
  if (isLoopbackHost(admin.listen.host) || admin.tokens.length > 0) return null;
  if ((env['PODGATE_OPERATOR_TOKEN'] ?? '') !== '' || (env['PODGATE_VIEWER_TOKEN'] ?? '') !== '') return null;
  const host = admin.listen.host.includes(':') ? `[${admin.listen.host}]` : admin.listen.host;
  return {
    path: 'admin.listen',
    message:
      `${host}:${admin.listen.port} is not a loopback address, and no admin token is configured: the admin API is refused there. ` +
      `Configure admin.tokens (or PODGATE_OPERATOR_TOKEN / PODGATE_VIEWER_TOKEN), or listen on loopback (127.0.0.1:${admin.listen.port})`,
  };
}

/** Thrown inside the package with segment paths, so parseConfig can point each issue at its YAML line. */
export class RawConfigError extends Error {
  constructor(readonly raw: RawIssue[]) {
    super('invalid config');
  }
}

/** The built-in `defaults`, used when nothing else is given. */
export function builtinServiceDefaults(): ServiceDefaults {
  return resolveSpec(policySpec, {}, [], []);
}

/**
 * An already-parsed config object (from YAML, or built in code like the demo's) → the resolved
 * config. Throws ConfigError listing every issue, sorted by path.
 */
export function resolveConfig(input: unknown, options: ResolveOptions = {}): ResolvedConfig {
  try {
    return resolveConfigRaw(input, options);
  } catch (err) {
    if (err instanceof RawConfigError) throw new ConfigError(err.raw.map(toIssue));
    throw err;
  }
}

/**
 * One service's input (the value under `services.<name>`) → the resolved service, its policy keys
 * merged key by key over `defaults` (the built-in ones unless given). The admin API adds services
 * with it. Throws ConfigError, the paths starting at `path` (default `services.<name>`).
 */
export function serviceFromInput(name: string, input: unknown, path?: string, defaults?: ServiceDefaults): ServiceConfig {
  const issues: RawIssue[] = [];
  const servicePath = path === undefined ? ['services', name] : [path];
  const service = resolveService(name, input, servicePath, issues, defaults ?? builtinServiceDefaults());
  if (service) issues.push(...routeConflicts([{ service, path: servicePath }]));
  if (issues.length > 0 || !service) throw new ConfigError(issues.map(toIssue));
  return service;
}

export function resolveConfigRaw(input: unknown, options: ResolveOptions = {}): ResolvedConfig {
  const issues: RawIssue[] = [];
  const root = input === undefined || input === null ? {} : input;
  if (!isPlainObject(root)) throw new RawConfigError([{ segments: [], message: `the config must be a mapping, got ${describe(root)}` }]);

  const { services: servicesInput, ...rest } = root;
  const { defaults, ...config } = resolveSpec(rootSpec, rest, [], issues);
  checkDns(config.dns, issues);
  checkPolicy(defaults, ['defaults'], issues);

  const services: { service: ServiceConfig; path: PathSegment[] }[] = [];
  if (servicesInput !== undefined && servicesInput !== null) {
    if (!isPlainObject(servicesInput)) {
      issues.push({ segments: ['services'], message: `must be a mapping of service name to service, got ${describe(servicesInput)}` });
    } else {
      for (const [name, serviceInput] of Object.entries(servicesInput)) {
        const service = resolveService(name, serviceInput, ['services', name], issues, defaults);
        if (service) services.push({ service, path: ['services', name] });
      }
    }
  }
  issues.push(...routeConflicts(services));
  // Counted from the input, so this is reported even when every service has issues of its own.
  const servicesGiven = isPlainObject(servicesInput) && Object.keys(servicesInput).length > 0;
  if (servicesGiven && config.dns.nameservers.length === 0) {
    issues.push({
      segments: ['dns', 'nameservers'],
      message: 'required when services are configured (list the cluster DNS as ip:port; /etc/resolv.conf is not used)',
    });
  }
  const insecure = adminListenIssue(config.admin, options.env ?? process.env);
  if (insecure !== null) issues.push({ segments: ['admin', 'listen'], message: insecure.message });
  if (issues.length > 0) throw new RawConfigError(issues);
  return { ...config, services: services.map((s) => s.service), defaults };
}

function resolveService(name: string, input: unknown, path: PathSegment[], issues: RawIssue[], defaults: ServiceDefaults): ServiceConfig | undefined {
  const before = issues.length;
  const named = checkServiceName(name);
  if ('error' in named) issues.push({ segments: path, message: `service name ${named.error}` });
  if (!isPlainObject(input)) {
    issues.push({ segments: path, message: `must be a mapping with at least dnsName and port, got ${describe(input)}` });
    return undefined;
  }
  const resolved = resolveSpec(serviceSpec, input, path, issues, defaults);
  // Only what this service overrides is checked again; a bad `defaults` is reported once, there.
  if (isPlainObject(input.body) || isPlainObject(input.ejection)) checkPolicy(resolved, path, issues);
  if (issues.length > before) return undefined;
  return { name, ...resolved };
}

function checkDns(dns: PodgateConfig['dns'], issues: RawIssue[]): void {
  if (dns.minRefreshMs > dns.maxRefreshMs) {
    issues.push({
      segments: ['dns', 'minRefresh'],
      message: `must not exceed dns.maxRefresh (${formatDuration(dns.minRefreshMs)} > ${formatDuration(dns.maxRefreshMs)})`,
    });
  }
}

function checkPolicy(policy: ServiceDefaults, path: PathSegment[], issues: RawIssue[]): void {
  if (policy.body.bufferBytes > policy.body.maxBytes) {
    issues.push({
      segments: [...path, 'body', 'bufferSize'],
      message: `must not exceed body.maxSize (${formatSize(policy.body.bufferBytes)} > ${formatSize(policy.body.maxBytes)})`,
    });
  }
  if (policy.ejection.baseMs > policy.ejection.maxMs) {
    issues.push({
      segments: [...path, 'ejection', 'baseTime'],
      message: `must not exceed ejection.maxTime (${formatDuration(policy.ejection.baseMs)} > ${formatDuration(policy.ejection.maxMs)})`,
    });
  }
}

/** The route-conflict rule (@podgate/protocol), each conflict at the path of the later route. */
function routeConflicts(services: readonly { service: ServiceConfig; path: PathSegment[] }[]): RawIssue[] {
  const pathOf = new Map(services.map(({ service, path }) => [service.name, path]));
  const routePath = (service: string, route: number): PathSegment[] => [...(pathOf.get(service) ?? ['services', service]), 'routes', route];
  return findRouteConflicts(services.map((s) => s.service)).map((c) => ({
    segments: routePath(c.service, c.route),
    message: `route ${c.key} is also claimed by ${formatPath(routePath(c.claimedBy, c.claimedRoute))}`,
  }));
}
