// The gzipped JavaScript the first route loads: the entry script of dist/index.html and
// the chunks it preloads (its static imports). Lazy pages are counted apart.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const first = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

let total = 0;
for (const f of first) {
  const n = gz(f);
  total += n;
  console.log(`first route  ${f.padEnd(40)} ${kb(n)}`);
}
for (const f of readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js') && !first.includes(`assets/${f}`)).sort()) {
  console.log(`lazy         ${`assets/${f}`.padEnd(40)} ${kb(gz(`assets/${f}`))}`);
}
console.log(`first-route JavaScript, gzipped: ${kb(total)} (budget 500 KB)`);
if (total > 500 * 1024) {
  console.error('over the 500 KB budget: split the new code into a lazy chunk');
  process.exit(1);
}
