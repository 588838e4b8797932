// The status dashboard in headless Chromium (SPEC §9, §10): it is self-contained, shows each
// version's share of entries and error rate, refreshes itself, and its "switch all traffic to
// this version" button pins the app (the next request gets that version).
//   node dashboard.mjs http://127.0.0.1:PORT PLAYWRIGHT_PACKAGE_JSON
import { createRequire } from 'module';

const [base, pkg] = process.argv.slice(2);
const { chromium } = createRequire(pkg)('playwright-core');
let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - dashboard: ${name}`); }
  else { failed++; console.log(`not ok - dashboard: ${name}\n    # ${JSON.stringify(detail)}`); }
}
async function get(path, headers = {}) {
  const r = await fetch(base + path, { headers });
  return [r.status, await r.text()];
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // 3 base entries, 1 beta entry, 1 asset 404 on base
  for (let i = 0; i < 3; i++) await get('/');
  await get('/', { Cookie: 'userid=u2' });
  await get('/missing.js');

  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const urls = [];
  page.on('request', r => urls.push(r.url()));
  await page.goto(base + '/gray/status', { waitUntil: 'load' });
  const row = v => `table[data-app="app"] tr[data-version="${v}"]`;
  await page.waitForSelector(row('v1'), { timeout: 5000 });
  const cells = async v => page.$eval(row(v), tr => ({
    share: tr.querySelector('.share').textContent,
    rate: tr.querySelector('.rate').textContent,
    cls: tr.className,
    cols: [...tr.children].map(td => td.textContent),
  }));
  const v1 = await cells('v1'), v2 = await cells('v2'), v3 = await cells('v3');
  check('each version\'s share of entries', v1.share === '75.0 %' && v2.share === '25.0 %' && v3.share === '0.0 %',
    { v1, v2, v3 });
  // base: 1 asset 404 over 4 requests; beta: no errors
  check('each version\'s error rate', v1.rate === '25.0 %' && v2.rate === '0.0 %', { v1, v2 });

  // it refreshes itself: two more beta entries show up without a reload
  await get('/', { Cookie: 'userid=u2' });
  await get('/', { Cookie: 'userid=u2' });
  await page.waitForFunction(() => {
    const tr = document.querySelector('table[data-app="app"] tr[data-version="v2"]');
    return tr && tr.querySelector('.share').textContent === '50.0 %';
  }, null, { timeout: 6000 }).then(() => check('refreshes itself', true),
    async e => check('refreshes itself', false, { error: String(e), v2: await cells('v2') }));

  // the one-click switch
  const [before] = [(await get('/'))[1]];
  await page.click(`${row('v3')} button[data-pin="v3"]`);
  await page.waitForSelector(`${row('v3')}.pinned`, { timeout: 5000 }).catch(() => {});
  const after = await get('/');
  const status = JSON.parse((await get('/gray/status?format=json'))[1]);
  check('its button pins the app: the next request gets that version',
    before === 'v1\n' && after[1] === 'v3\n' && status.apps.app.pinned === 'v3'
      && (await cells('v3')).cls === 'pinned', { before, after, pinned: status.apps.app.pinned });

  await page.click('button[data-unpin="app"]');
  await page.waitForFunction(() => !document.querySelector('tr.pinned'), null, { timeout: 5000 }).catch(() => {});
  check('unpin goes back to the configured split', (await get('/'))[1] === 'v1\n', {});

  const foreign = urls.filter(u => !u.startsWith(base + '/gray/status'));
  check('self-contained: every request of the page goes to the status location', foreign.length === 0
    && urls.length >= 2, { foreign, n: urls.length });
  await ctx.close();

  // without write=on: no buttons
  const ro = await browser.newPage();
  await ro.goto(base + '/ro/status', { waitUntil: 'load' });
  await ro.waitForSelector('table[data-app="app"] tr[data-version="v1"]', { timeout: 5000 });
  check('read-only dashboard has no buttons', (await ro.$$('button')).length === 0, {});
  await ro.close();
} finally {
  await browser.close();
}
console.log(`dashboard tests: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
