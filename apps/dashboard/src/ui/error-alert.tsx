import { errorMessage } from '../lib/api-client.js';

interface Props {
  /** What was being done, e.g. "Drain of 10.0.0.7:8080". */
  what: string;
  error: unknown;
  onDismiss?: () => void;
}

/** A failed mutation, with the server's own message. */
export function ErrorAlert({ what, error, onDismiss }: Props) {
  return (
    <div role="alert" className="alert">
      <span>
        {what} failed: {errorMessage(error)}
      </span>
      {onDismiss !== undefined && (
        <button type="button" className="link-button" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
