/**
 * The dashboard against the real backend, as a developer uses it: values
 * arrive and change, charts draw, scenarios and the clock can be driven, a
 * backend restart is survived without losing samples, and nothing leaves
 * this machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { historyIds, startBackend } from './backend';

const ROOT = path.resolve(import.meta.dirname, '..');
/** The README's picture is refreshed only when asked: `UPDATE_SCREENSHOT=1 npx playwright test`. */
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? path.join(ROOT, '..', 'docs', 'img', 'dashboard.png')
    : path.join(ROOT, 'test-results', 'dashboard.png');
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
    return !(protocol === 'data:' || hostname === '127.0.0.1');
  });
  expect(elsewhere, 'requests that left 127.0.0.1').toEqual([]);
});

async function heartRate(page: Page): Promise<number> {
  const text = (await page.getByTestId('value-heart_rate').textContent()) ?? '';
  return Number(text.replace(/[^\d.]/g, ''));
}

/** Pixels of the chart's line colour on a chart's canvas (the axes and grid are grey). */
async function linePixels(page: Page, type: string): Promise<number> {
  return page.getByTestId(`chart-${type}`).evaluate((host) => {
    const canvas = host.querySelector('canvas');
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r = 0, g = 0, b = 0, a = 0] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 200 && b > 150 && b - r > 80 && b - g > 30) count += 1;
    }
    return count;
  });
}

async function setClock(page: Page, change: { speed?: number; paused?: boolean }): Promise<void> {
  const response = await page.request.post('/api/clock', { data: change });
  expect(response.ok()).toBe(true);
}

test('values arrive and change, and the charts draw them', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
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
  await expect.poll(() => linePixels(page, 'heart_rate'), { timeout: 10_000 }).toBeGreaterThan(50);
  await expect(page.getByTestId('rate')).not.toHaveText('0.0');
  await expect(page.getByTestId('subscribers')).toHaveText(/^[1-9]\d*$/);
  await expect(page.getByTestId('malformed')).toHaveText('0');
});

test('the controls are labelled and reachable from the keyboard', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Pause view' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: 'Resume view' })).toHaveAttribute('aria-pressed', 'true');
  const frozen = await page.getByTestId('last-id').textContent();
  await page.waitForTimeout(2500);
  await expect(page.getByTestId('last-id')).toHaveText(frozen ?? '');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('last-id')).not.toHaveText(frozen ?? '');
  for (const label of ['Subject', 'Time window', 'Theme']) {
    await expect(page.getByLabel(label, { exact: true })).toBeVisible();
  }
  await page.getByLabel('Theme').selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.setViewportSize({ width: 420, height: 900 });
  // Charts follow their card's width (a ResizeObserver): nothing sticks out once they have.
  await expect
    .poll(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth))
    .toBeLessThanOrEqual(0);
});

test('switching to workout raises heart rate', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  const speed = page.getByLabel('Clock speed (× real time)');
  await expect(speed).toHaveValue('1');
  await speed.fill('60');
  await page.getByRole('button', { name: 'Set speed' }).click();
  await expect(page.getByTestId('sim-feedback')).toHaveText('Clock speed 60×');
  try {
    // Start from rest whatever the time of day (a normal day may include a run).
    const rest = await page.request.post('/api/scenario', {
      data: { subject: 'default', scenario: 'sleep' },
    });
    expect(rest.ok()).toBe(true);
    await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
    await page.waitForTimeout(4000);
    const resting = await heartRate(page);
    await page.getByTestId('scenario').selectOption('workout');
    await page.getByRole('button', { name: /^Switch / }).click();
    await expect(page.getByTestId('sim-feedback')).toContainText('is now in workout');
    await expect
      .poll(() => heartRate(page), { timeout: 45_000, intervals: [500] })
      .toBeGreaterThan(Math.max(resting + 20, 100));
  } finally {
    await setClock(page, { speed: 1 });
  }
});

test('a restarted backend shows reconnecting, then resumes with no gap in ids', async ({ page }) => {
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
    await expect(state).toHaveAttribute('data-state', 'open', { timeout: 20_000 });
    await expect(page.getByTestId('backend-down')).toBeHidden();
    await expect
      .poll(() => page.evaluate(() => window.__biomock?.ids().length ?? 0), { timeout: 15_000 })
      .toBeGreaterThan(seenBefore.length + 3);
    const ids = await page.evaluate(() => window.__biomock?.ids() ?? []);
    const after = await historyIds(backend.url);

    // Ids strictly increase: nothing twice, nothing out of order.
    for (let i = 1; i < ids.length; i += 1) expect(ids[i]).toBeGreaterThan(ids[i - 1] ?? 0);
    // Before the stop: everything the first backend published up to our last id.
    const lastBefore = seenBefore.at(-1) ?? 0;
    expect(seenBefore).toEqual(expect.arrayContaining(before.filter((id) => id <= lastBefore)));
    expect(ids.slice(0, seenBefore.length)).toEqual(seenBefore);
    // After the restart: everything the new backend has published up to our newest id.
    const newest = ids.at(-1) ?? 0;
    const expected = after.filter((id) => id <= newest);
    expect(expected.length).toBeGreaterThan(0);
    expect(ids.slice(seenBefore.length)).toEqual(expected);
    await expect(page.getByTestId('malformed')).toHaveText('0');
  } finally {
    await backend.stop();
  }
});

test('dashboard screenshot for the README', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await setClock(page, { speed: 60 });
  try {
    await page.waitForTimeout(8000);
    await expect(page.getByLabel('Clock speed (× real time)')).toHaveValue('60');
    await expect.poll(() => linePixels(page, 'heart_rate')).toBeGreaterThan(50);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  } finally {
    await setClock(page, { speed: 1 });
  }
});
