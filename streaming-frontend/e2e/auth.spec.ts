/**
 * The dashboard against a backend with authentication on (a tokens file):
 * it asks for a token, streams with a read-only one but offers no controls,
 * and offers them to a token with the control scope.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Backend, startBackend } from './backend';
import { expect, test } from './fixtures';

const AUTH_PORT = 18934;
const READ_TOKEN = 'read-only-e2e-token-0123456789abcdefghij';
const CONTROL_TOKEN = 'read-control-e2e-token-0123456789abcdefgh';

let backend: Backend;
let dir: string;

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'biomock-e2e-auth-'));
  const file = path.join(dir, 'tokens.toml');
  fs.writeFileSync(
    file,
    [
      '[[token]]',
      'name = "viewer"',
      `token = "${READ_TOKEN}"`,
      'scopes = ["read"]',
      '',
      '[[token]]',
      'name = "operator"',
      `token = "${CONTROL_TOKEN}"`,
      'scopes = ["read", "control"]',
      '',
    ].join('\n'),
  );
  backend = await startBackend(AUTH_PORT, { BIOMOCK_SEED: '7', BIOMOCK_AUTH_TOKENS_FILE: file });
});

test.afterAll(async () => {
  await backend.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('asks for a token; a read-only token shows data but no scenario controls', async ({ page }) => {
  await page.goto(`${backend.url}/`);
  await expect(page.getByTestId('token-why')).toContainText('needs an access token');
  await page.getByTestId('token-input').fill(READ_TOKEN);
  await page.getByTestId('token-submit').click();
  await expect(page.getByTestId('token-prompt')).toHaveCount(0);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
  await expect(page.getByTestId('identity')).toContainText('viewer (read)');
  await expect(page.getByTestId('no-control')).toBeVisible();
  await expect(page.getByTestId('switch-scenario')).toHaveCount(0);
  await expect(page.getByTestId('set-speed')).toHaveCount(0);

  // The token stays with the tab, and another one with the control scope gets the controls.
  await page.reload();
  await expect(page.getByTestId('identity')).toContainText('viewer');
  await page.getByTestId('change-token').click();
  await page.getByTestId('token-input').fill(CONTROL_TOKEN);
  await page.getByTestId('token-submit').click();
  await expect(page.getByTestId('identity')).toContainText('operator (read, control)');
  await expect(page.getByTestId('switch-scenario')).toBeEnabled();
  await expect(page.getByTestId('value-heart_rate')).toHaveText(/^\d+$/);
});

test("sessions keep the token flow: each token lists only its own, and another's is gone for it", async ({
  page,
}) => {
  const made = await fetch(`${backend.url}/api/sessions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${CONTROL_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ seed: 2, subjects: ['ivy'], ttl_s: 600 }),
  });
  expect(made.status).toBe(201);
  const { id } = (await made.json()) as { id: string };

  // The operator sees its session in the picker and watches it.
  await page.goto(`${backend.url}/?session=${id}`);
  await page.getByTestId('token-input').fill(CONTROL_TOKEN);
  await page.getByTestId('token-submit').click();
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect(page.getByTestId('subject')).toHaveValue('ivy');
  await expect(page.getByTestId('session-select').locator(`option[value="${id}"]`)).toHaveCount(1);
  await expect(page.getByTestId('delete-session')).toBeVisible();

  // The viewer's token does not own it: for that token it does not exist, and nothing to delete.
  await page.getByTestId('change-token').click();
  await page.getByTestId('token-input').fill(READ_TOKEN);
  await page.getByTestId('token-submit').click();
  await expect(page.getByTestId('session-gone')).toContainText('does not exist');
  await expect(page.getByTestId('delete-session')).toHaveCount(0);
  await expect(page.getByTestId('new-session')).toHaveCount(0);
  await page.getByTestId('leave-session').click();
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await expect(page.getByTestId('session-select').locator(`option[value="${id}"]`)).toHaveCount(0);
});
