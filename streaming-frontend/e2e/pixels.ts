/** Reading the charts' canvases in the browser tests. */
import { type Page, expect } from '@playwright/test';

/** Pixels of one colour (within a small tolerance for anti-aliasing) on a chart's canvas. */
export async function linePixels(page: Page, type: string, hex: string): Promise<number> {
  const rgb = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return page.getByTestId(`chart-${type}`).evaluate((host, [r0, g0, b0]) => {
    const canvas = host.querySelector('canvas');
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const near =
        Math.abs((data[i] ?? 0) - (r0 ?? 0)) <= 12 &&
        Math.abs((data[i + 1] ?? 0) - (g0 ?? 0)) <= 12 &&
        Math.abs((data[i + 2] ?? 0) - (b0 ?? 0)) <= 12;
      if (near && (data[i + 3] ?? 0) > 200) count += 1;
    }
    return count;
  }, rgb);
}

/** The chart's canvas as a data URL: equal strings mean not one pixel moved. */
export async function chartPixels(page: Page, type: string): Promise<string> {
  return page
    .getByTestId(`chart-${type}`)
    .evaluate((host) => host.querySelector('canvas')?.toDataURL('image/png') ?? '');
}

export async function setClock(page: Page, change: { speed?: number; paused?: boolean }): Promise<void> {
  const response = await page.request.post('/api/clock', { data: change });
  expect(response.ok()).toBe(true);
}
