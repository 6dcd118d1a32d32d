/** A small typed client for the backend's JSON routes (docs/API.md). */
import {
  type ClockState,
  type HistoryPage,
  type Parsed,
  type ScenarioInfo,
  type SessionInfo,
  type Stats,
  type SubjectInfo,
  type TypeInfo,
  parseApiError,
  parseClock,
  parseHistoryPage,
  parseScenarios,
  parseSession,
  parseSessions,
  parseStats,
  parseSubjects,
  parseTypes,
} from './parse';
import { parseRetryAfter } from './backoff';
import { type Identity, parseIdentity } from './auth';

/** A failed call: `status` 0 means the backend could not be reached at all. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The server's `Retry-After`, ms, when it sent one. */
  readonly retryAfterMs: number | null;
  /** The request parameter the server blamed (`session` for a session that is gone). */
  readonly parameter: string | null;

  constructor(
    status: number,
    code: string,
    message: string,
    retryAfterMs: number | null = null,
    parameter: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
    this.parameter = parameter;
  }

  /** The route does not exist on this backend (an older or partial one). */
  get missing(): boolean {
    return (this.status === 404 && !this.sessionGone) || this.status === 405;
  }

  /** The session asked for does not exist (never did, was deleted, or expired). */
  get sessionGone(): boolean {
    return this.status === 404 && this.parameter === 'session';
  }

  get unreachable(): boolean {
    return this.status === 0;
  }
}

export interface HistoryQuery {
  afterId?: number | null;
  limit?: number;
  subject?: string | null;
  types?: readonly string[] | null;
}

