import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { pdfjsAssets } from './pdfjs-assets.vite.js';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [
    pdfjsAssets(),
    // Installable app + service worker (client/sw.ts, docs/OFFLINE.md). Registered by main.ts.
    VitePWA({
      strategies: 'injectManifest',
      srcDir: '.',
      filename: 'sw.ts',
      injectRegister: false,
      manifest: {
        name: 'E-Cabinet — Phòng họp không giấy',
        short_name: 'E-Cabinet',
        description: 'Phòng họp không giấy: tài liệu, biểu quyết, biên bản và nhiệm vụ',
        lang: 'vi',
        start_url: '/meetings',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        background_color: '#ffffff',
        theme_color: '#152d55',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      injectManifest: {
        // The whole shell, the self-hosted fonts and pdf.js data (cmaps, standard fonts, wasm): a meeting
        // room may have no internet at all, and the tablet may have no network.
        globPatterns: ['**/*.{js,mjs,css,html,woff,woff2,png,svg,bcmap,pfb,ttf,wasm,icc,webmanifest}'],
        globIgnores: ['**/*.map'],
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        rollupFormat: 'iife',
      },
    }),
  ],
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
