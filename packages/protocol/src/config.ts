import type { policySpec, rootSpec, routeSpec, serviceSpec } from './config-schema.js';
import type { Resolved } from './config-spec.js';

/*
 * The resolved configuration: what the config loader produces after validation, with every default
 * filled in, every duration in milliseconds and every size in bytes; the shape the rest of the code
 * trusts. Derived from the schema (config-schema.ts), where each key and its meaning are written once.
 */

type Root = Resolved<typeof rootSpec>;

/** The config, without the `defaults:` section (the loader returns it beside, for API-added services). */
export type PodgateConfig = { [K in Exclude<keyof Root, 'defaults'>]: Root[K] } & { services: ServiceConfig[] };

export type AdminConfig = Root['admin'];
export type DnsConfig = Root['dns'];
/** Limits on client connections (the downstream side). */
export type ClientLimits = Root['client'];

/** A service: its name (an RFC 1123 label, unique), its own keys and every policy key. */
export type ServiceConfig = { name: string } & Resolved<typeof serviceSpec>;
/** The keys of `defaults:`, which each service may override. */
export type ServicePolicy = Resolved<typeof policySpec>;
export type RouteConfig = Resolved<typeof routeSpec>;
export type RetryConfig = ServicePolicy['retry'];
