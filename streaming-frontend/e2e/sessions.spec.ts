/**
 * Sessions in the dashboard against the real backend: one made in the page is
 * in the address and streams its own subjects with every request addressing
 * it; one made through the API opens from a link; a deleted or unknown one
 * says so and offers the way back to the default simulation.
 */
import AxeBuilder from '@axe-core/playwright';
import type { APIRequestContext, Page } from '@playwright/test';
import { expect, test } from './fixtures';

/** Routes that belong to a simulation: every request to them must carry the session. */
const SCOPED = new Set([
  '/api/stream',
  '/api/ws',
  '/api/history',
  '/api/subjects',
  '/api/clock',
  '/api/stats',
]);

let pageErrors: string[] = [];

test.beforeEach(({ page }) => {
  pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

test.afterEach(() => {
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

async function createSession(request: APIRequestContext, body: Record<string, unknown>): Promise<string> {
  const response = await request.post('/api/sessions', { data: body });
  expect(response.status()).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function subjectsOffered(page: Page): Promise<string[]> {
  return page.getByTestId('subject').locator('option').allTextContents();
}

/** Every request to `paths`, WebSocket upgrades included (Playwright reports those apart). */
function requestsTo(page: Page, paths: ReadonlySet<string>): string[] {
  const urls: string[] = [];
  const note = (address: string): void => {
    if (paths.has(new URL(address).pathname)) urls.push(address);
  };
  page.on('request', (request) => note(request.url()));
  page.on('websocket', (socket) => note(socket.url()));
  return urls;
}

/** WCAG 2.1 A/AA violations axe rates serious or critical. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

function sessionIn(url: string): string | null {
  return new URL(url).searchParams.get('session');
}

test('a session made in the page is in the address, streams its own subjects, and says when deleted', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  const panel = page.getByTestId('session-panel');
  await panel.getByText('New session').click();
  await panel.getByTestId('new-seed').fill('5');
  await panel.getByTestId('new-subjects').fill('erin, frank');
  await panel.getByTestId('new-ttl').fill('600');
  expect(await seriousViolations(page), 'axe, with the new-session form open').toEqual([]);

  const scoped = requestsTo(page, SCOPED);
  await panel.getByTestId('create-session').click();
  await expect(page).toHaveURL(/[?&]session=s_/);
  const id = sessionIn(page.url()) ?? '';
  await expect(page.getByTestId('session-id')).toHaveText(id);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
  expect(await subjectsOffered(page)).toEqual(['erin', 'frank']);
  await expect(page.getByTestId('subject')).toHaveValue('erin');
  // The session's ids start at 1: the charts started over with none of the default's samples.
  const ids = await page.evaluate(() => window.__biomock?.ids() ?? []);
  expect(ids.length).toBeGreaterThan(0);
  expect(Math.min(...ids)).toBeLessThan(1000);
  await expect(page.getByTestId('duplicates')).toHaveText('0');
  expect(scoped.length).toBeGreaterThan(3);
  expect(scoped.filter((url) => sessionIn(url) !== id)).toEqual([]);

  await panel.getByTestId('delete-session').click();
  await expect(page.getByTestId('session-gone')).toContainText('was deleted');
  expect(await seriousViolations(page), 'axe, with the gone-session alert').toEqual([]);
  await expect(page.getByTestId('stream-error')).toBeHidden();
  await page.getByTestId('leave-session').click();
  await expect(page).not.toHaveURL(/session=/);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect(page.getByTestId('subject')).toHaveValue('default');
  await expect(page.getByTestId('session-gone')).toBeHidden();
});

test("a link with ?session= made through the API opens that session's subjects", async ({
  page,
  request,
}) => {
  const id = await createSession(request, { seed: 3, subjects: ['gina', 'hal'], ttl_s: 600 });
  try {
    await page.goto(`/?session=${id}`);
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
    await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
    expect(await subjectsOffered(page)).toEqual(['gina', 'hal']);
    await expect(page.getByTestId('session-select')).toHaveValue(id);
    // Switching back to the default simulation from the picker starts the charts over again.
    await page.getByTestId('session-select').selectOption('');
    await expect(page).not.toHaveURL(/session=/);
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
    await expect.poll(() => subjectsOffered(page)).not.toContain('gina');
  } finally {
    await request.delete(`/api/sessions/${id}`);
  }
});

test('a session the server does not know says so once, and offers the default simulation', async ({
  page,
}) => {
  const streams = requestsTo(page, SCOPED);
  await page.goto('/?session=s_expired0000000000000000');
  await expect(page.getByTestId('session-gone')).toContainText('does not exist');
  const asked = streams.length;
  await page.waitForTimeout(4000);
  expect(streams.length, 'requests for a session that is gone').toBe(asked);
  await page.getByTestId('leave-session').click();
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
});
