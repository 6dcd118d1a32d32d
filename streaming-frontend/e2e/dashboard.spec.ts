/**
 * The dashboard against the real backend, as a developer uses it: values
 * arrive and change, charts draw, pause really freezes them, themes recolour
 * them, scenarios and the clock can be driven, a backend restart is survived
 * without losing samples or raising a false alarm, and nothing leaves this
 * machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { historyIds, startBackend } from './backend';
import { chartPixels, linePixels, setClock } from './pixels';

const ROOT = path.resolve(import.meta.dirname, '..');
/** The README's pictures are refreshed only when asked: `UPDATE_SCREENSHOT=1 npx playwright test`. */
const SHOTS =
  process.env.UPDATE_SCREENSHOT === '1'
    ? path.join(ROOT, '..', 'docs', 'img')
    : path.join(ROOT, 'test-results');
const RESTART_PORT = 18932;

/** Every request the page makes, to check none leaves 127.0.0.1. */
let requested: string[] = [];
/** Uncaught errors in the page: there must be none. */
let pageErrors: string[] = [];

test.beforeEach(({ page }) => {
  requested = [];
  pageErrors = [];
  page.on('request', (request) => requested.push(request.url()));
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

test.afterEach(() => {
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
  const elsewhere = requested.filter((url) => {
    const { protocol, hostname } = new URL(url);
    return !(protocol === 'data:' || protocol === 'blob:' || hostname === '127.0.0.1');
  });
  expect(elsewhere, 'requests that left 127.0.0.1').toEqual([]);
});

async function heartRate(page: Page): Promise<number> {
  const text = (await page.getByTestId('value-heart_rate').textContent()) ?? '';
  return Number(text.replace(/[^\d.]/g, ''));
}

async function open(page: Page, query = ''): Promise<void> {
  await page.goto(`/${query}`);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
}

test('values arrive and change, and the charts draw them', async ({ page }) => {
  await open(page);
  const seen = new Set<number>();
  const firstId = Number(await page.getByTestId('last-id').textContent());
  await expect
    .poll(
      async () => {
        seen.add(await heartRate(page));
        return seen.size;
      },
      { timeout: 30_000, intervals: [500] },
    )
    .toBeGreaterThan(1);
  await expect
    .poll(async () => Number(await page.getByTestId('last-id').textContent()))
    .toBeGreaterThan(firstId);
  await expect.poll(() => linePixels(page, 'heart_rate', '#1f6fd1'), { timeout: 10_000 }).toBeGreaterThan(50);
  await expect(page.getByTestId('rate')).not.toHaveText('0.0');
  await expect(page.getByTestId('subscribers')).toHaveText(/^[1-9]\d*$/);
  await expect(page.getByTestId('malformed')).toHaveText('0');
  await expect(page.getByTestId('missing')).toHaveText('0');
  // Every time on the page is one 24-hour format that names its zone.
  await expect(page.getByTestId('chart-heart_rate-summary')).toHaveText(
    /from \d{2}:\d{2}:\d{2} UTC to \d{2}:\d{2}:\d{2} UTC/,
  );
});

test('pausing the view freezes the charts and tiles while a badge counts what is new', async ({ page }) => {
  await open(page);
  await expect.poll(() => linePixels(page, 'heart_rate', '#1f6fd1')).toBeGreaterThan(50);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Pause view' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: 'Resume view' })).toHaveAttribute('aria-pressed', 'true');
  const frozen = await chartPixels(page, 'heart_rate');
  const value = await page.getByTestId('value-heart_rate').textContent();
  // Longer than the stats poll (2 s), which re-renders the whole page.
  await page.waitForTimeout(4500);
  expect(await chartPixels(page, 'heart_rate')).toBe(frozen);
  await expect(page.getByTestId('value-heart_rate')).toHaveText(value ?? '');
  await expect(page.getByTestId('new-badge')).toHaveText(/^[1-9]\d* new$/);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('new-badge')).toBeHidden();
  await expect.poll(() => chartPixels(page, 'heart_rate')).not.toBe(frozen);
});

test('switching themes recolours the charts, with readable axes in light', async ({ page }) => {
  await open(page);
  const light = { line: '#1f6fd1', axis: '#3f4856' };
  const dark = { line: '#5fa8ff', axis: '#b3bdcc' };
  await expect.poll(() => linePixels(page, 'heart_rate', light.line)).toBeGreaterThan(50);
  await page.getByLabel('Theme').selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect.poll(() => linePixels(page, 'heart_rate', dark.line)).toBeGreaterThan(50);
  expect(await linePixels(page, 'heart_rate', light.line)).toBe(0);
  expect(await linePixels(page, 'heart_rate', dark.axis)).toBeGreaterThan(20);
  await page.getByLabel('Theme').selectOption('light');
  await expect.poll(() => linePixels(page, 'heart_rate', light.line)).toBeGreaterThan(50);
  // The axes' text is the light palette's (9:1 on white), not the dark one's pale grey (2.6:1).
  expect(await linePixels(page, 'heart_rate', light.axis)).toBeGreaterThan(20);
  expect(await linePixels(page, 'heart_rate', dark.axis)).toBe(0);
});

test('charts share a crosshair with values, and zoom together by dragging', async ({ page }) => {
  await open(page);
  await setClock(page, { speed: 60 });
  try {
    await page.waitForTimeout(5000);
    const over = page.getByTestId('chart-heart_rate').locator('.u-over');
    const box = await over.boundingBox();
    if (box === null) throw new Error('the heart-rate chart has no plot area');
    // Hovering one chart shows the values at that time in another.
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
    const other = page.getByTestId('chart-respiratory_rate').locator('..').locator('.u-legend');
    await expect(other).toContainText(/\d{2}:\d{2}:\d{2} UTC/);
    await expect(other).toContainText(/\d+(\.\d+)? bpm/);
    // Dragging across one chart zooms every chart; a double click goes back. The clock is
    // paused, so only the zoom can change another chart's pixels.
    await setClock(page, { paused: true });
    await page.waitForTimeout(1500);
    const before = await chartPixels(page, 'respiratory_rate');
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect(page.getByRole('button', { name: 'Reset zoom' })).toBeVisible();
    await expect.poll(() => chartPixels(page, 'respiratory_rate')).not.toBe(before);
    await over.dblclick();
    await expect(page.getByRole('button', { name: 'Reset zoom' })).toBeHidden();
    await expect.poll(() => chartPixels(page, 'respiratory_rate')).toBe(before);
  } finally {
    await setClock(page, { speed: 1, paused: false });
  }
});

test('latency comes from the server clock, also at 60x', async ({ page }) => {
  await open(page);
  await expect(page.getByTestId('latency')).toHaveText(/^\d+ ms$/, { timeout: 20_000 });
  await setClock(page, { speed: 60 });
  try {
    await page.getByRole('button', { name: 'Set speed' }).isVisible();
    await page.waitForTimeout(6000);
    // "-4 min" before: sample time runs ahead of the wall at 60x.
    await expect(page.getByTestId('latency')).toHaveText(/^(\d+ ms|unknown)$/);
    await expect(page.getByTestId('latency')).toHaveText(/^\d{1,3} ms$/, { timeout: 20_000 });
  } finally {
    await setClock(page, { speed: 1 });
  }
});

test('the controls are labelled, in reading order on a phone, and nothing sticks out', async ({ page }) => {
  await page.setViewportSize({ width: 420, height: 900 });
  await open(page);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Pause view' })).toBeFocused();
  // The first stop is at the top of the page, not below every chart.
  const pause = await page.getByRole('button', { name: 'Pause view' }).boundingBox();
  const charts = await page.getByRole('region', { name: 'Charts' }).boundingBox();
  expect(pause?.y ?? Number.POSITIVE_INFINITY).toBeLessThan(charts?.y ?? 0);
  for (const label of ['Subject', 'Time window', 'Theme', 'Times in']) {
    await expect(page.getByLabel(label, { exact: true })).toBeVisible();
  }
  // Focus moves down the page, never back up to a control above the last one.
  let lastTop = -1;
  for (let i = 0; i < 12; i += 1) {
    await page.keyboard.press('Tab');
    const top = await page.evaluate(() => document.activeElement?.getBoundingClientRect().top ?? 0);
    const scroll = await page.evaluate(() => window.scrollY);
    expect(top + scroll).toBeGreaterThanOrEqual(lastTop - 1);
    lastTop = top + scroll;
  }
  await expect
    .poll(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth))
    .toBeLessThanOrEqual(0);
});

