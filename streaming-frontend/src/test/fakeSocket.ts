/** A WebSocket stand-in: the test opens, sends frames to and closes each connection the hook makes. */
import type { SocketLike } from '../hooks/useWebSocketStream';

export class FakeSocket implements SocketLike {
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  readonly url: string;
  closedByClient: number | null = null;

  constructor(url: string) {
    this.url = url;
  }

  open(): void {
    this.onopen?.(new Event('open'));
  }

  frame(body: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(body) }));
  }

  /** A text frame as it is, JSON or not. */
  raw(text: string): void {
    this.onmessage?.(new MessageEvent('message', { data: text }));
  }

  serverClose(code: number, reason = ''): void {
    this.onclose?.(new CloseEvent('close', { code, reason }));
  }

  close(code?: number): void {
    this.closedByClient = code ?? 1005;
  }
}

/** Makes FakeSockets and remembers them in order. */
export class SocketServer {
  readonly sockets: FakeSocket[] = [];

  readonly create = (url: string): FakeSocket => {
    const socket = new FakeSocket(url);
    this.sockets.push(socket);
    return socket;
  };

  latest(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error('no socket was opened');
    return socket;
  }
}
