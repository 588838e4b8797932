// Unattended release in a real browser (Debian's headless Chromium, playwright-core): pages
// are loaded as a user would, the status JSON is polled until the guard or the rollout moves.
//   node browser.mjs jserror|asset404|walk|dashboard http://127.0.0.1:PORT PLAYWRIGHT_PACKAGE_JSON
// (tests/browser/package.json: playwright-core is installed there)
import { createRequire } from 'module';

const [scenario, base, pkg] = process.argv.slice(2);
const { chromium } = createRequire(pkg)('playwright-core');
// before the browser starts (that takes a while): the rollout's first step
const initial = await (await fetch(`${base}/gray/status?format=json`)).json();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function beta() {
  const r = await fetch(`${base}/gray/status?format=json`);
  return (await r.json()).apps.app.deployments.beta;
}

async function until(what, seconds, step) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await step();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
  }
}

async function load(page) {
  const resp = await page.goto(base + '/index.html', { waitUntil: 'load' });
  return { h1: await page.textContent('h1'), title: await page.title(), status: resp.status() };
}

let summary;
try {
  if (scenario === 'jserror' || scenario === 'asset404') {
    const ctx = await browser.newContext();
    await ctx.addCookies([{ name: 'userid', value: 'u2', url: base }]);
    const page = await ctx.newPage();
    const beacons = [];
    page.on('request', r => { if (r.url().includes('/gray/beacon')) beacons.push(r.url()); });
    const first = await load(page);
    if (first.h1 !== 'v2') throw new Error(`first view not on gray: ${JSON.stringify(first)}`);
    let views = 0;
    const d = await until('rolledBack', 40, async () => {
      views++;
      await load(page);
      const b = await beta();
      return b.state === 'rolledBack' ? b : null;
    });
    // the next page load in the same browser gets base, and base's assets
    const after = await load(page);
    if (after.h1 !== 'v1') throw new Error(`after the rollback: ${JSON.stringify(after)}`);
    if (scenario === 'jserror') {
      if (after.title !== 'v1 ok') throw new Error(`base's script did not run: ${after.title}`);
      if (!(d.jsErrors >= 3) || !beacons.length) throw new Error(`reports did not arrive: ${d.jsErrors}, ${beacons.length} beacons`);
      if (!d.guard.rollback.reason.includes('maxErrorRate')) throw new Error(d.guard.rollback.reason);
    } else {
      if (!(d.asset404 >= 3) || d.jsErrors !== 0) throw new Error(`asset404 ${d.asset404}, jsErrors ${d.jsErrors}`);
    }
    summary = `${scenario}: rolled back after ${views + 1} page views (${d.guard.rollback.reason}); next load on v1`;
  } else if (scenario === 'walk') {
    const b0 = initial.apps.app.deployments.beta;
    const seen = [`${b0.state}:${b0.rollout.step}:${b0.weight}`];
    let views = 0;
    const d = await until('promoted', 40, async () => {
      const ctx = await browser.newContext(); // a new user each time
      const page = await ctx.newPage();
      const errors = [];
      page.on('pageerror', e => errors.push(String(e)));
      const v = await load(page);
      await ctx.close();
      if (errors.length) throw new Error(`page errors on a healthy version: ${errors}`);
      views++;
      const b = await beta();
      const key = `${b.state}:${b.rollout.step}:${b.weight}`;
      if (seen[seen.length - 1] !== key) seen.push(key);
      return b.state === 'promoted' ? b : null;
    });
    const want = ['rollout:1:30', 'rollout:2:60', 'rollout:3:100', 'promoted:3:100'];
    if (JSON.stringify(seen.filter(k => want.includes(k))) !== JSON.stringify(want)) throw new Error(`steps seen: ${seen}`);
    if (d.guard.rollback !== null) throw new Error('rolled back');
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const v = await load(page);
    if (v.h1 !== 'v2' || v.title !== 'v2 ok') throw new Error(`after promotion a new user got ${JSON.stringify(v)}`);
    summary = `walk: ${seen.join(' -> ')} over ${views} page views; a new user then gets v2`;
  } else if (scenario === 'dashboard') {
    // the dashboard's buttons pause, resume and reset the rollout
    const page = await browser.newPage();
    await page.goto(base + '/gray/status?format=html', { waitUntil: 'load' });
    const steps = [];
    for (const [label, want] of [['pause', 'paused'], ['resume', 'rollout'], ['reset', 'rollout']]) {
      const gen = Number(await page.getAttribute('body', 'data-generation'));
      await page.click(`button[data-cmd="${label}"][data-for="beta"]`);
      await until(`${label} -> ${want}`, 10, async () => {
        const g = Number(await page.getAttribute('body', 'data-generation'));
        const b = await beta();
        return g > gen && b.state === want;
      });
      steps.push(`${label}: ${want}`);
    }
    const shown = await page.textContent('tr[data-deployment="beta"]');
    if (!shown.includes('step 1/2')) throw new Error(`the row shows ${shown}`);
    summary = `dashboard: ${steps.join(', ')}; the row shows the step`;
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
} finally {
  await browser.close();
}
console.log(summary);
