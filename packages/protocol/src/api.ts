import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { RouteConfig } from './config.js';
import { inputPropertiesOf, inputSchemaOf } from './config-json-schema.js';
import { routeSpec, serviceSpec } from './config-schema.js';
import type { Input } from './config-spec.js';
import { FAILURE_CLASSES } from './failure-class.js';
import { PEER_STATES } from './peer-state.js';
import { SERVICE_NAME_MAX } from './string-checks.js';

/*
 * The admin API's bodies and replies, and the live feed's messages: one JSON schema each, used by
 * the server to validate and serialize and by the dashboard for its types. Times are epoch ms.
 */

const literals = <T extends readonly string[]>(values: T, options?: { description?: string }) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const FAILURE_CAUSES = [
  'connect_refused',
  'connect_timeout',
  'connect_unreachable',
  'closed_before_header',
  'reset_before_header',
  'header_timeout',
  'invalid_header',
  'status_5xx',
  'status_429',
] as const;

export const PeerStateSchema = literals(PEER_STATES);
export const FailureClassSchema = literals(FAILURE_CLASSES);

export const PeerViewSchema = Type.Object({
  address: Type.String({ description: 'ip:port' }),
  state: PeerStateSchema,
  reason: Type.String(),
  since: Type.Number(),
  hold: Nullable(literals(['drain', 'eject'] as const)),
  inFlight: Type.Integer(),
  requests: Type.Integer(),
  retries: Type.Integer({ description: 'tries on this peer that were retries of a request first tried elsewhere' }),
  errors: Type.Record(Type.String(), Type.Integer(), { description: 'failures by cause' }),
  ejections: Type.Integer(),
  returnsAt: Nullable(Type.Number({ description: 'automatic return of an automatic ejection' })),
  lastFailure: Nullable(Type.Object({ cause: Type.String(), at: Type.Number(), detail: Type.String() })),
  latencyMs: Nullable(Type.Object({ p50: Type.Number(), p99: Type.Number() }, { description: 'response header latency over the last minute' })),
  heldBy: Nullable(
    Type.Object(
      {
        actor: Type.String(),
        instance: Nullable(Type.String({ description: 'the fleet instance it was done through; null outside a fleet' })),
        at: Type.Number(),
      },
      { description: 'who drained or ejected the peer by hand, when and through which instance' },
    ),
  ),
  ejectedBy: Nullable(
    Type.String({ description: "the fleet instance whose failed tries ejected the peer here (its hint); null when this instance's own evidence did, or none" }),
  ),
});
export type PeerView = Static<typeof PeerViewSchema>;

export const DnsViewSchema = Type.Object({
  name: Type.String(),
  lastRefreshAt: Nullable(Type.Number()),
  lastSuccessAt: Nullable(Type.Number()),
  lastError: Nullable(Type.Object({ code: Type.String(), message: Type.String(), at: Type.Number() })),
  lastKnownGoodAgeMs: Nullable(Type.Number()),
  nextRefreshAt: Nullable(Type.Number()),
  addresses: Type.Array(Type.String()),
  refreshes: Type.Object({ resolved: Type.Integer(), failed: Type.Integer(), empty: Type.Integer() }),
  condition: Type.Optional(
    literals(['resolving', 'resolved', 'empty', 'failing'] as const, {
      description:
        'resolving: no answer yet; resolved: the name has addresses; empty: NXDOMAIN or NODATA (the name has no records); failing: the nameserver refused, timed out or failed (the last known good set is kept)',
    }),
  ),
  problem: Type.Optional(Nullable(Type.String({ description: 'while empty or failing: what is wrong, naming the name and the nameserver' }))),
  troubleSince: Type.Optional(Nullable(Type.Number({ description: 'while empty or failing: when the first refresh of this run without addresses landed' }))),
  urgent: Type.Optional(Type.Boolean({ description: 'refreshing about once a second because fewer than half of the known pods are alive' })),
});
export type DnsView = Static<typeof DnsViewSchema>;

export const RouteSchema = Type.Unsafe<RouteConfig>(inputSchemaOf(routeSpec));

export const ServiceViewSchema = Type.Object({
  name: Type.String(),
  source: literals(['config', 'api'] as const),
  dnsName: Type.String(),
  port: Type.Integer(),
  routes: Type.Array(RouteSchema),
  algorithm: Type.String(),
  panic: Type.Boolean(),
  dns: DnsViewSchema,
  requests: Type.Integer(),
  inFlight: Type.Integer(),
  retries: Type.Integer(),
  responses: Type.Record(Type.String(), Type.Integer(), { description: 'responses by status code' }),
  peers: Type.Array(PeerViewSchema),
});
export type ServiceView = Static<typeof ServiceViewSchema>;

export const ServiceListSchema = Type.Object({ services: Type.Array(ServiceViewSchema) });
export type ServiceList = Static<typeof ServiceListSchema>;

/**
 * A service added through the API: the same keys as a service in the config file (durations as
 * `2s` or ms, sizes as `1MiB` or bytes), checked by the same rules, and its name. Built from the
 * config schema, as its type is derived from it.
 */
export type ServiceInput = { name: string } & Input<typeof serviceSpec>;
export const ServiceInputSchema = Type.Unsafe<ServiceInput>(
  Type.Object({ name: Type.String({ minLength: 1, maxLength: SERVICE_NAME_MAX }), ...inputPropertiesOf(serviceSpec) }, { additionalProperties: false }),
);

