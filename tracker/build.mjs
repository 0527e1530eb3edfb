// Build the tracker and copy the replay vendor files into the Python package.
//
//   npm ci && npm run build
//
// Produces (all gitignored build output):
//   src/replayvault/web/static/replayvault.js              tracker IIFE (window.replayvault)
//   src/replayvault/web/static/vendor/rrweb.umd.js         rrweb UMD (window.rrweb)
//   src/replayvault/web/static/vendor/rrweb-player.umd.js  rrweb-player UMD (window.rrwebPlayer)
//   src/replayvault/web/static/vendor/rrweb-player.css     rrweb-player styles
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const staticDir = join(here, '..', 'src', 'replayvault', 'web', 'static');
const vendorDir = join(staticDir, 'vendor');
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const rrwebVersion = JSON.parse(readFileSync(join(here, 'node_modules', 'rrweb', 'package.json'), 'utf8')).version;

mkdirSync(vendorDir, { recursive: true });

const out = join(staticDir, 'replayvault.js');
await build({
  entryPoints: [join(here, 'src', 'index.js')],
  outfile: out,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2019'],
  minify: true,
  legalComments: 'none',
  // Pages may redefine the global `self` (e.g. `var self = null;`), which breaks rrweb's worker
  // loader (`self.Blob`); in a page's main thread `self` is `window`, so bind it at build time.
  define: { self: 'window' },
  banner: { js: `/* replayvault tracker ${pkg.version} (rrweb ${rrwebVersion}) */` },
  logLevel: 'warning',
});

const copies = [
  ['rrweb/dist/rrweb.umd.cjs', 'rrweb.umd.js'],
  ['rrweb-player/dist/rrweb-player.umd.cjs', 'rrweb-player.umd.js'],
  ['rrweb-player/dist/style.css', 'rrweb-player.css'],
];
for (const [from, to] of copies) copyFileSync(join(here, 'node_modules', from), join(vendorDir, to));

for (const f of [out, ...copies.map(([, to]) => join(vendorDir, to))]) {
  console.log(`${relative(join(here, '..'), f)}  ${(statSync(f).size / 1024).toFixed(1)} KiB`);
}
