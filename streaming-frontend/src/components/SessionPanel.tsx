/**
 * The session picker: which simulation the dashboard watches (the server's
 * default one, or a private session of API.md v2), a compact form that makes
 * a new session, and deleting one. The choice lives in the address
 * (`?session=`), so a failing CI run's session opens in the browser as it is.
 */
import { type FormEvent, memo, useId, useState } from 'react';
import { useResource } from '../hooks/useResource';
import { type Api, ApiError, type NewSession } from '../lib/api';
import { type TimeZoneChoice, formatTime } from '../lib/format';
import type { ScenarioInfo, SessionInfo } from '../lib/parse';
import { Field } from './Controls';

export interface SessionPanelProps {
  api: Api;
  /** The session watched; null for the default simulation. */
  session: string | null;
  onSwitch: (session: string | null) => void;
  /** This dashboard deleted `session` (the one it watches, or another). */
  onDeleted: (session: string) => void;
  /** The session watched is known to be gone: nothing to delete. */
  gone?: boolean;
  scenarios: readonly ScenarioInfo[] | null;
  /** False when the token lacks the `control` scope: creating and deleting are not offered. */
  canControl: boolean;
  /** False in a hidden tab: the list is not polled. */
  visible: boolean;
  zone: TimeZoneChoice;
}

/** The longest time to live the server accepts (API.md), seconds. */
export const MAX_TTL_S = 86_400;

