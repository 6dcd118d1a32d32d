/** Builds the benchmark page (bench/index.html) into bench-dist/; not part of the dashboard. */
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  plugins: [react()],
  build: { outDir: path.join(here, '..', 'bench-dist'), emptyOutDir: true },
  preview: { host: '127.0.0.1', port: 5194, strictPort: true },
});
