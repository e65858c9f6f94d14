import type { ApiError, ServiceInput } from '@podgate/protocol';

/*
 * The add-service form: the same rules the API applies to a new service (apps/podgate's config
 * checks), so most mistakes are named at the field before anything is sent. The server stays the
 * authority: its 400/409 are mapped back onto the same fields.
 */

export const SERVICE_FORM_FIELDS = ['name', 'dnsName', 'port', 'pathPrefix', 'host'] as const;
export type ServiceFormField = (typeof SERVICE_FORM_FIELDS)[number];

export type ServiceFormValues = Record<ServiceFormField, string>;
export type ServiceFormErrors = Partial<Record<ServiceFormField, string>>;

export const EMPTY_SERVICE_FORM: ServiceFormValues = { name: '', dnsName: '', port: '', pathPrefix: '/', host: '' };

// RFC 1123 label: a-z, 0-9 and '-', not starting or ending with '-'.
const LABEL_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** RFC 1123 host name: labels of 1-63 chars, 253 chars in all, an optional final dot. */
export function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  return bare.split('.').every((label) => label.length <= 63 && LABEL_RE.test(label));
}

export function checkName(text: string): string | null {
  if (text === '') return 'is required';
  if (text.length > 63) return `must be at most 63 characters (has ${text.length})`;
  if (!LABEL_RE.test(text)) return "must be an RFC 1123 label: a-z, 0-9 and '-', starting and ending with a letter or digit";
  return null;
}

export function checkDnsName(text: string): string | null {
  if (text === '') return 'is required';
  if (!isDnsName(text.toLowerCase())) return "is not a valid DNS name (labels of a-z, 0-9 and '-', 1-63 chars each, 253 in all)";
  return null;
}

export function checkPort(text: string): string | null {
  if (text === '') return 'is required';
  if (!/^[0-9]+$/.test(text)) return 'must be a whole number from 1 to 65535';
  const port = Number(text);
  if (port < 1 || port > 65535) return 'must be from 1 to 65535';
  return null;
}

export function checkPathPrefix(text: string): string | null {
  if (text === '') return 'is required';
  if (!text.startsWith('/')) return 'must start with "/"';
  if (/[\s?#]/.test(text)) return 'must be a path without spaces, query or fragment';
  return null;
}

/** Optional: empty means any host. */
export function checkHost(text: string): string | null {
  if (text === '') return null;
  if (text.includes('*')) return 'wildcards are not supported (list each host)';
  if (text.includes(':')) return 'must not include a port (routes match the Host header without it)';
  if (!isDnsName(text.toLowerCase().replace(/\.$/, ''))) return 'is not a valid host name';
  return null;
}

const CHECKS: Record<ServiceFormField, (text: string) => string | null> = {
  name: checkName,
  dnsName: checkDnsName,
  port: checkPort,
  pathPrefix: checkPathPrefix,
  host: checkHost,
};

/** One field's problem, or null. Values are trimmed first, as the form sends them. */
export function validateField(field: ServiceFormField, value: string): string | null {
  return CHECKS[field](value.trim());
}

/** Every field's problem; empty when the form can be sent. */
export function validateServiceForm(values: ServiceFormValues): ServiceFormErrors {
  const errors: ServiceFormErrors = {};
  for (const field of SERVICE_FORM_FIELDS) {
    const problem = validateField(field, values[field]);
    if (problem !== null) errors[field] = problem;
  }
  return errors;
}

/** The API body for valid values. */
export function toServiceInput(values: ServiceFormValues): ServiceInput {
  const host = values.host.trim().toLowerCase().replace(/\.$/, '');
  const route = host === '' ? { pathPrefix: values.pathPrefix.trim() } : { host, pathPrefix: values.pathPrefix.trim() };
  return { name: values.name.trim(), dnsName: values.dnsName.trim().toLowerCase(), port: Number(values.port.trim()), routes: [route] };
}

/**
 * The form field an API error is about: `body.name` → name, `body.routes.0.pathPrefix` →
 * pathPrefix, `body.routes` (a route another service serves) → pathPrefix. Null for the form as a
 * whole.
 */
export function fieldOfApiError(error: Pick<ApiError, 'field'>): ServiceFormField | null {
  const field = error.field;
  if (field === undefined) return null;
  const path = field.replace(/^body\.?/, '');
  if (path === 'name' || path === 'dnsName' || path === 'port') return path;
  if (/^routes(\.\d+)?\.host$/.test(path)) return 'host';
  if (/^routes(\.\d+)?(\.pathPrefix)?$/.test(path)) return 'pathPrefix';
  return null;
}
