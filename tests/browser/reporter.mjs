// The JS error reporter script (core/src/release/reporter.rs) alone in headless Chromium: pages
// served by page.route (no nginx), the beacons it sends counted.
//   node reporter.mjs SCRIPT_FILE      (the file written by the core test release::reporter::tests::dump)
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BEACON = '/gray/beacon';
const TOKEN = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE'; // TOK of that test
const ORIGIN = 'http://reporter.test';
const script = readFileSync(process.argv[2], 'utf8');

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok - reporter: ${name}`); }
  else { failed++; console.log(`not ok - reporter: ${name}\n    # ${JSON.stringify(detail)}`); }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Loads `html` as ORIGIN/ and returns the beacons sent, what `probe` reads from the page, and
// the page errors Chromium saw.
async function visit(html, probe = () => null, settle = 600) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const beacons = [], errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  await page.route(`${ORIGIN}/**`, async route => {
    const r = route.request(), url = new URL(r.url());
    // anything that looks like a report, so that one sent elsewhere is seen too
    if (url.pathname === BEACON || r.method() !== 'GET' || url.searchParams.has('t')) {
      beacons.push({ method: r.method(), path: url.pathname, t: url.searchParams.get('t'),
                     n: url.searchParams.get('n'), search: url.search, body: r.postData() ?? '' });
      return route.fulfill({ status: 204 });
    }
    if (url.pathname === '/') return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    if (url.pathname === '/app.js') return route.fulfill({ status: 200, contentType: 'text/javascript', body: 'function boom(){throw new Error("from app.js")}' });
    return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' });
  });
  await page.goto(`${ORIGIN}/`, { waitUntil: 'load' });
  await page.waitForTimeout(settle);
  const state = await page.evaluate(probe);
  await ctx.close();
  return { beacons, state, errors };
}

const page = (head, body = '') => `<!doctype html><html><head>${script}${head}</head><body>${body}</body></html>`;

// 7 uncaught errors (one per script, one from a timer, one from an external file) and 1 rejection
{
  let head = '<script src="/app.js"></script>';
  for (let i = 1; i <= 5; i++) head += `<script>throw new Error("e${i}")</script>`;
  head += '<script>setTimeout(function(){throw new Error("e6")},50);setTimeout(boom,100);'
        + 'setTimeout(function(){Promise.reject(new Error("r1"))},150)</script>';
  const { beacons, errors } = await visit(page(head));
  check('7 errors and 1 rejection: Chromium saw them all', errors.length === 8, errors);
  check('7 errors and 1 rejection: exactly 5 beacons', beacons.length === 5, beacons);
  check('beacons are POSTs to the beacon path', beacons.every(b => b.method === 'POST' && b.path === BEACON), beacons);
  check('beacons carry the token and n=1..5 in order, as ?t=TOKEN&n=SEQ',
    beacons.map(b => b.search).join() === [1, 2, 3, 4, 5].map(n => `?t=${TOKEN}&n=${n}`).join(), beacons);
  check('the body is "message filename:line:col"',
    /^Uncaught Error: e1 http:\/\/reporter\.test\/:1:\d+$/.test(beacons[0]?.body), beacons[0]);
}

// a rejection's reason as a string; an error's body at most 1000 characters
{
  const { beacons } = await visit(page('<script>Promise.reject(new Error("why"));'
    + 'setTimeout(function(){Promise.reject({toString:function(){return "obj"}})},50);'
    + 'setTimeout(function(){throw new Error("x".repeat(5000))},100)</script>'));
  check('a rejection reports its reason as a string',
    beacons[0]?.body === 'Error: why' && beacons[1]?.body === 'obj', beacons.map(b => b.body));
  check('a body has at most 1000 characters',
    beacons.length === 3 && beacons[2].body.length === 1000, beacons.map(b => b.body.length));
}

// no errors: nothing sent, no global; compared with the same page without the script
{
  const probe = () => ({ keys: Object.keys(window).sort(), own: Object.getOwnPropertyNames(window).length });
  const quiet = '<script>window.mine=1</script>', body = '<p>hello</p>';
  const { beacons, state, errors } = await visit(page(quiet, body), probe);
  const bare = await visit(`<!doctype html><html><head>${quiet}</head><body>${body}</body></html>`, probe);
  check('a page without errors: no beacon, no error', beacons.length === 0 && errors.length === 0, { beacons, errors });
  check('a page without errors: the same enumerable own properties of window as without the script',
    JSON.stringify(state.keys) === JSON.stringify(bare.state.keys),
    { with: state.keys.filter(k => !bare.state.keys.includes(k)), without: bare.state.keys.filter(k => !state.keys.includes(k)) });
  check('a page without errors: the same number of own properties of window (enumerable or not)',
    state.own === bare.state.own, { with: state.own, without: bare.state.own });
}

// a failed resource load is not reported
{
  const { beacons, state } = await visit(page('',
    '<img id=i src="/missing.png" onerror="window.imgFailed=true"><script src="/missing.js"></script>'
    + '<link rel=stylesheet href="/missing.css">'), () => window.imgFailed === true);
  check('a 404 image, script and stylesheet: no beacon', state === true && beacons.length === 0, { state, beacons });
}

// the page's own handlers still run, and see the event as if the script were not there
{
  const head = '<script>window.seen=[];window.onerror=function(m){seen.push("onerror:"+m)};'
    + 'addEventListener("error",function(e){seen.push("listener:"+e.defaultPrevented)});'
    + 'addEventListener("unhandledrejection",function(e){seen.push("rejection:"+e.defaultPrevented)});'
    + 'setTimeout(function(){throw new Error("mine")},0);Promise.reject(1)</script>';
  const { beacons, state } = await visit(page(head), () => window.seen);
  check("the page's window.onerror and listeners still run, nothing prevented",
    JSON.stringify(state?.slice().sort()) === JSON.stringify(['listener:false', 'onerror:Uncaught Error: mine', 'rejection:false']),
    state);
  check("with the page's handlers: both reported", beacons.length === 2, beacons);
}

// placed before anything else, even <!doctype> (parsed into an implied <head>): still works
{
  const { beacons } = await visit(`${script}<!doctype html><p>x</p><script>throw new Error("early")</script>`);
  check('placed before <!doctype>, in a page without <head>: reports', beacons.length === 1 && /early/.test(beacons[0].body), beacons);
}

// without navigator.sendBeacon: nothing, and no error of its own
{
  const { beacons, errors } = await visit(`<!doctype html><html><head><script>delete Navigator.prototype.sendBeacon</script>`
    + `${script}<script>throw new Error("lonely")</script></head></html>`);
  check('without navigator.sendBeacon: no beacon, no error of its own',
    beacons.length === 0 && errors.length === 1 && /lonely/.test(errors[0]), { beacons, errors });
}

await browser.close();
console.log(`reporter tests: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