test('switching to workout raises heart rate, and the charts mark the switch', async ({ page }) => {
  await open(page);
  const speed = page.getByLabel('Clock speed (× real time)');
  await expect(speed).toHaveValue('1');
  await speed.fill('60');
  await page.getByRole('button', { name: 'Set speed' }).click();
  await expect(page.getByTestId('sim-feedback')).toHaveText('Clock speed 60×');
  try {
    const rest = await page.request.post('/api/scenario', {
      data: { subject: 'default', scenario: 'sleep' },
    });
    expect(rest.ok()).toBe(true);
    await page.waitForTimeout(4000);
    const resting = await heartRate(page);
    await page.getByTestId('scenario').selectOption('workout');
    await page.getByRole('button', { name: /^Switch / }).click();
    await expect(page.getByTestId('sim-feedback')).toContainText('is now in workout');
    await expect
      .poll(() => heartRate(page), { timeout: 45_000, intervals: [500] })
      .toBeGreaterThan(Math.max(resting + 20, 100));
    // The scenario marker's colour (light palette) is on the heart-rate chart.
    await expect.poll(() => linePixels(page, 'heart_rate', '#9333ea')).toBeGreaterThan(10);
  } finally {
    await setClock(page, { speed: 1 });
  }
});

test('a restarted backend resumes with no gap in ids, and says nothing was missed', async ({ page }) => {
  test.setTimeout(120_000);
  let backend = await startBackend(RESTART_PORT, { BIOMOCK_SEED: '11' });
  try {
    await page.goto(`${backend.url}/`);
    const state = page.getByTestId('connection-state');
    await expect(state).toHaveAttribute('data-state', 'open');
    await expect.poll(() => page.evaluate(() => window.__biomock?.ids().length ?? 0)).toBeGreaterThan(3);
    const before = await historyIds(backend.url);

    await backend.stop();
    await expect(state).toHaveAttribute('data-state', 'reconnecting');
    await expect(state).toHaveText(/reconnecting/);
    await expect(page.getByTestId('backend-down')).toBeVisible();
    const seenBefore = await page.evaluate(() => window.__biomock?.ids() ?? []);

    backend = await startBackend(RESTART_PORT, { BIOMOCK_SEED: '11' });
    await expect(state).toHaveAttribute('data-state', 'open', { timeout: 30_000 });
    await expect(page.getByTestId('backend-down')).toBeHidden();
    await expect(page.getByTestId('notice-restart')).toContainText('nothing it published was missed');
    await expect(page.getByText('may be missing')).toHaveCount(0);
    await expect
      .poll(() => page.evaluate(() => window.__biomock?.ids().length ?? 0), { timeout: 15_000 })
      .toBeGreaterThan(seenBefore.length + 3);
    const ids = await page.evaluate(() => window.__biomock?.ids() ?? []);
    const after = await historyIds(backend.url);

    for (let i = 1; i < ids.length; i += 1) expect(ids[i]).toBeGreaterThan(ids[i - 1] ?? 0);
    const lastBefore = seenBefore.at(-1) ?? 0;
    expect(seenBefore).toEqual(expect.arrayContaining(before.filter((id) => id <= lastBefore)));
    expect(ids.slice(0, seenBefore.length)).toEqual(seenBefore);
    const newest = ids.at(-1) ?? 0;
    const expected = after.filter((id) => id <= newest);
    expect(expected.length).toBeGreaterThan(0);
    expect(ids.slice(seenBefore.length)).toEqual(expected);
    await expect(page.getByTestId('malformed')).toHaveText('0');
  } finally {
    await backend.stop();
  }
});

