/** Starts and stops a real biomock backend of the test's own, for restart tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface Backend {
  url: string;
  stop: () => Promise<void>;
}

async function waitHealthy(url: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`backend at ${url} did not become healthy`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `biomock serve` on 127.0.0.1:`port`, serving the built dashboard; resolves once healthy. */
export async function startBackend(port: number, env: Record<string, string> = {}): Promise<Backend> {
  const child: ChildProcess = spawn(
    path.join(ROOT, '..', '.venv', 'bin', 'biomock'),
    ['serve', '--host', '127.0.0.1', '--port', String(port), '--static-dir', path.join(ROOT, 'dist')],
    {
      cwd: ROOT,
      env: { ...process.env, BIOMOCK_GRACEFUL_TIMEOUT_S: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, Date.now() + 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${stderr}`, { cause: error });
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Every sample id in the backend's buffer, oldest first. */
export async function historyIds(url: string): Promise<number[]> {
  const ids: number[] = [];
  let after: number | null = null;
  for (let page = 0; page < 100; page += 1) {
    const query: string = after === null ? '?limit=10000' : `?limit=10000&after_id=${after}`;
    const response = await fetch(`${url}/api/history${query}`);
    const body = (await response.json()) as { items: { id: number }[]; next_after_id: number | null };
    ids.push(...body.items.map((item) => item.id));
    if (body.next_after_id === null) break;
    after = body.next_after_id;
  }
  return ids;
}
