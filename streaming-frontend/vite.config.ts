/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The backend the dev server proxies to; `DASHBOARD_BACKEND=http://127.0.0.1:9000 npm run dev`.
const backend = process.env.DASHBOARD_BACKEND ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    port: 5193,
    strictPort: true,
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/healthz': { target: backend, changeOrigin: true },
      '/metrics': { target: backend, changeOrigin: true },
    },
  },
  preview: { host: '127.0.0.1', port: 5193, strictPort: true },
  // No source maps in what is shipped: the dashboard's sources stay in the repository.
  build: { outDir: 'dist', sourcemap: false },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    testTimeout: 10_000,
  },
});
