/**
 * End-to-end tests: the built dashboard served by the real biomock backend,
 * in Debian's Chromium. `npm run build` first (the Makefile does).
 */
import { defineConfig } from '@playwright/test';
import { launchOptions } from './e2e/chromium';
import type { TransportOptions } from './e2e/fixtures';

export const E2E_PORT = 18931;

export default defineConfig<TransportOptions>({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  // The whole suite once over each transport; the build check needs no browser, so runs once.
  projects: [
    { name: 'sse', use: { transport: 'sse' } },
    { name: 'ws', use: { transport: 'ws' }, testIgnore: 'build.spec.ts' },
  ],
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    browserName: 'chromium',
    launchOptions,
    viewport: { width: 1440, height: 900 },
    colorScheme: 'light',
    serviceWorkers: 'block',
    trace: 'off',
    screenshot: 'off',
  },
  webServer: {
    command: `../.venv/bin/biomock serve --host 127.0.0.1 --port ${E2E_PORT} --static-dir dist`,
    url: `http://127.0.0.1:${E2E_PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: { BIOMOCK_SEED: '7', BIOMOCK_GRACEFUL_TIMEOUT_S: '1' },
  },
});
