/** Asks for an access token when the server wants one, saying why (none, refused, expired). */
import { type FormEvent, useId, useState } from 'react';
import type { TokenNeed } from '../lib/auth';

const WHY: Record<TokenNeed, string> = {
  required: 'This server needs an access token to show its data.',
  rejected: 'The server did not accept that token. Check it and try again.',
  expired: 'Your token expired. Paste a new one to carry on where the stream left off.',
};

export interface TokenPromptProps {
  /** Why the prompt is shown; null when the user asked to change tokens. */
  need: TokenNeed | null;
  onSubmit: (token: string) => void;
  onCancel?: () => void;
}

export function TokenPrompt({ need, onSubmit, onCancel }: TokenPromptProps): React.JSX.Element {
  const ids = useId();
  const [text, setText] = useState('');
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const token = text.trim();
    if (token !== '') onSubmit(token);
  };
  return (
    <section className="panel token-prompt" aria-labelledby={`${ids}-title`} data-testid="token-prompt">
      <h2 id={`${ids}-title`}>{need === 'expired' ? 'Token expired' : 'Access token'}</h2>
      <p role={need === null ? undefined : 'alert'} data-testid="token-why">
        {need === null ? 'Use another token for this tab.' : WHY[need]}
      </p>
      <form onSubmit={submit} className="row">
        <label htmlFor={`${ids}-token`}>Token</label>
        <input
          id={`${ids}-token`}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
          data-testid="token-input"
        />
        <button type="submit" className="primary" disabled={text.trim() === ''} data-testid="token-submit">
          Use token
        </button>
        {onCancel !== undefined && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </form>
      <p className="muted small">Kept in this tab only (sessionStorage), sent to this server alone.</p>
    </section>
  );
}