/** The simulated clock and the wall time (epoch ms) the reading describes. */
export interface ClockReading {
  clock: ClockState;
  readAt: number;
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** What `POST /api/sessions` takes; every field optional (API.md v2 "Sessions"). */
export interface NewSession {
  seed?: number;
  subjects?: readonly string[];
  scenario?: string;
  paused?: boolean;
  ttl_s?: number;
}

/**
 * Picks the backend's base URL: `?backend=` in the page's address wins, then
 * the build's `VITE_BIOMOCK_BACKEND`, else the page's own origin (''), which
 * is how the backend serves the built dashboard and how the dev server proxies.
 */
export function resolveBackend(search: string, fromBuild: string | undefined): string {
  const candidates = [new URLSearchParams(search).get('backend'), fromBuild];
  for (const candidate of candidates) {
    if (candidate === null || candidate === undefined || candidate.trim() === '') continue;
    try {
      const url = new URL(candidate.trim());
      if (url.protocol === 'http:' || url.protocol === 'https:') {
        return url.href.replace(/\/+$/, '');
      }
    } catch {
      // Not a URL: fall through to the next candidate.
    }
  }
  return '';
}

function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export class Api {
  readonly base: string;
  /** The fetch every request goes through; the stream uses it too. */
  readonly fetchImpl: Fetch;
  /** Sent as `Authorization: Bearer` on requests and as `access_token` on the stream. */
  readonly token: string | null;
  /**
   * The session every data and control request addresses (`?session=`); null
   * for the default simulation.
   */
  readonly session: string | null;

  constructor(
    base: string,
    fetchImpl: Fetch = (input, init) => fetch(input, init),
    token: string | null = null,
    session: string | null = null,
  ) {
    this.base = base;
    this.fetchImpl = fetchImpl;
    this.token = token;
    this.session = session;
  }

  /** The same backend, called with `token`. */
  withToken(token: string | null): Api {
    return token === this.token ? this : new Api(this.base, this.fetchImpl, token, this.session);
  }

  /** The same backend, addressing `session` (null: the default simulation). */
  withSession(session: string | null): Api {
    return session === this.session ? this : new Api(this.base, this.fetchImpl, this.token, session);
  }

  /**
   * The stream's URL; `lastEventId` resumes after a sample already held. The
   * token goes in the query, as EventSource and browser WebSockets cannot send headers.
   */
  streamUrl(lastEventId: number | null = null): string {
    return `${this.base}/api/stream${query({
      session: this.session,
      last_event_id: lastEventId,
      access_token: this.token,
    })}`;
  }

  /** Who the token is; `authentication: false` when the server has it off. */
  async whoami(signal?: AbortSignal): Promise<Identity> {
    const identity = parseIdentity(await this.request('/api/whoami', { signal }));
    if (identity === null) throw new ApiError(200, 'bad_response', '/api/whoami: unexpected body');
    return identity;
  }

  async history(q: HistoryQuery, signal?: AbortSignal): Promise<HistoryPage> {
    const path = `/api/history${query({
      session: this.session,
      after_id: q.afterId,
      limit: q.limit ?? 10_000,
      subject: q.subject,
      types: q.types?.join(','),
    })}`;
    return this.parsed(await this.request(path, { signal }), parseHistoryPage);
  }

  async stats(signal?: AbortSignal): Promise<Stats> {
    return this.parsed(await this.request(this.scoped('/api/stats'), { signal }), parseStats);
  }

  async types(signal?: AbortSignal): Promise<TypeInfo[]> {
    return this.parsed(await this.request('/api/types', { signal }), parseTypes);
  }

  async subjects(signal?: AbortSignal): Promise<SubjectInfo[]> {
    return this.parsed(await this.request(this.scoped('/api/subjects'), { signal }), parseSubjects);
  }

  async scenarios(signal?: AbortSignal): Promise<ScenarioInfo[]> {
    return this.parsed(await this.request('/api/scenarios', { signal }), parseScenarios);
  }

  async clock(signal?: AbortSignal): Promise<ClockState> {
    return this.parsed(await this.request(this.scoped('/api/clock'), { signal }), parseClock);
  }

  /** The clock and the wall time it describes (the middle of the request), for latency. */
  async clockReading(signal?: AbortSignal): Promise<ClockReading> {
    const sent = Date.now();
    const clock = await this.clock(signal);
    return { clock, readAt: (sent + Date.now()) / 2 };
  }

  async setClock(change: { speed?: number; paused?: boolean }): Promise<ClockState> {
    return this.parsed(await this.post(this.scoped('/api/clock'), change), parseClock);
  }

  async setScenario(scenario: string, subject: string): Promise<void> {
    await this.post(this.scoped('/api/scenario'), { scenario, subject });
  }

  /** The sessions this caller may see (its own when authentication is on). */
  async sessions(signal?: AbortSignal): Promise<SessionInfo[]> {
    return this.parsed(await this.request('/api/sessions', { signal }), parseSessions);
  }

  async createSession(body: NewSession): Promise<SessionInfo> {
    return this.parsed(await this.post('/api/sessions', body), parseSession);
  }

  /** Deletes session `id`; its streams end. */
  async deleteSession(id: string): Promise<void> {
    await this.request(`/api/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  /** `path` addressing this API's session. */
  private scoped(path: string): string {
    return `${path}${query({ session: this.session })}`;
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    return this.request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  private async request(path: string, init: RequestInit): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${path}`, {
        ...init,
        headers: {
          Accept: 'application/json',
          ...(this.token === null ? {} : { Authorization: `Bearer ${this.token}` }),
          ...init.headers,
        },
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(0, 'unreachable', 'the backend cannot be reached');
    }
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      // An empty or non-JSON body (a proxy's error page): the status says enough.
    }
    if (!response.ok) {
      const error = parseApiError(body);
      // A proxy with its backend gone answers 502-504 itself: that is "unreachable".
      const status = response.status >= 502 && response.status <= 504 && error === null ? 0 : response.status;
      if (status === 0) throw new ApiError(0, 'unreachable', 'the backend cannot be reached');
      throw new ApiError(
        status,
        error?.code ?? 'http_error',
        error?.message ?? `${path} answered ${status}`,
        parseRetryAfter(response.headers.get('Retry-After')),
        error?.parameter ?? null,
      );
    }
    return body;
  }

  private parsed<T>(body: unknown, parse: (raw: unknown) => Parsed<T>): T {
    const result = parse(body);
    if (!result.ok) throw new ApiError(200, 'bad_response', result.error);
    return result.value;
  }
}
