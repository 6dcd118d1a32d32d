/**
 * The event inspector against the real backend: frames as they arrived,
 * filtered; exports that parse back to the same ids; and the copied curl
 * command, run for real, resumes the stream right after the chosen frame.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Page, expect, test } from '@playwright/test';
import { historyIds } from './backend';
import { linePixels, setClock } from './pixels';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const SHOTS =
  process.env.UPDATE_SCREENSHOT === '1'
    ? path.join(ROOT, '..', 'docs', 'img')
    : path.join(ROOT, 'test-results');

async function download(page: Page, button: string): Promise<string> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ]);
  return fs.readFileSync(await file.path(), 'utf8');
}

async function shownCount(page: Page): Promise<number> {
  const text = (await page.getByTestId('frame-count').textContent()) ?? '';
  return Number(text.split(' of ')[0]?.replace(/,/g, ''));
}

test('the inspector filters frames, exports them, and its curl command resumes after one', async ({
  page,
  context,
  baseURL,
}) => {
  test.setTimeout(90_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL ?? '' });
  await page.goto('/?inspector=1');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await setClock(page, { speed: 60 });
  try {
    await expect.poll(() => shownCount(page), { timeout: 20_000 }).toBeGreaterThan(20);
    await page.getByTestId('filter-type').selectOption('heart_rate');
    // Nothing new while the files are saved: both must hold the same frames.
    await setClock(page, { paused: true });
    await page.waitForTimeout(1000);
    const shown = await shownCount(page);
    expect(shown).toBeGreaterThan(5);

    const ndjson = (await download(page, 'Save NDJSON'))
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: number; data: { type: string; id: number } });
    const csvIds = (await download(page, 'Save CSV'))
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((row) => Number(row.split(',')[0]));
    const ids = ndjson.map((frame) => frame.id);
    expect(ids).toHaveLength(shown);
    expect(csvIds).toEqual(ids);
    for (const frame of ndjson) {
      expect(frame.data.type).toBe('heart_rate');
      expect(frame.data.id).toBe(frame.id);
    }
    const buffered = new Set(await historyIds(baseURL ?? ''));
    for (const id of ids) expect(buffered.has(id)).toBe(true);

    // The oldest heart-rate frame shown: its JSON, its point on the chart, and the curl after it.
    // Stop following, go to the top of the list, and choose the row of the oldest id exported.
    await page.getByRole('checkbox', { name: 'Follow new frames' }).uncheck();
    await page.getByTestId('frame-list').evaluate((list) => {
      list.scrollTop = 0;
    });
    const chosen = ids[0] ?? 0;
    await page
      .getByTestId('frame-row')
      .filter({ hasText: String(chosen) })
      .click();
    await expect(page.getByTestId('frame-detail')).toContainText(`"id": ${chosen}`);
    await expect(page.getByTestId('frame-detail')).toContainText('"type": "heart_rate"');
    await expect.poll(() => linePixels(page, 'heart_rate', '#d97706')).toBeGreaterThan(10);
    await page.getByRole('button', { name: 'Copy curl that resumes from here' }).click();
    await expect(page.getByText('Copied to the clipboard.')).toBeVisible();
    const command = await page.evaluate(() => navigator.clipboard.readText());
    expect(command).toBe(await page.getByTestId('curl').textContent());
    expect(command).toContain(`last_event_id=${chosen}`);

    const { stdout } = await run('bash', ['-c', `${command} --max-time 3 || true`], { timeout: 15_000 });
    const streamed = [...stdout.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const after = [...buffered].filter((id) => id > chosen).sort((a, b) => a - b);
    expect(streamed.length).toBeGreaterThan(5);
    // Right after the chosen frame, every type, with no gap.
    expect(streamed.slice(0, 5)).toEqual(after.slice(0, 5));
    expect(streamed[0]).toBe(chosen + 1);

    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, 'inspector.png'), fullPage: false });
  } finally {
    await setClock(page, { paused: false, speed: 1 });
  }
});
