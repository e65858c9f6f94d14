import {
  checkDnsName,
  checkPathPrefix,
  checkRouteHost,
  checkServiceName,
  serviceOwnFields,
  type ApiError,
  type ServiceInput,
  type StringCheck,
} from '@podgate/protocol';

/*
 * The add-service form: the rules the API applies to a new service, imported from
 * @podgate/protocol (the checks and the port's range of the config schema), so most mistakes are
 * named at the field, in the server's words, before anything is sent. The server stays the
 * authority: its 400/409 are mapped back onto the same fields.
 */

export const SERVICE_FORM_FIELDS = ['name', 'dnsName', 'port', 'pathPrefix', 'host'] as const;
export type ServiceFormField = (typeof SERVICE_FORM_FIELDS)[number];

export type ServiceFormValues = Record<ServiceFormField, string>;
export type ServiceFormErrors = Partial<Record<ServiceFormField, string>>;

export const EMPTY_SERVICE_FORM: ServiceFormValues = { name: '', dnsName: '', port: '', pathPrefix: '/', host: '' };

/** A required field checked by a shared rule: its reason, or null. */
function required(check: StringCheck<unknown>): (text: string) => string | null {
  return (text) => {
    if (text === '') return 'is required';
    const checked = check(text);
    return 'error' in checked ? checked.error : null;
  };
}

/** The port as the config schema bounds it (`port: integer 1-65535`), typed as text. */
function checkPort(text: string): string | null {
  const { min, max } = serviceOwnFields.port;
  if (text === '') return 'is required';
  if (!/^[0-9]+$/.test(text)) return `must be a whole number ${min}-${max}`;
  const port = Number(text);
  if (port < min || port > max) return `must be ${min}-${max}`;
  return null;
}

/** Optional: empty means any host. */
function checkHost(text: string): string | null {
  if (text === '') return null;
  const checked = checkRouteHost(text);
  return 'error' in checked ? checked.error : null;
}

const CHECKS: Record<ServiceFormField, (text: string) => string | null> = {
  name: required(checkServiceName),
  dnsName: required(checkDnsName),
  port: checkPort,
  pathPrefix: required(checkPathPrefix),
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

/** The API body for valid values, normalised by the same rules (DNS name and host lower-cased, the host's final dot dropped). */
export function toServiceInput(values: ServiceFormValues): ServiceInput {
  const host = normalised(checkRouteHost, values.host.trim());
  const pathPrefix = values.pathPrefix.trim();
  const route = host === '' ? { pathPrefix } : { host, pathPrefix };
  return { name: values.name.trim(), dnsName: normalised(checkDnsName, values.dnsName.trim()), port: Number(values.port.trim()), routes: [route] };
}

/** A checked field's normalised value; the text as it is when empty (or not valid: the form refuses to send then). */
function normalised(check: StringCheck<string>, text: string): string {
  const checked = check(text);
  return 'value' in checked ? checked.value : text;
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
