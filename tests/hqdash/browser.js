// browser.js — HQ's dashboard and a shopper page in a real browser:
// Debian's Chromium, headless, driven by playwright-core (no browser
// download). Run by hqdash_test.sh:
//   node browser.js BASE USER PASSWORD EXPECT.json ARTIFACT_DIR [SHOPPER_URL]
// EXPECT.json (made by the test from /v1/stats and the database):
//   {"today": "YYYY-MM-DD", "totals": {"signups_today": N, ...},
//    "stores": {"ID": {"signups_today": N, "checkins_today": N, "scans_today": N,
//               "staff": {"anna": N}, "events_behind": N, "groups": ["g1", ...]}},
//    "shopper_link": "https://..."}
// For a laptop (1280x800) and a phone (390x844): log in, read the totals
// and every expected store's row, open each store's page and read its
// figures, staff and groups, check that no 11-digit number is on any
// page, open the shopper page (group link and QR image), log out.
// Screenshots: ARTIFACT_DIR/{dash,store-ID,shopper}-{laptop,phone}.png.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [base, user, password, expectFile, artifacts, shopperUrl] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(expectFile, 'utf8'));
let failures = 0;
function check(ok, what) {
  if (ok) {
    console.log(`ok - ${what}`);
  } else {
    failures++;
    console.log(`not ok - ${what}`);
  }
}
const num = (s) => parseInt(String(s).trim(), 10);
// Each shopper page this script opens is a scan of SH-JA01's code too.
let ownScans = 0;
const shopperStore = 'SH-JA01';

async function noLongDigits(page, where) {
  const text = await page.evaluate(() => document.documentElement.outerHTML);
  check(!/\d{11}/.test(text), `${where}: no run of 11 digits (a phone number) in the page`);
}

