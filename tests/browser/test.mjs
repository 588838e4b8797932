// Loads the demo entry pages through nginx in Debian's headless Chromium and reads back from the
// page what the injected scripts did.   node test.mjs http://127.0.0.1:PORT
import { chromium } from 'playwright-core';

const base = process.argv[2];
let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - browser: ${name}`); }
  else { failed++; console.log(`not ok - browser: ${name}\n    # ${JSON.stringify(detail)}`); }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function visit(cookies, path) {
  const ctx = await browser.newContext();
  if (cookies.length) await ctx.addCookies(cookies.map(([name, value]) => ({ name, value, url: base })));
  const page = await ctx.newPage();
  await page.goto(base + path, { waitUntil: 'load' });
  const state = await page.evaluate(() => ({
    config: window.GRAY_CONFIG,
    banner: document.getElementById('gray-banner')?.textContent,
    meta: document.querySelector('meta[name=gray-version]')?.content,
    script: document.getElementById('script-version')?.textContent,
    h1: document.querySelector('h1')?.textContent,
    bannerIsFirst: document.body.firstElementChild?.id === 'gray-banner',
  }));
  const jar = await ctx.cookies();
  await ctx.close();
  return { state, jar };
}

for (const [who, cookies, version, beta] of [
  ['base user', [], 'base', false],
  ['gray user', [['userid', '00000002']], 'gray', true],
]) {
  const { state, jar } = await visit(cookies, '/app1');
  check(`${who}: injected global config holds the feature map`,
    state.config && state.config.FEATURES && state.config.FEATURES['beta-user'] === beta
      && state.config.release === version, state);
  check(`${who}: body.first banner right after <body>`, state.bannerIsFirst
    && state.banner === `served by frontend-gray, version ${version}`, state);
  check(`${who}: head injection with {version}`, state.meta === version, state);
  check(`${who}: the page's asset came from the same version`, state.script === `script of version ${version}`, state);
  check(`${who}: x-higress-tag cookie`, jar.some(c => c.name === 'x-higress-tag' && c.value === version && c.httpOnly), jar);
}

// localStorage: the injected script copies the id into a cookie and reloads exactly once
{
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  let documents = 0;
  page.on('request', r => { if (r.resourceType() === 'document') documents++; });
  await page.goto(base + '/ls', { waitUntil: 'load' });
  const first = await page.evaluate(() => window.GRAY_CONFIG.release);
  check('localStorage: no id yet: base, no reload', first === 'base' && documents === 1, { first, documents });
  await page.evaluate(() => localStorage.setItem('token', '00000002'));
  documents = 0;
  await page.reload({ waitUntil: 'load' });
  // the script's own reload follows the one above; wait until it has settled
  for (let i = 0; i < 50 && documents < 2; i++) await page.waitForTimeout(100);
  await page.waitForLoadState('load');
  await page.waitForTimeout(300);
  const after = await page.evaluate(() => ({ release: window.GRAY_CONFIG.release, beta: window.GRAY_CONFIG.FEATURES['beta-user'], cookie: document.cookie }));
  check('localStorage: copied into the cookie, reloaded exactly once, now gray',
    documents === 2 && after.release === 'gray' && after.beta === true && /(^|; )token=00000002/.test(after.cookie),
    { documents, after });
  await ctx.close();
}

await browser.close();
console.log(`browser tests: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
