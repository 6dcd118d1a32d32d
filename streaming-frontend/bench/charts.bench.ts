/**
 * 6 charts x 10,000 points, one new point per chart per frame, in headless
 * Chromium: main-thread ms per frame (median, p95) and the frame rate
 * reached, written into docs/performance.md between the dashboard markers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';

const DOC = path.resolve(import.meta.dirname, '..', '..', 'docs', 'performance.md');
const BEGIN = '<!-- dashboard:begin -->';
const END = '<!-- dashboard:end -->';

interface BenchResult {
  frames: number[];
  elapsedMs: number;
  charts: number;
  pointsPerChart: number;
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

test('6 charts x 10,000 points at 60 fps', async ({ page, browser }) => {
  await page.goto('/');
  await page.waitForFunction(
    () => (window as unknown as { __bench?: { done: boolean } }).__bench?.done === true,
    undefined,
    { timeout: 60_000, polling: 500 },
  );
  const result = await page.evaluate(
    () => (window as unknown as { __bench: { result: BenchResult } }).__bench.result,
  );
  // The charts really drew: every canvas has the line's pixels.
  const drawn = await page.locator('[data-testid^="chart-"] canvas').evaluateAll((canvases) =>
    canvases.map((canvas) => {
      const context = (canvas as HTMLCanvasElement).getContext('2d');
      if (context === null) return 0;
      const { data } = context.getImageData(
        0,
        0,
        (canvas as HTMLCanvasElement).width,
        (canvas as HTMLCanvasElement).height,
      );
      let count = 0;
      for (let i = 0; i < data.length; i += 4)
        if ((data[i + 3] ?? 0) > 200 && (data[i + 2] ?? 0) > 150) count += 1;
      return count;
    }),
  );
  expect(drawn).toHaveLength(6);
  for (const pixels of drawn) expect(pixels).toBeGreaterThan(100);

  const sorted = [...result.frames].sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  const p95 = percentile(sorted, 95);
  const fps = (result.frames.length / result.elapsedMs) * 1000;
  const cpu = (os.cpus()[0]?.model ?? 'unknown CPU').trim().replace(/\s+/g, ' ');
  const table = [
    BEGIN,
    `Measured with \`make frontend-bench\` (\`streaming-frontend/bench/charts.bench.ts\`): ${result.charts} uPlot charts`,
    `of ${result.pointsPerChart.toLocaleString('en-US')} points each, fed through the dashboard's store with one new sample`,
    'per chart on every animation frame, each chart updated with `setData`; headless Chromium',
    `${browser.version()} (software rendering, \`--disable-gpu\`), 1440x900, ${os.cpus().length} cores (${cpu},`,
    `load average ${os.loadavg()[0]?.toFixed(1)} while it ran: the machine is shared, so figures vary).`,
    'Main-thread time per frame runs from the start of the frame callback to the end of that',
    "frame's work (parsing, store, React commit, six uPlot redraws and the rendering update).",
    '',
    '| charts x points | frames | frame rate | main-thread ms/frame, median | p95 |',
    '| --- | --- | --- | --- | --- |',
    `| ${result.charts} x ${result.pointsPerChart.toLocaleString('en-US')} | ${result.frames.length} | ${fps.toFixed(1)} fps | ${median.toFixed(2)} | ${p95.toFixed(2)} |`,
    '',
    `Budget at 60 fps: 16.7 ms per frame. Measured ${new Date().toISOString().slice(0, 10)}.`,
    END,
  ].join('\n');
  const doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '# Performance\n';
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  const updated =
    start >= 0 && end > start
      ? doc.slice(0, start) + table + doc.slice(end + END.length)
      : `${doc.trimEnd()}\n\n## Dashboard\n\n${table}\n`;
  fs.writeFileSync(DOC, updated);
  console.log(table);
  expect(fps).toBeGreaterThan(30);
});
