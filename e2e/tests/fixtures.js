// What every console test shares: the API driven from Node (as another client would),
// sign-in, screenshots, and two guards that run around every test: no request of the page
// goes to another origin, and the page meets no Content-Security-Policy violation.

const base = require('@playwright/test');
const fs = require('node:fs');
const path = require('node:path');

const DEMO = { id: '00000000-0000-4000-8000-00000000d001', secret: 'demo-secret-not-for-production' };
const SALES = '00000000-0000-4000-8000-0000000000a1';
const SALE = '00000000-0000-4000-8000-0000000000c1';
const SCREENSHOTS = process.env.WRAPUP_SCREENSHOTS || path.resolve(__dirname, '../../target/ci/console-screenshots');

const url = () => process.env.WRAPUP_URL;

async function token(client = DEMO) {
  const response = await fetch(`${url()}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }),
  });
  if (!response.ok) throw new Error(`token: ${response.status}`);
  return (await response.json()).access_token;
}

/** Calls the API as the demo client; returns {status, body}. */
async function api(method, pathname, body) {
  const headers = { Authorization: `Bearer ${await token()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${url()}${pathname}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** A new Sales interaction moved through `states` (e.g. ['active', 'closed']). */
async function interaction(states = []) {
  const created = await api('POST', '/api/v2/interactions', { divisionId: SALES, channel: 'voice' });
  for (const state of states) await api('POST', `/api/v2/interactions/${created.body.id}/state`, { state });
  return created.body.id;
}

/** Waits until the interaction is finalized (the server's settle time), reading it again. */
async function finalized(id) {
  for (let i = 0; i < 100; i++) {
    const r = await api('GET', `/api/v2/interactions/${id}`);
    if (r.body.finalized) return r.body;
    const left = Date.parse(r.body.finalizesAt) - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(50, Math.min(left + 50, 500))));
  }
  throw new Error(`interaction ${id} was not finalized`);
}

async function signIn(page, name = 'demo') {
  await page.goto('/');
  await page.locator(`[data-demo-client="${name}"]`).click();
  await base.expect(page.locator('#session')).toContainText(`Signed in as ${name}`);
}

/** Saves a screenshot of the page, from its top (the whole page with `fullPage`). */
async function screenshot(page, name, { fullPage = false } = {}) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}

const test = base.test.extend({
  /** Every request the page made, and every CSP violation it met. */
  guard: [async ({ page }, use) => {
    const requests = [];
    const violations = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
    await use({ requests, violations });
    const origin = new URL(url()).origin;
    const foreign = requests.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin);
    base.expect(foreign, 'requests to another origin').toEqual([]);
    base.expect(violations, 'Content-Security-Policy violations').toEqual([]);
  }, { auto: true }],
});

module.exports = { test, expect: base.expect, api, token, interaction, finalized, signIn, screenshot, url, DEMO, SALES, SALE };
