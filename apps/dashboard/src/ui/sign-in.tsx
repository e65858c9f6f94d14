import { useId, useState, type FormEvent } from 'react';

interface Props {
  onSignIn: (token: string, remember: boolean) => void;
  /** Why the last token was not accepted. */
  refusal: string | null;
}

export function SignIn({ onSignIn, refusal }: Props) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [empty, setEmpty] = useState(false);
  const inputId = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const value = token.trim();
    if (value === '') {
      setEmpty(true);
      return;
    }
    onSignIn(value, remember);
  };

  return (
    <main className="center-page">
      <form className="card sign-in" onSubmit={submit} noValidate>
        <h1>podgate</h1>
        <p className="muted">
          Sign in with an admin token. podgate prints a link with one when it generates it, and keeps it in <code>admin-token</code> in its state directory.
        </p>
        <label htmlFor={inputId}>Token</label>
        <input
          id={inputId}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          aria-invalid={empty}
          aria-describedby={empty ? `${inputId}-error` : undefined}
          onChange={(e) => {
            setToken(e.target.value);
            setEmpty(false);
          }}
          autoFocus
        />
        {empty && (
          <p id={`${inputId}-error`} className="field-error">
            Enter a token.
          </p>
        )}
        <label className="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
          Remember on this browser
        </label>
        <p className="hint">Off: the token is kept for this tab only and forgotten when it closes.</p>
        {refusal !== null && (
          <p role="alert" className="alert">
            {refusal}
          </p>
        )}
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
