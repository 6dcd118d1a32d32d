/**
 * The e2e suite runs once per transport: each Playwright project sets
 * `transport`, and every page the tests open carries it in its address
 * (`transport=ws`), as a user's link would.
 */
import { test as base } from '@playwright/test';

export type Transport = 'sse' | 'ws';

export interface TransportOptions {
  transport: Transport;
}

/** `url` with the transport in its query string (SSE is the default, so left out). */
export function withTransport(url: string, transport: Transport): string {
  if (transport === 'sse') return url;
  const parsed = new URL(url, 'http://relative.invalid');
  parsed.searchParams.set('transport', transport);
  return parsed.origin === 'http://relative.invalid'
    ? `${parsed.pathname}${parsed.search}${parsed.hash}`
    : parsed.href;
}

export const test = base.extend<TransportOptions>({
  transport: ['sse', { option: true }],
  page: async ({ page, transport }, provide) => {
    const goto = page.goto.bind(page);
    page.goto = (url, options) => goto(withTransport(url, transport), options);
    await provide(page);
  },
});

export { expect } from '@playwright/test';
