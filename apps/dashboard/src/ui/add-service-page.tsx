import { SERVICE_NAME_MAX, serviceOwnFields } from '@podgate/protocol';
import { useState, type FormEvent } from 'react';
import { useCanOperate } from '../hooks/session-context.js';
import { navigate } from '../hooks/use-hash-route.js';
import { useAddService } from '../hooks/use-add-service.js';
import { errorMessage, isApiRequestError } from '../lib/api-client.js';
import { serviceHref } from '../lib/hash-route.js';
import {
  EMPTY_SERVICE_FORM,
  fieldOfApiError,
  toServiceInput,
  validateField,
  validateServiceForm,
  type ServiceFormErrors,
  type ServiceFormField,
  type ServiceFormValues,
} from '../lib/service-form.js';

interface FieldSpec {
  field: ServiceFormField;
  label: string;
  hint: string;
  /** Shown in the hint, not as a placeholder: grey text in the box reads as a value already filled in. */
  example: string | null;
  inputMode?: 'numeric';
}

const PORT = serviceOwnFields.port;

const FIELDS: FieldSpec[] = [
  { field: 'name', label: 'Name', hint: `a-z, 0-9 and '-', at most ${SERVICE_NAME_MAX} characters`, example: 'image-lobby' },
  { field: 'dnsName', label: 'DNS name', hint: "the headless Service's name; one pod per address", example: 'image-lobby.cloud.svc.cluster.local' },
  { field: 'port', label: 'Port', hint: `the port the pods listen on, ${PORT.min}-${PORT.max}`, example: '8080', inputMode: 'numeric' },
  { field: 'pathPrefix', label: 'Path prefix', hint: 'requests whose path starts with this go to the service; / for all', example: null },
  { field: 'host', label: 'Host', hint: 'optional: only requests for this Host header (no port, no wildcard)', example: 'api.example.com' },
];

const LABELS = Object.fromEntries(FIELDS.map((f) => [f.field, f.label])) as Record<ServiceFormField, string>;

/** Client-side problems as sentences: "Port must be from 1 to 65535". */
function labelled(errors: ServiceFormErrors): ServiceFormErrors {
  const out: ServiceFormErrors = {};
  for (const [field, problem] of Object.entries(errors) as [ServiceFormField, string][]) out[field] = `${LABELS[field]} ${problem}`;
  return out;
}

export function AddServicePage() {
  const operator = useCanOperate();
  const add = useAddService();
  const [values, setValues] = useState<ServiceFormValues>(EMPTY_SERVICE_FORM);
  const [errors, setErrors] = useState<ServiceFormErrors>({});
  const [formError, setFormError] = useState<string | null>(null);

  if (!operator) {
    return (
      <>
        <h1>Add service</h1>
        <p role="alert" className="alert">
          Adding a service needs the operator role; this token is a viewer's.
        </p>
      </>
    );
  }

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setFormError(null);
    const found = validateServiceForm(values);
    setErrors(labelled(found));
    const first = (Object.keys(found) as ServiceFormField[])[0];
    if (first !== undefined) {
      document.getElementById(`field-${first}`)?.focus();
      return;
    }
    add.mutate(toServiceInput(values), {
      onSuccess: (view) => navigate(serviceHref(view.name)),
      onError: (err) => {
        // The server's words, at the field it names and for the form as a whole.
        const field = isApiRequestError(err) ? fieldOfApiError(err) : null;
        if (field !== null) {
          setErrors({ [field]: errorMessage(err) });
          document.getElementById(`field-${field}`)?.focus();
        }
        setFormError(errorMessage(err));
      },
    });
  };

  return (
    <>
      <h1>Add service</h1>
      <p className="muted">The service starts resolving at once and is kept across restarts. Other settings take the config file's defaults.</p>
      <form className="card form" onSubmit={submit} noValidate aria-labelledby="add-service-title">
        <h2 id="add-service-title" className="visually-hidden">
          New service
        </h2>
        {FIELDS.map(({ field, label, hint, example, inputMode }) => {
          const error = errors[field];
          return (
            <div key={field} className={`field${error === undefined ? '' : ' has-error'}`}>
              <label htmlFor={`field-${field}`}>{label}</label>
              <input
                id={`field-${field}`}
                name={field}
                value={values[field]}
                inputMode={inputMode}
                autoComplete="off"
                spellCheck={false}
                aria-invalid={error !== undefined}
                aria-describedby={`${field}-hint ${field}-error`}
                onChange={(e) => {
                  const value = e.target.value;
                  setValues((v) => ({ ...v, [field]: value }));
                  // A shown error goes away as soon as the value is fixed.
                  if (error !== undefined && validateField(field, value) === null) setErrors((old) => ({ ...old, [field]: undefined }));
                }}
                onBlur={(e) => {
                  const value = e.target.value;
                  if (value.trim() === '' && field !== 'host') return;
                  const problem = validateField(field, value);
                  setErrors((old) => ({ ...old, [field]: problem === null ? undefined : `${label} ${problem}` }));
                }}
              />
              <p id={`${field}-hint`} className="hint">
                {hint}
                {example !== null && (
                  <>
                    , e.g. <code>{example}</code>
                  </>
                )}
              </p>
              <p id={`${field}-error`} className="field-error" aria-live="polite">
                {error ?? ''}
              </p>
            </div>
          );
        })}
        {formError !== null && (
          <div role="alert" className="alert">
            Adding the service failed: {formError}
          </div>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={add.isPending}>
            Add service
          </button>
          {add.isPending && <span className="muted">Adding…</span>}
        </div>
      </form>
    </>
  );
}
