/**
 * The dashboard behind biomock's authentication: holds the tab's token, asks
 * for one when the server answers 401, and remounts the dashboard with a new
 * token so every request, poll and stream starts over with it (the store, and
 * so the samples already shown, stay).
 */
import { useCallback, useMemo, useState } from 'react';
import { App, type AppProps } from './App';
import { TokenPrompt } from './components/TokenPrompt';
import { type TokenNeed, type TokenStore, tokenNeed } from './lib/auth';

export interface AuthGateProps extends Omit<AppProps, 'onAuthFailure' | 'onChangeToken'> {
  tokens: TokenStore;
}

function replaceUrl(search: string): void {
  window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
}

export function AuthGate({
  tokens,
  api,
  search = '',
  onViewChange = replaceUrl,
  ...rest
}: AuthGateProps): React.JSX.Element {
  const [token, setToken] = useState(() => tokens.read());
  // Null: no prompt; 'asked': the user wants to change tokens.
  const [need, setNeed] = useState<TokenNeed | 'asked' | null>(null);
  // The view as last written, so a remount with a new token keeps it.
  const [current, setCurrent] = useState(search);
  const authed = useMemo(() => api.withToken(token), [api, token]);
  const viewChanged = useCallback(
    (next: string) => {
      setCurrent(next);
      onViewChange(next);
    },
    [onViewChange],
  );
  const failed = useCallback(
    (code: string, hadWorked: boolean) => setNeed(tokenNeed(token, hadWorked, code)),
    [token],
  );
  const changeToken = useCallback(() => setNeed('asked'), []);
  const use = (next: string): void => {
    tokens.write(next);
    setToken(next);
    setNeed(null);
  };
  return (
    <>
      {need !== null && (
        <TokenPrompt
          need={need === 'asked' ? null : need}
          onSubmit={use}
          onCancel={need === 'asked' ? () => setNeed(null) : undefined}
        />
      )}
      <App
        key={token ?? ''}
        {...rest}
        api={authed}
        search={current}
        onViewChange={viewChanged}
        onAuthFailure={failed}
        onChangeToken={changeToken}
      />
    </>
  );
}
