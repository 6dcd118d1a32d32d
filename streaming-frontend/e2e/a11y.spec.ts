/**
 * Accessibility with axe-core (WCAG 2.1 A and AA rules) on the running
 * dashboard, in both themes and with the inspector open: no serious or
 * critical violation. And what axe cannot judge: live regions that stay quiet
 * while counts move, and charts that say what they show.
 */
import AxeBuilder from '@axe-core/playwright';
import { type Page, expect, test } from '@playwright/test';

async function serious(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const theme of ['light', 'dark'] as const) {
  test(`axe finds no serious or critical violation (${theme}, inspector open)`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: theme });
    await page.goto('/');
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
    await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
    expect(await serious(page)).toEqual([]);
    await page.getByRole('button', { name: 'Inspector' }).click();
    await expect(page.getByTestId('frame-row').first()).toBeVisible({ timeout: 15_000 });
    await page.getByTestId('frame-row').first().click();
    await page.getByRole('button', { name: 'Pause view' }).click();
    expect(await serious(page)).toEqual([]);
  });
}

test('live regions stay quiet while counts move, and charts describe their data', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  const live = page.locator('[aria-live], [role="status"], [role="alert"]');
  const before = await live.allTextContents();
  await page.waitForTimeout(3000);
  // Counters and values moved meanwhile, but nothing announced changed.
  expect(await live.allTextContents()).toEqual(before);
  const chart = page.getByRole('img', { name: 'Heart rate chart' });
  await expect(chart).toHaveAccessibleDescription(
    /Heart rate: \d+ points from .* UTC to .* UTC; lowest \d+ bpm/,
  );
});

test('motion is reduced when the system asks for it', async ({ page }) => {
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto('/');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  const duration = await page
    .getByRole('button', { name: 'Pause view' })
    .evaluate((button) => getComputedStyle(button).transitionDuration);
  expect(Number.parseFloat(duration)).toBeLessThan(0.001);
});
