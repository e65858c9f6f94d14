import { ApiErrorSchema, PEER_ACTIONS, SERVICE_NAME_MAX } from '@podgate/protocol';

/*
 * The admin API's params, querystrings and probe replies. Bodies and the other replies are the
 * shared schemas of @podgate/protocol.
 *
 * The validator does not coerce types (a body's `"port": "80"` must be refused, not fixed), so the
 * numbers of a querystring are described as digit strings and converted by the route.
 */

export const ServiceParamsSchema = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: SERVICE_NAME_MAX } },
  required: ['name'],
} as const;

export const PeerActionParamsSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: SERVICE_NAME_MAX },
    // ip:port; the longest is a bracketed IPv6 address with a port, 47 characters.
    address: { type: 'string', minLength: 1, maxLength: 64 },
    action: { type: 'string', enum: [...PEER_ACTIONS] },
  },
  required: ['name', 'address', 'action'],
} as const;

// Events have at most 2^53 ids; 15 digits is far beyond any log's life and stays an exact number.
export const EventsQuerySchema = {
  type: 'object',
  properties: {
    since: { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$', description: 'an event id (an integer ≥ 0)' },
    limit: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$', description: 'an integer from 1 to 1000' },
  },
  additionalProperties: false,
} as const;

export const ProbeReplySchema = {
  type: 'object',
  properties: { status: { type: 'string' } },
  required: ['status'],
} as const;

/** Replies every API route may give besides its success. */
export const errorReplies = {
  400: ApiErrorSchema,
  401: ApiErrorSchema,
  403: ApiErrorSchema,
  404: ApiErrorSchema,
  409: ApiErrorSchema,
  413: ApiErrorSchema,
  415: ApiErrorSchema,
  500: ApiErrorSchema,
  503: ApiErrorSchema,
} as const;

export const DEFAULT_EVENT_LIMIT = 100;