export const PEER_ACTIONS = ['drain', 'eject', 'restore'] as const;
export type PeerAction = (typeof PEER_ACTIONS)[number];

export const EVENT_TYPES = [
  'peer_added',
  'peer_removed',
  'peer_terminating',
  'peer_ejected',
  'peer_returned',
  'peer_draining',
  'peer_drained',
  'peer_restored',
  'panic_entered',
  'panic_left',
  'dns_failed',
  'dns_empty',
  'dns_emptied',
  'dns_recovered',
  'service_added',
  'service_removed',
  'operator_action',
  'requests_rescued',
  'config_reloaded',
  'fleet_degraded',
  'fleet_recovered',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * How much an event needs a person, decided by the control plane as it records it (docs/admin-api.md,
 * "Event levels"): `routine` is the cluster doing its job (a rollout's pods coming and going, a pod
 * that refused once DNS had dropped it, operator actions), `notice` is worth a look if it repeats
 * (requests rescued, DNS failing while the known pods are kept), `alert` needs a person (a pod DNS
 * still lists that refuses, hangs or fails, panic, a service left without pods).
 */
export const EVENT_LEVELS = ['routine', 'notice', 'alert'] as const;
export type EventLevel = (typeof EVENT_LEVELS)[number];

export const EventViewSchema = Type.Object({
  id: Type.Integer({ description: 'cursor: events are numbered in order' }),
  at: Type.Number(),
  type: literals(EVENT_TYPES),
  level: literals(EVENT_LEVELS, {
    description:
      'routine: the cluster doing its job; notice: worth a look if it repeats; alert: needs a person. An ejection starts as notice and is settled (same id) once DNS says whether the pod was leaving',
  }),
  service: Type.String(),
  address: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
  /** Who did it, for operator actions: the token's name. */
  actor: Type.Optional(Type.String()),
  count: Type.Optional(
    Type.Integer({
      description: 'identical occurrences in a row collapsed into this event (DNS failures); absent means 1. The event keeps its id and grows in place',
    }),
  ),
  lastAt: Type.Optional(Type.Number({ description: 'when the last of `count` occurrences happened' })),
  durationMs: Type.Optional(Type.Number({ description: 'dns_recovered: how long DNS gave no addresses, from the first failed refresh to the answer' })),
  failures: Type.Optional(Type.Integer({ description: 'dns_recovered: refreshes that failed or found no records before it' })),
});
export type EventView = Static<typeof EventViewSchema>;

export const EventListSchema = Type.Object({ events: Type.Array(EventViewSchema), next: Type.Integer({ description: 'pass as since= to get later events' }) });
export type EventList = Static<typeof EventListSchema>;

export const ApiErrorSchema = Type.Object({
  error: Type.String({ description: 'stable code, e.g. PODGATE_NOT_FOUND' }),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'the failing field, for 400' })),
});
export type ApiError = Static<typeof ApiErrorSchema>;

export const InstanceViewSchema = Type.Object({
  id: Type.String(),
  proxy: Type.String({ description: 'where it serves clients, host:port' }),
  admin: Type.String({ description: 'its admin API, host:port' }),
  version: Type.String(),
  startedAt: Type.Number(),
  self: Type.Boolean({ description: 'the instance that answered' }),
});
export type InstanceView = Static<typeof InstanceViewSchema>;

export const FLEET_STATES = ['off', 'connecting', 'ok', 'degraded'] as const;
export type FleetState = (typeof FLEET_STATES)[number];

/** GET /api/v1/fleet: the instances acting as one through Redis (`off`: this one alone). */
export const FleetViewSchema = Type.Object({
  name: Nullable(Type.String()),
  state: literals(FLEET_STATES),
  since: Type.Number(),
  error: Nullable(Type.String({ description: 'why the fleet is degraded' })),
  version: Type.Integer({ description: 'the highest fleet change applied here' }),
  self: Type.String({ description: "this instance's id" }),
  instances: Type.Array(InstanceViewSchema),
});
export type FleetView = Static<typeof FleetViewSchema>;

/** Live feed (GET /api/v1/live, WebSocket), server → client. */
export type FeedMessage =
  | { type: 'snapshot'; at: number; services: ServiceView[]; events: EventView[]; fleet: FleetView }
  | { type: 'changes'; at: number; services: ServiceView[]; removed: string[] }
  | { type: 'event'; event: EventView }
  | { type: 'fleet'; fleet: FleetView }
  | { type: 'heartbeat'; at: number };

export const ROLES = ['viewer', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** GET /api/v1/session: who the bearer token is, so a client learns its role without trying a change. */
export const SessionViewSchema = Type.Object({
  name: Type.String({ description: "the token's name, recorded as `actor` on the changes it makes" }),
  role: literals(ROLES),
});
export type SessionView = Static<typeof SessionViewSchema>;

/** GET /api/v1/status: the podgate instance that answered, for the dashboard's header. */
export const StatusViewSchema = Type.Object({
  id: Type.String({ description: "this instance's id, as in the fleet" }),
  version: Type.String({ description: "podgate's version; empty until the instance has started listening" }),
  startedAt: Type.Number(),
  uptimeMs: Type.Number({ description: "ms since startedAt by the server's clock, so a client's own clock need not agree" }),
  proxy: Type.String({ description: 'where it serves clients, host:port' }),
  admin: Type.String({ description: 'its admin API, host:port' }),
  workers: Type.Integer({ description: 'data-plane workers serving now (those that reported their counters)' }),
});
export type StatusView = Static<typeof StatusViewSchema>;
