import {
  EventListSchema,
  FleetViewSchema,
  PeerViewSchema,
  ServiceInputSchema,
  SessionViewSchema,
  StatusViewSchema,
  ServiceListSchema,
  ServiceViewSchema,
  type PeerAction,
  type Role,
  type ServiceInput,
  type SessionView,
  type StatusView,
} from '@podgate/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from './auth.js';
import type { ControlApi } from '../control-api.js';
import { notFound } from './admin-errors.js';
import { DEFAULT_EVENT_LIMIT, errorReplies, EventsQuerySchema, PeerActionParamsSchema, ServiceParamsSchema } from './admin-schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a route needs; routes without one (probes, the dashboard's files) are public. */
    role?: Role;
  }
  interface FastifyRequest {
    /** The caller, on routes that need a role. */
    principal: Principal | null;
  }
}

/** Set by the auth hook before any route with a `role` runs. */
function principalOf(request: FastifyRequest): Principal {
  const principal: Principal | null = request.principal;
  if (principal === null) throw new Error('admin route ran without a principal');
  return principal;
}

const actor = (request: FastifyRequest): string => principalOf(request).name;

/** This instance as the fleet view names it (a lone instance's view holds only itself), and its workers. */
function statusOf(control: ControlApi, now: number): StatusView {
  const fleet = control.fleet();
  const self = fleet.instances.find((i) => i.self) ?? fleet.instances.find((i) => i.id === fleet.self);
  const startedAt = self?.startedAt ?? 0;
  return {
    id: fleet.self,
    version: self?.version ?? '',
    startedAt,
    uptimeMs: startedAt === 0 ? 0 : Math.max(0, now - startedAt),
    proxy: self?.proxy ?? '',
    admin: self?.admin ?? '',
    workers: control.workerStats().length,
  };
}

/** The REST routes over services, peers and events; registered under /api/v1. */
export function registerApiRoutes(app: FastifyInstance, control: ControlApi): void {
  // Any valid token: the dashboard learns its role here rather than by trying a change.
  app.get('/session', {
    config: { role: 'viewer' },
    schema: { response: { 200: SessionViewSchema, ...errorReplies } },
    handler: async (request): Promise<SessionView> => {
      const { name, role } = principalOf(request);
      return { name, role };
    },
  });

  app.get('/status', {
    config: { role: 'viewer' },
    schema: { response: { 200: StatusViewSchema, ...errorReplies } },
    handler: async (): Promise<StatusView> => statusOf(control, Date.now()),
  });

  app.get('/services', {
    config: { role: 'viewer' },
    schema: { response: { 200: ServiceListSchema, ...errorReplies } },
    handler: async () => ({ services: control.listServices() }),
  });

  app.get<{ Params: { name: string } }>('/services/:name', {
    config: { role: 'viewer' },
    schema: { params: ServiceParamsSchema, response: { 200: ServiceViewSchema, ...errorReplies } },
    handler: async (request, reply) => {
      const service = control.getService(request.params.name);
      if (service === null) {
        return reply.code(404).send(notFound(`no service named ${JSON.stringify(request.params.name)}`).body);
      }
      return service;
    },
  });

  app.post<{ Body: ServiceInput }>('/services', {
    config: { role: 'operator' },
    schema: { body: ServiceInputSchema, response: { 201: ServiceViewSchema, ...errorReplies } },
    handler: async (request, reply) => {
      const view = await control.addService(request.body, actor(request));
      return reply.code(201).send(view);
    },
  });

  app.delete<{ Params: { name: string } }>('/services/:name', {
    config: { role: 'operator' },
    schema: { params: ServiceParamsSchema, response: { 204: { type: 'null' }, ...errorReplies } },
    handler: async (request, reply) => {
      await control.removeService(request.params.name, actor(request));
      return reply.code(204).send();
    },
  });

  app.post<{ Params: { name: string; address: string; action: PeerAction } }>('/services/:name/peers/:address/:action', {
    config: { role: 'operator' },
    schema: { params: PeerActionParamsSchema, response: { 200: PeerViewSchema, ...errorReplies } },
    handler: async (request) => {
      const { name, address, action } = request.params;
      return control.peerAction(name, address, action, actor(request));
    },
  });

  app.get('/fleet', {
    config: { role: 'viewer' },
    schema: { response: { 200: FleetViewSchema, ...errorReplies } },
    handler: async () => control.fleet(),
  });

  app.get<{ Querystring: { since?: string; limit?: string } }>('/events', {
    config: { role: 'viewer' },
    schema: { querystring: EventsQuerySchema, response: { 200: EventListSchema, ...errorReplies } },
    handler: async (request) => {
      const since = Number(request.query.since ?? 0);
      const limit = Number(request.query.limit ?? DEFAULT_EVENT_LIMIT);
      return control.events(since, limit);
    },
  });
}
