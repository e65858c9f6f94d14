import type { ApiError } from '@podgate/protocol';
import type { FastifyError } from 'fastify';

/*
 * Every failure of the admin API as { status, ApiError }: schema violations name the JSON path of
 * the failing field (`body.routes.0.pathPrefix`), control-plane errors keep their code and status,
 * fastify's own errors get a stable podgate code, and anything else is a 500 with no detail.
 */

export interface ApiFailure {
  status: number;
  body: ApiError;
}

/** The subset of an Ajv error object the formatter reads (fastify attaches them as `error.validation`). */
interface SchemaIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  /** With Ajv's `verbose`; read for a pattern's description and a range's two bounds. */
  parentSchema?: { description?: unknown; minimum?: unknown; maximum?: unknown };
}

const CONTROL_CODES = new Set(['PODGATE_NOT_FOUND', 'PODGATE_CONFLICT', 'PODGATE_INVALID', 'PODGATE_STATE_WRITE_FAILED', 'PODGATE_FLEET_UNAVAILABLE']);

export const UNAUTHORIZED: ApiError = { error: 'PODGATE_UNAUTHORIZED', message: 'a valid bearer token is required' };
export const FORBIDDEN: ApiError = { error: 'PODGATE_FORBIDDEN', message: 'this action needs the operator role' };

export function notFound(message: string): ApiFailure {
  return { status: 404, body: { error: 'PODGATE_NOT_FOUND', message } };
}

/** Maps any error thrown in a route (or by fastify before it) to the reply. `internal` is true for a 500 to log. */
export function toApiFailure(err: unknown): ApiFailure & { internal: boolean } {
  const e = err as Partial<FastifyError> & { status?: unknown; field?: unknown; validation?: SchemaIssue[]; validationContext?: string };
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    return { status: 400, body: fromSchemaIssues(e.validationContext ?? 'body', e.validation), internal: false };
  }
  if (typeof e.code === 'string' && CONTROL_CODES.has(e.code) && typeof e.status === 'number') {
    const body: ApiError = { error: e.code, message: firstLine(String(e.message)) };
    if (typeof e.field === 'string') {
      body.field = apiField(e.field);
      // The validator's message starts with its own spelling of the path.
      if (body.message.startsWith(`${e.field}: `)) body.message = body.field + body.message.slice(e.field.length);
    }
    // A 503 (the fleet's Redis away) is a known state, logged by the fleet itself.
    return { status: e.status, body, internal: e.status >= 500 && e.status !== 503 };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return bad('body', 'body: is not valid JSON (or has a __proto__ or constructor.prototype key)');
    case 'FST_ERR_BAD_URL':
      return { status: 400, body: { error: 'PODGATE_BAD_REQUEST', message: 'the URL has an invalid percent-encoding' }, internal: false };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return bad('body', 'body: is empty but the content type is application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return bad('body', 'body: its length does not match Content-Length');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: 'PODGATE_BODY_TOO_LARGE', message: 'the request body is over the size limit' }, internal: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return { status: 415, body: { error: 'PODGATE_UNSUPPORTED_MEDIA_TYPE', message: 'send the body as application/json' }, internal: false };
    default:
      break;
  }
  // A client error fastify raised before the route ran (a bad URL encoding, a proto key in JSON, ...).
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { error: 'PODGATE_BAD_REQUEST', message: firstLine(String(e.message)) }, internal: false };
  }
  return { status: 500, body: { error: 'PODGATE_INTERNAL', message: 'internal error' }, internal: true };
}

/**
 * A control-plane field in the API's terms. The config validator writes list indexes as `[0]`; the
 * API speaks JSON paths (`.0`). A bare key (`routes`) can only come from the one body the control
 * plane sees, a service's.
 */
function apiField(field: string): string {
  const dotted = field.replace(/\[(\d+)\]/g, '.$1');
  return /^(body|params|querystring)(\.|$)/.test(dotted) ? dotted : `body.${dotted}`;
}

