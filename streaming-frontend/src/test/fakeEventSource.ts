/** A stand-in for the browser's EventSource that tests drive by hand. */
type Listener = (event: Event) => void;

export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static instances: FakeEventSource[] = [];

  readonly url: string;
  readyState = FakeEventSource.CONNECTING;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent<string>) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(url: string) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }

  static reset(): void {
    FakeEventSource.instances = [];
  }

  static latest(): FakeEventSource {
    const last = FakeEventSource.instances.at(-1);
    if (last === undefined) throw new Error('no EventSource was created');
    return last;
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners.set(
      type,
      (this.listeners.get(type) ?? []).filter((l) => l !== listener),
    );
  }

  close(): void {
    this.closed = true;
    this.readyState = FakeEventSource.CLOSED;
  }

  // ---- What the server and the browser would do ----

  open(): void {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.(new Event('open'));
  }

  message(data: string, lastEventId = ''): void {
    this.onmessage?.(new MessageEvent('message', { data, lastEventId }));
  }

  sample(fields: Record<string, unknown>): void {
    this.message(JSON.stringify(fields), String(fields.id ?? ''));
  }

  named(type: string, data: string): void {
    const event = new MessageEvent(type, { data });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  /** A dropped connection the browser will retry itself (readyState CONNECTING). */
  drop(): void {
    this.readyState = FakeEventSource.CONNECTING;
    this.onerror?.(new Event('error'));
  }

  /** A failure the browser gives up on (an HTTP error status): readyState CLOSED. */
  fail(): void {
    this.readyState = FakeEventSource.CLOSED;
    this.onerror?.(new Event('error'));
  }
}

export function asEventSource(): typeof EventSource {
  return FakeEventSource as unknown as typeof EventSource;
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