test("a refused stream shows its status and message, and is retried after the server's Retry-After", async ({
  page,
}) => {
  test.setTimeout(60_000);
  const backend = await startBackend(RESTART_PORT, { BIOMOCK_MAX_SUBSCRIBERS: '1' });
  // Another client holds the only place.
  const holder = new AbortController();
  const held = await fetch(`${backend.url}/api/stream`, { signal: holder.signal });
  expect(held.status).toBe(200);
  try {
    const attempts: number[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/stream') attempts.push(Date.now());
    });
    await page.goto(`${backend.url}/`);
    const banner = page.getByTestId('stream-error');
    await expect(banner).toContainText('503 too_many_subscribers');
    await expect(banner).toContainText('the server asked for 5.0 s');
    await expect(page.getByTestId('connection-state')).toHaveText(/reconnecting in \d/);
    await expect.poll(() => attempts.length, { timeout: 15_000 }).toBeGreaterThan(1);
    expect((attempts[1] ?? 0) - (attempts[0] ?? 0)).toBeGreaterThanOrEqual(4900);
    holder.abort();
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open', {
      timeout: 30_000,
    });
    await expect(banner).toBeHidden();
  } finally {
    holder.abort();
    await backend.stop();
  }
});

test('dashboard screenshot for the README', async ({ page }) => {
  await open(page, '?compare=');
  await setClock(page, { speed: 60 });
  try {
    await page.waitForTimeout(8000);
    await expect(page.getByLabel('Clock speed (× real time)')).toHaveValue('60');
    await expect.poll(() => linePixels(page, 'heart_rate', '#1f6fd1')).toBeGreaterThan(50);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
  } finally {
    await setClock(page, { speed: 1 });
  }
});
