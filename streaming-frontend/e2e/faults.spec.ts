/**
 * Faults injected into the dashboard's own stream, against the real backend:
 * the page says they are on, shows their effect, and recovers — a cut stream
 * resumes with last_event_id and loses nothing, garbage is counted and shown
 * in the inspector, a stalled one is caught by the watchdog and reopened where
 * it stopped, and a refused stream backs off, never sooner than Retry-After.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

let pageErrors: string[] = [];

/** The URL of every stream the page opens, SSE or WebSocket (Playwright reports those apart). */
function streamsOpened(page: Page): string[] {
  const urls: string[] = [];
  const note = (address: string): void => {
    const { pathname } = new URL(address);
    if (pathname === '/api/stream' || pathname === '/api/ws') urls.push(address);
  };
  page.on('request', (request) => note(request.url()));
  page.on('websocket', (socket) => note(socket.url()));
  return urls;
}

test.beforeEach(({ page }) => {
  pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

test.afterEach(() => {
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

test('disconnect_after cuts the stream again and again; each time it resumes with nothing lost', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  const menu = page.getByTestId('fault-menu');
  await menu.getByText('Inject faults').click();
  await menu.getByTestId('fault-disconnect_after').check();
  await menu.getByTestId('fault-disconnect_after-value').fill('5');
  const streams = streamsOpened(page);
  await menu.getByTestId('apply-faults').click();
  await expect(page.getByTestId('faults-active')).toContainText('cut after 5 samples');
  await expect(page).toHaveURL(/faults=disconnect_after/);
  await expect
    .poll(() => page.evaluate(() => window.__biomock?.counts().reconnects ?? 0), { timeout: 30_000 })
    .toBeGreaterThan(2);
  const resumed = streams.filter((url) => new URL(url).searchParams.has('last_event_id'));
  expect(resumed.length).toBeGreaterThan(2);
  await expect(page.getByTestId('backend-down')).toBeHidden();
  const counts = await page.evaluate(() => window.__biomock?.counts());
  expect(counts).toMatchObject({ missing: 0, duplicates: 0, malformed: 0 });
  const ids = await page.evaluate(() => window.__biomock?.ids() ?? []);
  for (let i = 1; i < ids.length; i += 1) expect(ids[i]).toBeGreaterThan(ids[i - 1] ?? 0);

  await page.getByTestId('clear-faults').click();
  await expect(page.getByTestId('faults-active')).toBeHidden();
  await expect(page).not.toHaveURL(/faults=/);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
});

test('malformed and duplicated samples are counted, flagged in the inspector, and the stream goes on', async ({
  page,
}) => {
  await page.goto('/?faults=malformed%3D0.3%2Cduplicate%3D0.3&fault_seed=1&inspector=1');
  await expect(page.getByTestId('faults-active')).toContainText('30 % malformed');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect.poll(async () => Number(await page.getByTestId('malformed').textContent())).toBeGreaterThan(0);
  await expect
    .poll(async () => Number(await page.getByTestId('duplicates').textContent()))
    .toBeGreaterThan(0);
  await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
  await page.getByTestId('filter-problems').check();
  await expect(page.locator('[data-testid="frame-row"][data-flag="malformed"]').first()).toBeVisible();
  await expect(page.locator('[data-testid="frame-row"][data-flag="duplicate"]').first()).toBeVisible();
  await page.locator('[data-testid="frame-row"][data-flag="malformed"]').first().click();
  await expect(page.getByTestId('frame-flag')).toContainText('not a valid sample');
  // The malformed samples' ids still arrived: no gap is reported for them.
  await expect(page.getByTestId('missing')).toHaveText('0');
  // Faults on, menu open, a frame chosen: still no serious accessibility violation.
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  expect(
    results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id),
  ).toEqual([]);
});

test('a stalled stream (open, but silent) is noticed by the watchdog and reopened where it stopped', async ({
  page,
}) => {
  // The watchdog waits 45 s of silence; the page's clock is jumped over that wait instead.
  await page.clock.install();
  await page.goto('/?faults=stall_after%3D8');
  await expect(page.getByTestId('faults-active')).toContainText('silent after 8 samples');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  const lastId = async (): Promise<number> => page.evaluate(() => window.__biomock?.lastId() ?? 0);
  // The stall: the connection stays open and nothing more arrives.
  let stalledAt = 0;
  await expect
    .poll(
      async () => {
        const before = await lastId();
        await page.waitForTimeout(2500);
        stalledAt = await lastId();
        return stalledAt > 0 && stalledAt === before;
      },
      { timeout: 30_000 },
    )
    .toBe(true);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  const streams = streamsOpened(page);
  await page.clock.fastForward('00:46');
  await expect(page.getByTestId('cut-reason')).toContainText('nothing arrived for 45 s');
  await expect.poll(() => streams.length, { timeout: 15_000 }).toBeGreaterThan(0);
  expect(new URL(streams[0] ?? 'http://x').searchParams.get('last_event_id')).toBe(String(stalledAt));
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect.poll(lastId, { timeout: 15_000 }).toBeGreaterThan(stalledAt);
  const counts = await page.evaluate(() => window.__biomock?.counts());
  expect(counts).toMatchObject({ missing: 0, duplicates: 0 });
});

test('a stream refused with 503 backs off, never sooner than Retry-After, and recovers when faults stop', async ({
  page,
  transport,
}) => {
  // Over the WebSocket each refused upgrade is followed by its probe of the SSE route: count the upgrades.
  const route = transport === 'ws' ? '/api/ws' : '/api/stream';
  const attempts: number[] = [];
  const note = (address: string): void => {
    const url = new URL(address);
    if (url.pathname === route && url.searchParams.has('faults')) attempts.push(Date.now());
  };
  page.on('request', (request) => note(request.url()));
  page.on('websocket', (socket) => note(socket.url()));
  await page.goto('/?faults=status%3D503');
  const banner = page.getByTestId('stream-error');
  await expect(banner).toContainText('503 unavailable');
  await expect(banner).toContainText('the server asked for 1.0 s');
  await expect.poll(() => attempts.length, { timeout: 20_000 }).toBeGreaterThan(2);
  const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] ?? 0));
  for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
  await expect(page.getByTestId('faults-active')).toContainText('refused with 503');
  await page.getByTestId('clear-faults').click();
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect(banner).toBeHidden();
});
