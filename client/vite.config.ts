import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { pdfjsAssets } from './pdfjs-assets.vite.js';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [pdfjsAssets()],
  build: {
    outDir: path.resolve(root, '../dist/client'),
    // Keep the previous build's hashed files: several test runs (and a running server) may be
    // serving dist/client while someone rebuilds; wiping it first made their pages 404 mid-test.
    // Stale chunks are harmless (content-hashed names); `rm -rf dist` to tidy up.
    emptyOutDir: false,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    proxy: {
      '/api': 'http://localhost:3000',
      '/socket.io': { target: 'http://localhost:3000', ws: true },
      '/yjs': { target: 'ws://localhost:3000', ws: true },
    },
  },
});