async function run(browser, vp) {
  const ctx = await browser.newContext({
    viewport: { width: vp.width, height: vp.height },
    isMobile: vp.mobile, hasTouch: vp.mobile, ignoreHTTPSErrors: true,
  });
  const page = await ctx.newPage();
  const tag = vp.name;
  await page.goto(`${base}/dash`);
  check(page.url().endsWith('/dash/login'), `${tag}: /dash without a session leads to the login`);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(`${base}/dash`), page.click('#login button[type=submit]')]);
  check((await page.textContent('#admin')).trim() === user, `${tag}: logged in as ${user}`);
  const cookies = await ctx.cookies();
  const c = cookies.find((k) => k.name === '__Host-sqr_session');
  check(c && c.secure && c.httpOnly && c.sameSite === 'Strict' && c.path === '/',
        `${tag}: session cookie is Secure, HttpOnly, SameSite=Strict, Path=/`);
  check(await page.evaluate(() => document.cookie.indexOf('sqr_session') < 0),
        `${tag}: the page's script cannot read the session cookie`);

  for (const [id, w] of Object.entries(expect.totals)) {
    const want = id.startsWith('scans') ? w + ownScans : w;
    const got = num(await page.textContent(`#total-${id.replace(/_/g, '-')}`));
    check(got === want, `${tag}: total ${id} = ${got} (want ${want})`);
  }
  for (const [sid, want] of Object.entries(expect.stores)) {
    const row = page.locator(`#stores tr[data-store="${sid}"]`);
    check(await row.count() === 1, `${tag}: ${sid} has a row in the stores table`);
    const su = num(await row.locator('.signups-today').textContent());
    check(su === want.signups_today, `${tag}: ${sid} sign-ups today ${su} (want ${want.signups_today})`);
    const s7 = num(await row.locator('.signups-7d').textContent());
    check(s7 === want.signups_today, `${tag}: ${sid} sign-ups 7 d ${s7}`);
    const sync = await row.locator('.last-sync').getAttribute('class');
    check(!/stale/.test(sync), `${tag}: ${sid} synced just now is not stale`);
    const behind = num(await row.locator('.last-sync').getAttribute('data-events-behind'));
    check(behind === want.events_behind, `${tag}: ${sid} events behind ${behind} (want ${want.events_behind})`);
  }
  const bars = await page.locator('#chart-signups rect').count();
  check(bars === 30, `${tag}: the 30-day chart has 30 bars (${bars})`);
  const todayBar = await page.locator(`#chart-signups rect[data-day="${expect.today}"]`).getAttribute('data-signups');
  check(num(todayBar) === expect.totals.signups_today, `${tag}: today's bar is ${todayBar}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `${tag}: the page fits the screen's width (overflow ${overflow}px)`);
  await noLongDigits(page, `${tag} /dash`);
  await page.screenshot({ path: path.join(artifacts, `dash-${tag}.png`), fullPage: true });

  for (const [sid, want] of Object.entries(expect.stores)) {
    await Promise.all([page.waitForURL(`${base}/dash/store/${sid}`),
                       page.click(`#stores tr[data-store="${sid}"] td.id a`)]);
    const name = (await page.textContent('#store-name')).trim();
    check(name.includes(want.name), `${tag}: store page of ${sid} names it (${name})`);
    for (const k of ['signups_today', 'checkins_today', 'scans_today']) {
      const got = num(await page.textContent(`#store-${k.replace(/_/g, '-')}`));
      const w = want[k] + (k === 'scans_today' && sid === shopperStore ? ownScans : 0);
      check(got === w, `${tag}: ${sid} ${k} = ${got} (want ${w})`);
    }
    const day = page.locator(`#daily tr[data-day="${expect.today}"]`);
    check(num(await day.locator('.signups').textContent()) === want.signups_today,
          `${tag}: ${sid} daily table, today's sign-ups`);
    for (const [staff, n] of Object.entries(want.staff)) {
      const got = num(await page.textContent(`#staff tr[data-staff="${staff}"] .signups`));
      check(got === n, `${tag}: ${sid} staff ${staff} signed up ${got} (want ${n})`);
    }
    for (const g of want.groups) {
      check(await page.locator(`#groups tr[data-group="${g}"] .bar`).count() === 1,
            `${tag}: ${sid} group ${g} with a fill bar`);
    }
    if (want.near_expiry) {
      check(await page.locator('#groups td.expires.warn').count() === want.near_expiry,
            `${tag}: ${sid} shows ${want.near_expiry} group(s) expiring soon`);
    }
    check(await page.locator('#kiosks tr[data-kiosk="1"] .last-sync:not(.stale)').count() === 1,
          `${tag}: ${sid} kiosk 1 synced recently`);
    const kb = num(await page.textContent('#kiosks tr[data-kiosk="1"] .events-behind'));
    check(kb === want.events_behind, `${tag}: ${sid} kiosk 1 events behind ${kb}`);
    await noLongDigits(page, `${tag} /dash/store/${sid}`);
    await page.screenshot({ path: path.join(artifacts, `store-${sid}-${tag}.png`), fullPage: true });
    await page.goto(`${base}/dash`);
  }

  if (shopperUrl) {
    const sp = await ctx.newPage();
    await sp.goto(shopperUrl);
    ownScans++;
    const href = await sp.getAttribute('#join-link', 'href');
    check(href === expect.shopper_link, `${tag}: shopper page links the group (${href})`);
    const qr = await sp.evaluate(() => {
      const i = document.querySelector('#group-qr');
      return i ? i.complete && i.naturalWidth > 0 : false;
    });
    check(qr, `${tag}: shopper page shows the group's QR image`);
    await noLongDigits(sp, `${tag} shopper page`);
    await sp.screenshot({ path: path.join(artifacts, `shopper-${tag}.png`), fullPage: true });
    await sp.close();
    // the resolver writes its counters every second (RESOLVE_FLUSH_MS):
    // let this scan reach the table before the next run reads the totals
    await new Promise((r) => setTimeout(r, 2500));
  }

  await Promise.all([page.waitForURL(`${base}/dash/login`), page.click('#logout')]);
  await page.goto(`${base}/dash`);
  check(page.url().endsWith('/dash/login'), `${tag}: after logging out /dash asks for a login`);
  await ctx.close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    headless: true,
  });
  try {
    await run(browser, { name: 'laptop', width: 1280, height: 800, mobile: false });
    await run(browser, { name: 'phone', width: 390, height: 844, mobile: true });
  } finally {
    await browser.close();
  }
  console.log(failures ? `browser: ${failures} check(s) failed` : 'browser: all checks passed');
  process.exit(failures ? 1 : 0);
})().catch((e) => {
  console.error(`browser: ${e.stack || e}`);
  process.exit(1);
});
