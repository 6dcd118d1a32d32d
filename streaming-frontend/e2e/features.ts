/**
 * Whether the backend under test has a v2 feature yet, so a suite written against
 * API.md runs for real where the server has it and says why it is skipped where not.
 */
import { E2E_PORT } from '../playwright.config';

const BASE = `http://127.0.0.1:${E2E_PORT}`;

/** `GET /api/sessions` exists (404 on a server without sessions). */
export async function hasSessions(): Promise<boolean> {
  const response = await fetch(`${BASE}/api/sessions`);
  await response.body?.cancel();
  return response.status !== 404;
}

/** The stream reads `faults=`: a spec it cannot read is a 400, where an older server streams. */
export async function hasFaults(): Promise<boolean> {
  const controller = new AbortController();
  try {
    const response = await fetch(`${BASE}/api/stream?faults=no_such_fault%3D1`, {
      signal: controller.signal,
    });
    return response.status === 400;
  } finally {
    controller.abort();
  }
}
