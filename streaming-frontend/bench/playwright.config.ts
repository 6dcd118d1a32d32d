/** The chart benchmark: `npm run bench` (builds bench-dist/ first). Not part of `make test`. */
import { defineConfig } from '@playwright/test';
import { launchOptions } from '../e2e/chromium';

export default defineConfig({
  testDir: '.',
  testMatch: '*.bench.ts',
  timeout: 120_000,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: 'http://127.0.0.1:5194',
    browserName: 'chromium',
    launchOptions,
    viewport: { width: 1440, height: 900 },
  },
  webServer: {
    // Playwright runs this from bench/, where the config lives.
    command: 'npx vite preview --config vite.config.ts',
    url: 'http://127.0.0.1:5194/',
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
