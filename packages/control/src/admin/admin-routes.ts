import {
  EventListSchema,
  FleetViewSchema,
  PeerViewSchema,
  ServiceInputSchema,
  ServiceListSchema,
  ServiceViewSchema,
  type PeerAction,
  type Role,
  type ServiceInput,
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
function actor(request: FastifyRequest): string {
  const principal: Principal | null = request.principal;
  if (principal === null) throw new Error('admin route ran without a principal');
  return principal.name;
}

/** The REST routes over services, peers and events; registered under /api/v1. */
export function registerApiRoutes(app: FastifyInstance, control: ControlApi): void {
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
