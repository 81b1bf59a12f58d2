import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

const PDFJS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../node_modules/pdfjs-dist');
/** pdf.js data the viewer loads at run time: CJK character maps, the 14 standard fonts, ICC profiles, wasm decoders. */
const DIRS = ['cmaps', 'standard_fonts', 'iccs', 'wasm'];

/**
 * Self-hosts pdf.js's run-time data under `/pdfjs/<dir>/` (tablets in a meeting room may have no
 * internet): copied from node_modules into the build, and served from node_modules by the dev server.
 */
export function pdfjsAssets(): Plugin {
  return {
    name: 'ec-pdfjs-assets',
    configureServer(server) {
      server.middlewares.use('/pdfjs', (req, res, next) => {
        const rel = decodeURIComponent((req.url ?? '').split('?')[0]).replace(/^\/+/, '');
        const [dir, name] = rel.split('/');
        if (!DIRS.includes(dir) || !name || name.includes('..')) return next();
        const file = path.join(PDFJS, dir, name);
        if (!fs.existsSync(file)) return next();
        res.setHeader('cache-control', 'public, max-age=86400');
        fs.createReadStream(file).pipe(res);
      });
    },
    generateBundle() {
      for (const dir of DIRS) {
        const from = path.join(PDFJS, dir);
        if (!fs.existsSync(from)) continue;
        for (const name of fs.readdirSync(from)) {
          if (!fs.statSync(path.join(from, name)).isFile()) continue;
          this.emitFile({ type: 'asset', fileName: `pdfjs/${dir}/${name}`, source: fs.readFileSync(path.join(from, name)) });
        }
      }
    },
  };
}
