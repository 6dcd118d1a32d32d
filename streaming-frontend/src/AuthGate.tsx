/**
 * The dashboard behind biomock's authentication: holds the tab's token, asks
 * for one when the server answers 401, and remounts the dashboard with a new
 * token so every request, poll and stream starts over with it (the store, and
 * so the samples already shown, stay).
 *
 * The session watched (`?session=`) is held here too: switching it empties
 * the store (another simulation, whose ids start again at 1) and remounts the
 * dashboard addressing the new session, so nothing of the old one lingers.
 */
import { useCallback, useMemo, useState } from 'react';
import { App, type AppProps } from './App';
import { TokenPrompt } from './components/TokenPrompt';
import { type TokenNeed, type TokenStore, tokenNeed } from './lib/auth';
import { readSession, writeSession } from './lib/urlState';

export interface AuthGateProps extends Omit<
  AppProps,
  'onAuthFailure' | 'onChangeToken' | 'session' | 'onSessionChange'
> {
  tokens: TokenStore;
}

function replaceUrl(search: string): void {
  window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
}

export function AuthGate({
  tokens,
  api,
  store,
  search = '',
  onViewChange = replaceUrl,
  ...rest
}: AuthGateProps): React.JSX.Element {
  const [token, setToken] = useState(() => tokens.read());
  // Null: no prompt; 'asked': the user wants to change tokens.
  const [need, setNeed] = useState<TokenNeed | 'asked' | null>(null);
  // The view as last written, so a remount with a new token keeps it.
  const [current, setCurrent] = useState(search);
  const session = readSession(current);
  const authed = useMemo(() => api.withToken(token).withSession(session), [api, token, session]);
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
  const switchSession = useCallback(
    (next: string | null) => {
      store.reset();
      viewChanged(writeSession(current, next));
    },
    [store, current, viewChanged],
  );
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
        key={`${token ?? ''}\u0000${session ?? ''}`}
        {...rest}
        store={store}
        api={authed}
        session={session}
        onSessionChange={switchSession}
        search={current}
        onViewChange={viewChanged}
        onAuthFailure={failed}
        onChangeToken={changeToken}
      />
    </>
  );
}
