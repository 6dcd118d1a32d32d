/** A fetch stand-in answering the backend's JSON routes from a table. */
import type { Fetch } from '../lib/api';

export type Route = (
  url: URL,
  init: RequestInit | undefined,
) =>
  | { status?: number; body: unknown; headers?: Record<string, string> }
  | 'down'
  | Response
  | Promise<Response>;

export interface FakeFetch {
  fetch: Fetch;
  calls: { method: string; url: URL; body: unknown }[];
  routes: Map<string, Route>;
}

export function fakeFetch(routes: Record<string, Route>): FakeFetch {
  const table = new Map(Object.entries(routes));
  const calls: FakeFetch['calls'] = [];
  const fetchImpl: Fetch = async (input, init) => {
    const url = new URL(input, 'http://127.0.0.1:5193');
    const method = init?.method ?? 'GET';
    calls.push({ method, url, body: typeof init?.body === 'string' ? JSON.parse(init.body) : null });
    const route = table.get(`${method} ${url.pathname}`);
    if (route === undefined) {
      return json(404, { error: { code: 'not_found', message: `no route ${url.pathname}` } });
    }
    const answer = route(url, init);
    if (answer === 'down') throw new TypeError('Failed to fetch');
    if (answer instanceof Response || answer instanceof Promise) return answer;
    return json(answer.status ?? 200, answer.body, answer.headers);
  };
  return { fetch: fetchImpl, calls, routes: table };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}
