import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, expect, vi } from 'vitest';

/**
 * A state update outside act() means a test asserted before React finished
 * (or missed an update entirely): such a warning fails the test that caused it.
 */
let actWarnings: string[] = [];

beforeEach(() => {
  actWarnings = [];
  const original = console.error.bind(console);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (text.includes('not wrapped in act')) actWarnings.push(text.split('\n')[0] ?? text);
    else original(...args);
  });
});

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  expect(actWarnings, 'React updates outside act()').toEqual([]);
});
