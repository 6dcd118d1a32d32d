/**
 * The dashboard's side of biomock's authentication: where the token is kept
 * (`sessionStorage`, so it goes with the tab and never into a cookie), who the
 * server says it is (`GET /api/whoami`), and what it lets the user do.
 */

/** What `GET /api/whoami` answers. */
export interface Identity {
  /** False when the server runs without authentication (everything allowed). */
  authentication: boolean;
  /** The static token's name or the JWT's `sub`. */
  name: string | null;
  scopes: readonly string[];
  /** ISO time the token stops working, for a JWT. */
  expiresAt: string | null;
}

/** Why the dashboard asks for a token. */
export type TokenNeed = 'required' | 'rejected' | 'expired';

const KEY = 'biomock.token';

/** The token kept for this tab; the storage is passed in so tests can use their own. */
export class TokenStore {
  private readonly storage: Storage | null;

  constructor(storage: Storage | null) {
    this.storage = storage;
  }

  read(): string | null {
    try {
      const token = this.storage?.getItem(KEY) ?? null;
      return token === null || token === '' ? null : token;
    } catch {
      return null; // Storage refused (privacy settings): the token lives for this page only.
    }
  }

  write(token: string | null): void {
    try {
      if (token === null) this.storage?.removeItem(KEY);
      else this.storage?.setItem(KEY, token);
    } catch {
      // As in read(): nothing to keep it in.
    }
  }
}

export function parseIdentity(raw: unknown): Identity | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const body = raw as Record<string, unknown>;
  if (typeof body.authentication !== 'boolean' || !Array.isArray(body.scopes)) return null;
  return {
    authentication: body.authentication,
    name: typeof body.name === 'string' ? body.name : null,
    scopes: body.scopes.filter((s): s is string => typeof s === 'string'),
    expiresAt: typeof body.expires_at === 'string' ? body.expires_at : null,
  };
}

/** Whether `identity` may use `scope`; unknown (no whoami route) means yes, the server decides. */
export function allows(identity: Identity | null, scope: string): boolean {
  if (identity === null || !identity.authentication) return true;
  return identity.scopes.includes(scope) || identity.scopes.includes('admin');
}

/**
 * What a 401 means here: with no token the server wants one; a token that had
 * worked (or a WebSocket closed with 4401) has expired; any other was refused.
 */
export function tokenNeed(token: string | null, hadWorked: boolean, code: string): TokenNeed {
  if (token === null) return 'required';
  return hadWorked || code === 'token_expired' ? 'expired' : 'rejected';
}