function bad(field: string, message: string): ApiFailure & { internal: boolean } {
  return { status: 400, body: { error: 'PODGATE_INVALID', message, field }, internal: false };
}

const firstLine = (s: string): string => s.split('\n', 1)[0] ?? s;

/** `/routes/0/pathPrefix` → `.routes.0.pathPrefix` (RFC 6901 escapes undone). */
function jsonPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => `.${segment.replace(/~1/g, '/').replace(/~0/g, '~')}`)
    .join('');
}

/**
 * One line for the first schema violation. Ajv stops at the first error (allErrors is off against
 * DoS), except that a failed anyOf lists every branch before the anyOf itself: those are folded
 * into "must be one of …".
 */
export function fromSchemaIssues(context: string, issues: readonly SchemaIssue[]): ApiError {
  const anyOf = issues.find((i) => i.keyword === 'anyOf');
  const issue = anyOf ?? issues[0];
  if (issue === undefined) return { error: 'PODGATE_INVALID', message: `${context}: is invalid`, field: context };
  let field = context + jsonPath(issue.instancePath);
  let reason: string;
  switch (issue.keyword) {
    case 'required':
      field += `.${String(issue.params['missingProperty'])}`;
      reason = 'is required';
      break;
    case 'additionalProperties':
      field += `.${String(issue.params['additionalProperty'])}`;
      reason = 'is not a known key';
      break;
    case 'anyOf':
      reason = anyOfReason(issues.filter((i) => i.instancePath === issue.instancePath && i !== issue));
      break;
    case 'enum':
      reason = `must be one of ${(issue.params['allowedValues'] as unknown[]).map((v) => String(v)).join(', ')}`;
      break;
    case 'type':
      reason = `must be ${withArticle(String(issue.params['type']))}`;
      break;
    case 'minimum':
    case 'maximum': {
      const { minimum, maximum } = (issue.parentSchema ?? {}) as { minimum?: unknown; maximum?: unknown };
      // Both bounds in one phrase, as the config file's messages say it: "must be 1-65535".
      reason =
        typeof minimum === 'number' && typeof maximum === 'number'
          ? `must be ${minimum}-${maximum}`
          : `must be ${String(issue.params['comparison'])} ${String(issue.params['limit'])}`;
      break;
    }
    case 'minLength':
      reason = issue.params['limit'] === 1 ? 'must not be empty' : `must be at least ${String(issue.params['limit'])} characters`;
      break;
    case 'maxLength':
      reason = `must be at most ${String(issue.params['limit'])} characters`;
      break;
    case 'minItems':
      reason = issue.params['limit'] === 1 ? 'must not be an empty list' : `must have at least ${String(issue.params['limit'])} items`;
      break;
    case 'maxItems':
      reason = `must have at most ${String(issue.params['limit'])} items`;
      break;
    case 'pattern':
      // Patterns are unreadable in a message; the schema's description says what is wanted.
      reason = typeof issue.parentSchema?.description === 'string' ? `must be ${issue.parentSchema.description}` : 'is not in the expected form';
      break;
    default:
      reason = issue.message ?? 'is invalid';
  }
  return { error: 'PODGATE_INVALID', message: `${field}: ${reason}`, field };
}

function anyOfReason(branches: readonly SchemaIssue[]): string {
  const consts = branches.filter((b) => b.keyword === 'const').map((b) => String(b.params['allowedValue']));
  if (consts.length > 0 && consts.length === branches.length) return `must be one of ${consts.join(', ')}`;
  const types = branches.filter((b) => b.keyword === 'type').map((b) => String(b.params['type']));
  if (types.length > 0 && types.length === branches.length) return `must be ${types.map(withArticle).join(' or ')}`;
  return 'does not match any allowed form';
}

function withArticle(type: string): string {
  if (type === 'null') return 'null';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