/** A short, recognisable form of an id (ids are long random strings). */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 10)}…` : id;
}

function describe(session: SessionInfo): string {
  const parts = [shortId(session.id)];
  if (session.seed !== null) parts.push(`seed ${session.seed}`);
  if (session.subjects.length > 0) parts.push(session.subjects.join(', '));
  return parts.join(' · ');
}

interface Draft {
  seed: string;
  subjects: string;
  scenario: string;
  paused: boolean;
  ttl: string;
}

const EMPTY_DRAFT: Draft = { seed: '', subjects: '', scenario: '', paused: false, ttl: '3600' };

/** The request body for `draft`, or why it cannot be sent. */
export function newSessionBody(draft: Draft): NewSession | string {
  const body: { -readonly [K in keyof NewSession]: NewSession[K] } = {};
  if (draft.seed.trim() !== '') {
    if (!/^\d{1,15}$/.test(draft.seed.trim()))
      return 'The seed is a whole number (or empty for a random one)';
    body.seed = Number(draft.seed.trim());
  }
  const subjects = draft.subjects
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (subjects.length > 0) body.subjects = subjects;
  if (draft.scenario !== '') body.scenario = draft.scenario;
  if (draft.paused) body.paused = true;
  const ttl = Number(draft.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_S) {
    return `The time to live is whole seconds from 1 to ${MAX_TTL_S}`;
  }
  body.ttl_s = ttl;
  return body;
}

function failure(error: unknown): string {
  return error instanceof ApiError ? `${error.status} ${error.code}: ${error.message}` : String(error);
}

function SessionPanelImpl({
  api,
  session,
  onSwitch,
  onDeleted,
  gone = false,
  scenarios,
  canControl,
  visible,
  zone,
}: SessionPanelProps): React.JSX.Element | null {
  const ids = useId();
  const list = useResource((signal) => api.sessions(signal), { pollMs: 15_000, enabled: visible });
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [feedback, setFeedback] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // A backend without sessions (404 on the list) watches its one simulation: nothing to pick.
  if (list.missing && session === null) return null;

  const sessions = list.data ?? [];
  const current = sessions.find((s) => s.id === session) ?? null;
  const edit = (change: Partial<Draft>): void => setDraft((d) => ({ ...d, ...change }));

  const create = (event: FormEvent): void => {
    event.preventDefault();
    const body = newSessionBody(draft);
    if (typeof body === 'string') {
      setFeedback(body);
      return;
    }
    setBusy(true);
    api
      .createSession(body)
      .then((made) => {
        setFeedback(null);
        setDraft(EMPTY_DRAFT);
        onSwitch(made.id);
      })
      .catch((error: unknown) => setFeedback(`Not created: ${failure(error)}`))
      .finally(() => setBusy(false));
  };

  const remove = (id: string): void => {
    setBusy(true);
    api
      .deleteSession(id)
      .then(() => {
        setFeedback(`Session ${shortId(id)} deleted`);
        list.reload();
        onDeleted(id);
      })
      .catch((error: unknown) => setFeedback(`Not deleted: ${failure(error)}`))
      .finally(() => setBusy(false));
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-title`} data-testid="session-panel">
      <h2 id={`${ids}-title`}>Session</h2>
      <Field label={<>Simulation watched</>}>
        {(id) => (
          <select
            id={id}
            value={session ?? ''}
            onChange={(e) => onSwitch(e.target.value === '' ? null : e.target.value)}
            data-testid="session-select"
          >
            <option value="">Default simulation</option>
            {session !== null && current === null && <option value={session}>{shortId(session)}</option>}
            {sessions.map((s) => (
              <option key={s.id} value={s.id} title={s.id}>
                {describe(s)}
              </option>
            ))}
          </select>
        )}
      </Field>
      {session !== null && (
        <div className="stack">
          <p className="small">
            <code className="session-id" data-testid="session-id">
              {session}
            </code>
            {current?.expiresAt != null && (
              <span className="muted">
                {' '}
                · expires {formatTime(Date.parse(current.expiresAt), zone)} unless used
              </span>
            )}
          </p>
          {canControl && !gone && (
            <div className="row">
              <button
                type="button"
                onClick={() => remove(session)}
                disabled={busy}
                data-testid="delete-session"
              >
                Delete this session
              </button>
            </div>
          )}
        </div>
      )}
      {list.missing && <p className="muted small">This backend lists no sessions (it may not have them).</p>}
      {canControl && !list.missing && (
        <details className="new-session">
          <summary>New session</summary>
          <form onSubmit={create} className="stack" noValidate data-testid="new-session">
            <div className="row compact">
              <Field label={<>Seed</>}>
                {(id) => (
                  <input
                    id={id}
                    inputMode="numeric"
                    placeholder="random"
                    value={draft.seed}
                    onChange={(e) => edit({ seed: e.target.value })}
                    data-testid="new-seed"
                  />
                )}
              </Field>
              <Field label={<>Time to live (s)</>}>
                {(id) => (
                  <input
                    id={id}
                    type="number"
                    min={1}
                    max={MAX_TTL_S}
                    value={draft.ttl}
                    onChange={(e) => edit({ ttl: e.target.value })}
                    data-testid="new-ttl"
                  />
                )}
              </Field>
            </div>
            <Field label={<>Subjects (comma separated)</>}>
              {(id) => (
                <input
                  id={id}
                  placeholder="default"
                  value={draft.subjects}
                  onChange={(e) => edit({ subjects: e.target.value })}
                  data-testid="new-subjects"
                />
              )}
            </Field>
            <Field label={<>Scenario</>}>
              {(id) => (
                <select
                  id={id}
                  value={draft.scenario}
                  onChange={(e) => edit({ scenario: e.target.value })}
                  data-testid="new-scenario"
                >
                  <option value="">server default</option>
                  {(scenarios ?? []).map((s) => (
                    <option key={s.name} value={s.name} title={s.description}>
                      {s.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <label className="check">
              <input
                type="checkbox"
                checked={draft.paused}
                onChange={(e) => edit({ paused: e.target.checked })}
                data-testid="new-paused"
              />
              Start with the clock paused
            </label>
            <button type="submit" className="primary" disabled={busy} data-testid="create-session">
              Create and watch
            </button>
          </form>
        </details>
      )}
      {feedback !== null && (
        <p role="status" className="small" data-testid="session-feedback">
          {feedback}
        </p>
      )}
      {list.error !== null && !list.missing && !list.error.unreachable && (
        <p className="muted small">Sessions could not be listed: {failure(list.error)}</p>
      )}
    </section>
  );
}

export const SessionPanel = memo(SessionPanelImpl);
