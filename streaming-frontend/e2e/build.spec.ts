/** What is shipped: the built dashboard carries no source maps, and the server has none to give. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';

const DIST = path.resolve(import.meta.dirname, '..', 'dist');

test('the shipped dashboard has no source maps', async ({ request }) => {
  const files = fs.readdirSync(DIST, { recursive: true }).map(String);
  const scripts = files.filter((f) => f.endsWith('.js'));
  expect(scripts.length).toBeGreaterThan(0);
  expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  for (const script of scripts) {
    expect(fs.readFileSync(path.join(DIST, script), 'utf8')).not.toContain('sourceMappingURL');
    const response = await request.get(`/${script}.map`);
    expect(response.status()).toBe(404);
  }
});
