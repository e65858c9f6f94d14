import type {
  ApiError,
  EventList,
  FleetView,
  PeerAction,
  PeerView,
  Role,
  ServiceInput,
  ServiceList,
  ServiceView,
  SessionView,
  StatusView,
} from '@podgate/protocol';

/*
 * The admin API over fetch, same origin (/api/v1/...). Every failure becomes an ApiRequestError
 * carrying the server's stable code, message and field, so the page can show what the server said.
 */

export const API_BASE = '/api/v1';

export class ApiRequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, body: ApiError) {
    super(body.message);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = body.error;
    this.field = body.field;
  }
}

export function isApiRequestError(err: unknown): err is ApiRequestError {
  return err instanceof Error && err.name === 'ApiRequestError';
}

/** The text to show for any failure. */
export function errorMessage(err: unknown): string {
  if (isApiRequestError(err)) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

function isApiError(value: unknown): value is ApiError {
  return typeof value === 'object' && value !== null && typeof (value as ApiError).error === 'string' && typeof (value as ApiError).message === 'string';
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClient {
  listServices(): Promise<ServiceView[]>;
  getService(name: string): Promise<ServiceView>;
  addService(input: ServiceInput): Promise<ServiceView>;
  removeService(name: string): Promise<void>;
  peerAction(service: string, address: string, action: PeerAction): Promise<PeerView>;
  events(since: number, limit: number): Promise<EventList>;
  fleet(): Promise<FleetView>;
  /** The token's name and role (GET /session). */
  session(): Promise<{ name: string; role: Role }>;
  /** The podgate instance the page talks to: version, uptime, addresses, workers (GET /status). */
  status(): Promise<StatusView>;
}

export function createApiClient(token: string, fetchImpl: FetchLike = (input, init) => fetch(input, init)): ApiClient {
  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchImpl(API_BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiRequestError(0, { error: 'PODGATE_UNREACHABLE', message: `the admin API cannot be reached (${errorMessage(err)})` });
    }
    return response;
  }

  async function failure(response: Response): Promise<ApiRequestError> {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      // Not JSON (a proxy's error page): the status line says enough.
    }
    if (isApiError(body)) return new ApiRequestError(response.status, body);
    return new ApiRequestError(response.status, {
      error: `HTTP_${response.status}`,
      message: `the admin API answered ${response.status} ${response.statusText}`.trim(),
    });
  }

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await call(method, path, body);
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  }

  const enc = encodeURIComponent;
  return {
    listServices: async () => (await json<ServiceList>('GET', '/services')).services,
    getService: (name) => json<ServiceView>('GET', `/services/${enc(name)}`),
    addService: (input) => json<ServiceView>('POST', '/services', input),
    removeService: async (name) => {
      const response = await call('DELETE', `/services/${enc(name)}`);
      if (!response.ok) throw await failure(response);
    },
    peerAction: (service, address, action) => json<PeerView>('POST', `/services/${enc(service)}/peers/${enc(address)}/${action}`),
    events: (since, limit) => json<EventList>('GET', `/events?since=${since}&limit=${limit}`),
    fleet: () => json<FleetView>('GET', '/fleet'),
    session: async () => {
      const { name, role } = await json<SessionView>('GET', '/session');
      // The schema's union of literals reads as `string` here: a role this build does not know gets the least rights.
      return { name, role: role === 'operator' ? 'operator' : 'viewer' };
    },
    status: () => json<StatusView>('GET', '/status'),
  };
}
