import fastifyStatic from '@fastify/static';
import { fastify, type FastifyInstance, type FastifyReply } from 'fastify';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { AuthError, TokenAuth } from './auth.js';
import type { ControlApi } from '../control-api.js';
import { FORBIDDEN, notFound, toApiFailure, UNAUTHORIZED } from './admin-errors.js';
import { registerApiRoutes } from './admin-routes.js';
import { errorReplies, ProbeReplySchema } from './admin-schemas.js';
import { isLoopbackHost } from '@podgate/config';

export interface AdminServerOptions {
  control: ControlApi;
  auth: TokenAuth;
  /** Default in the config: 127.0.0.1. A non-loopback host needs at least one token. */
  host: string;
  /** Default in the config: 9901; 0 picks a free port. */
  port: number;
  metrics?: { render(): Promise<string>; contentType: string };
  /**
   * Attaches the live feed (GET /api/v1/live), given the root instance (podgate listens for the
   * server's 'upgrade' event). A route it adds with `config: { role: 'viewer' }` gets the same
   * token check as the REST routes, `Authorization: Bearer` only, with the caller in
   * `request.principal`: `?token=` and `bearer.<token>` count only in the feed's own upgrade
   * handling (TokenAuth.authenticateUpgrade).
   */
  registerFeed?: (app: FastifyInstance) => void;
  /** Served at / when set (the dashboard's built files). */
  dashboardDir?: string;
  /** Largest request body in bytes; default 64 KiB. */
  bodyLimit?: number;
  /** For errors only (a 500 and its cause); fastify's own request logging stays off. */
  logger?: Logger;
}

export interface AdminServer {
  app: FastifyInstance;
  /** `host:port` it listens on (the port chosen when 0 was asked), e.g. `127.0.0.1:9901` or `[::1]:9901`. */
  address: string;
  close(): Promise<void>;
}

// A service body with 64 routes is ~6 KiB; 64 KiB leaves room without inviting memory abuse.
const DEFAULT_BODY_LIMIT = 64 * 1024;

/** The admin API as a fastify instance that is not listening yet (tests use `inject()`). */
export function buildAdminApp(o: Omit<AdminServerOptions, 'host' | 'port'>): FastifyInstance {
  const app = fastify({
    // Fastify logs nothing, requests included (a URL may carry a token); the error handler's own
    // log names the route pattern, never the URL.
    logger: false,
    bodyLimit: o.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Proto keys in a body are refused rather than silently dropped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // A URL fastify cannot decode never reaches a route or a hook.
    frameworkErrors: (error, _request, reply) => {
      const failure = toApiFailure(error);
      void (reply as FastifyReply).code(failure.status).header('cache-control', 'no-store').send(failure.body);
    },
    ajv: {
      customOptions: {
        removeAdditional: false,
        // Coercion would turn `"port": "80"` into 80; querystring numbers are digit patterns instead.
        coerceTypes: false,
        useDefaults: false,
        // Lets the error formatter read a pattern's `description` and a range's two bounds.
        verbose: true,
      },
    },
  });
  // Only JSON bodies: a text/plain body is 415, not a string that fails validation.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const json = app.getDefaultJsonParser('error', 'error');
  // An empty JSON body is no body: `fetch(url, { method: 'POST', headers: json })` for a drain is fine,
  // and POST /services still answers 400 `body: must be an object`.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') done(null, undefined);
    else json(request, text, done);
  });
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const need = request.routeOptions.config.role;
    if (need === undefined) return;
    // The header only: a `?token=` or `bearer.<token>` subprotocol never opens a REST route, whatever
    // Upgrade header comes with it, so a token never has to be put in a URL (and its logs) to use one.
    const principal = o.auth.authenticate(request.headers);
    if (principal === null) {
      return reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
    }
    if (!TokenAuth.allows(principal, need)) return reply.code(403).send(FORBIDDEN);
    request.principal = principal;
    return undefined;
  });

  app.setErrorHandler(async (error, request, reply) => {
    const failure = toApiFailure(error);
    if (failure.internal) o.logger?.error({ err: error, method: request.method, url: request.routeOptions.url }, 'admin API request failed');
    return reply.code(failure.status).send(failure.body);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const failure = notFound(`no route ${request.method} ${request.url.split('?', 1)[0] ?? ''}`);
    return reply.code(failure.status).send(failure.body);
  });

  app.get('/healthz', { schema: { response: { 200: ProbeReplySchema } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { response: { 200: ProbeReplySchema, 503: ProbeReplySchema } } }, async (_request, reply) => {
    if (o.control.ready()) return { status: 'ready' };
    return reply.code(503).send({ status: 'starting' });
  });

  app.get('/metrics', { config: { role: 'viewer' }, schema: { response: errorReplies } }, async (_request, reply) => {
    if (o.metrics === undefined) {
      return reply.code(404).send(notFound('metrics are not enabled').body);
    }
    const text = await o.metrics.render();
    return reply.type(o.metrics.contentType).send(text);
  });

  app.register(async (api) => registerApiRoutes(api, o.control), { prefix: '/api/v1' });
  // The root instance: the feed registers its full path, /api/v1/live.
  o.registerFeed?.(app);

  if (o.dashboardDir !== undefined) {
    app.register(fastifyStatic, { root: o.dashboardDir, prefix: '/', index: 'index.html', wildcard: true });
  }
  return app;
}

/**
 * Builds the admin API and listens on host:port. Refuses (PODGATE_ADMIN_INSECURE) to listen beyond
 * loopback with no token: anyone who can reach the port could drain every peer.
 */
export async function startAdminServer(o: AdminServerOptions): Promise<AdminServer> {
  if (!isLoopbackHost(o.host) && o.auth.empty) {
    throw new AuthError('PODGATE_ADMIN_INSECURE', `refusing to serve the admin API on ${o.host} without a token: configure one, or listen on 127.0.0.1`);
  }
  const app = buildAdminApp(o);
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : o.port;
  const host = isIPv6(o.host) ? `[${o.host}]` : o.host;
  return { app, address: `${host}:${port}`, close: () => app.close() };
}
