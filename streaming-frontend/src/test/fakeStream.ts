/** A stand-in for biomock's SSE stream behind `fetch`, driven by hand in tests. */

export class Connection {
  readonly url: string;
  closed = false;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private readonly encoder = new TextEncoder();
  readonly response: Response;

  constructor(url: string, signal: AbortSignal | null | undefined) {
    this.url = url;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
    });
    signal?.addEventListener('abort', () => {
      this.closed = true;
    });
    this.response = new Response(body, {
      status: 200,
      headers: { 'Content-Type': 'text/event-stream; charset=utf-8' },
    });
  }

  /** Raw SSE text, as the server writes it. */
  write(text: string): void {
    if (!this.closed) this.controller?.enqueue(this.encoder.encode(text));
  }

  retry(ms: number): void {
    this.write(`retry: ${ms}\n\n`);
  }

  message(data: string, id: string | null = null): void {
    this.write(`${id === null ? '' : `id: ${id}\n`}data: ${data}\n\n`);
  }

  sample(fields: Record<string, unknown>): void {
    this.message(JSON.stringify(fields), String(fields.id ?? ''));
  }

  named(event: string, data: string): void {
    this.write(`event: ${event}\ndata: ${data}\n\n`);
  }

  /** The server ends the response (a restart, `disconnect_after`). */
  end(): void {
    if (!this.closed) this.controller?.close();
    this.closed = true;
  }
}

export type Refusal = { status: number; body?: unknown; headers?: Record<string, string> } | 'down';

export class StreamServer {
  connections: Connection[] = [];
  /** Every request, refused or not. */
  requests: string[] = [];
  private readonly refusals: Refusal[] = [];

  /** The next attempts are refused, in order (a status with a JSON body, or a dead backend). */
  refuse(...answers: Refusal[]): void {
    this.refusals.push(...answers);
  }

  latest(): Connection {
    const last = this.connections.at(-1);
    if (last === undefined) throw new Error('no stream was opened');
    return last;
  }

  fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    this.requests.push(input);
    const refusal = this.refusals.shift();
    if (refusal === 'down') throw new TypeError('Failed to fetch');
    if (refusal !== undefined) {
      return new Response(JSON.stringify(refusal.body ?? null), {
        status: refusal.status,
        headers: { 'Content-Type': 'application/json', ...refusal.headers },
      });
    }
    const connection = new Connection(input, init?.signal);
    this.connections.push(connection);
    return connection.response;
  };
}

let nextId = 1000;

/** A valid native sample; override any field. */
export function sampleJson(fields: Record<string, unknown> = {}): Record<string, unknown> {
  nextId += 1;
  return {
    value: 72,
    timestamp: '2026-02-03T10:30:00.000Z',
    type: 'heart_rate',
    id: nextId,
    unit: 'count/min',
    subject: 'default',
    ...fields,
  };
}
