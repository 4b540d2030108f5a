// The web console in a real browser against a real `wrapup serve --demo` (docs/console.md).
// Every test also checks (fixtures.js) that the page requested nothing from another origin
// and met no Content-Security-Policy violation.

const { execFileSync } = require('node:child_process');
const { test, expect, api, token, interaction, finalized, signIn, screenshot, url, SALE } = require('./fixtures');

test('sign-in offers the demo clients, and the overview shows the demo data', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.locator('[data-demo-client]')).toHaveCount(2);
  await screenshot(page, 'signin');
  await page.locator('[data-demo-client="demo"]').click();
  await expect(page.locator('#session')).toContainText('Signed in as demo');
  const sales = page.locator('#counts tr[data-division="Sales"]');
  await expect(sales.locator('[data-column="queued"]')).toHaveText('2');
  await expect(sales.locator('[data-column="active"]')).toHaveText('1');
  // 2 finalized, and the 5 calls in after-call work under the demo's queues (…1e1–…1e5).
  await expect(sales.locator('[data-column="finalized"]')).toHaveText('7');
  await expect(sales.locator('[data-column="completed"]')).toHaveText('2');
  await expect(sales.locator('[data-column="total"]')).toHaveText('12');
  await expect(page.locator('#counts tr[data-division="Support"] [data-column="total"]')).toHaveText('1');
  await expect(page.locator('#live-status')).toHaveText('live');
  // The token is in session storage, never in the address.
  expect(page.url()).not.toContain('token');
  const stored = await page.evaluate(() => Object.keys(sessionStorage));
  expect(stored).toEqual(['wrapup.console.session']);
  // A change made elsewhere reaches the live feed and the counts without a reload.
  const id = await interaction();
  await expect(page.locator(`#feed li[data-interaction="${id}"][data-kind="interaction.created"]`)).toBeVisible();
  await expect(sales.locator('[data-column="queued"]')).toHaveText('3');
  await screenshot(page, 'overview');
  // Sign-out forgets the token.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
});

test('an interaction closed through the API appears, counts down and turns finalized without a reload', async ({ page }) => {
  await signIn(page);
  await page.goto('/#/interactions');
  await expect(page.locator('#interactions tbody tr').first()).toBeVisible();
  await page.evaluate(() => { window.notReloaded = true; });
  const id = await interaction();
  const row = page.locator(`#interactions tr[data-id="${id}"]`);
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute('data-state', 'queued');
  await api('POST', `/api/v2/interactions/${id}/state`, { state: 'active' });
  await expect(row).toHaveAttribute('data-state', 'active');
  await api('POST', `/api/v2/interactions/${id}/state`, { state: 'closed' });
  await expect(row.locator('[data-countdown]')).toContainText('finalizes in');
  await screenshot(page, 'interactions');
  await expect(row).toHaveAttribute('data-finalized', 'true', { timeout: 15_000 });
  await expect(row.locator('[data-state="finalized"]')).toBeVisible();
  expect(await page.evaluate(() => window.notReloaded)).toBe(true);
});

test('a wrap-up applied through the form shows in the timeline and the history', async ({ page }) => {
  await signIn(page);
  const id = await interaction(['active', 'closed']);
  await page.goto(`/#/interactions/${id}`);
  await expect(page.locator('#state [data-countdown]')).toBeVisible();
  // Checked as typed: not finalized yet, so the server would refuse it for now.
  await page.locator('#apply-code').selectOption({ label: 'Sale' });
  await page.locator('#apply-duration').fill('120000');
  await expect(page.locator('#apply-verdict [data-valid="false"]')).toContainText('would refuse');
  await expect(page.locator('#apply-verdict')).toContainText('interaction.not.finalized');
  // The finalized event turns the verdict without a reload.
  await expect(page.locator('#apply-verdict [data-valid="true"]')).toBeVisible({ timeout: 15_000 });
  await page.locator('#apply-duration').fill('0');
  await expect(page.locator('#apply-duration')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#apply-duration-problem')).toContainText('durationMs must be');
  await page.locator('#apply-duration').fill('120000');
  await page.locator('#apply-notes').fill('Applied from the console');
  await expect(page.locator('#apply-verdict [data-valid="true"]')).toBeVisible();
  await page.getByRole('button', { name: 'Apply wrap-up' }).click();
  await expect(page.locator('#apply-answer [data-status="204"]')).toBeVisible();
  await expect(page.locator('#timeline')).toContainText('Wrap-up applied: Sale, 2 min');
  await expect(page.locator('#history tbody tr')).toHaveCount(1);
  await expect(page.locator('#history')).toContainText('Applied from the console');
  await expect(page.locator('#current-wrapup')).toContainText('Sale');
  await expect(page.locator('#state [data-state="completed"]')).toBeVisible();
  await screenshot(page, 'interaction', { fullPage: true });
  const applied = await api('GET', `/api/v2/interactions/${id}/wrap-up`);
  expect(applied.body).toMatchObject({ codeId: SALE, durationMs: 120000, notes: 'Applied from the console' });
});

test('a curl request with a nested code is diagnosed, diffed, and its corrected curl gets 204', async ({ page }) => {
  const id = await interaction(['active', 'closed']);
  await finalized(id);
  const TOKEN = await token();
  const sent = execFileSync('curl', ['-sS', '-X', 'PUT', '-H', `Authorization: Bearer ${TOKEN}`, '-H', 'Content-Type: application/json',
    '--data-raw', JSON.stringify({ wrapUpCode: { id: SALE }, durationMs: 120000 }), `${url()}/api/v2/interactions/${id}/wrap-up`]).toString();
  expect(JSON.parse(sent).code).toBe('request.field.unknown');

  await signIn(page);
  await page.goto('/#/requests?status=4xx');
  const row = page.locator('#requests tbody tr[data-status="400"]', { hasText: id }).first();
  await expect(row).toBeVisible();
  await screenshot(page, 'requests');
  await row.locator('a').click();
  await expect(page.locator('#diagnosis-summary')).toContainText('request.field.unknown');
  await expect(page.locator('#diagnosis-summary')).toContainText('Sent now, it would be accepted (204)');
  await expect(page.locator('#problems')).toContainText('wrapup.code.missing');
  const diff = page.locator('.diff');
  await expect(diff.locator('.line.del').first()).toBeVisible();
  await expect(diff.locator('.line.add', { hasText: `"codeId": "${SALE}"` })).toBeVisible();
  await expect(page.locator('#changes')).toContainText('wrapUpCode.id holds the code id');
  await expect(page.locator('#headers')).toContainText('Bearer [redacted]');
  await expect(page.locator('#headers')).not.toContainText(TOKEN);
  await expect(page.locator('#error-body')).toContainText('request.field.unknown');
  await screenshot(page, 'request', { fullPage: true });

  const sentCurl = await page.locator('#curl-sent').textContent();
  const fixedCurl = await page.locator('#curl-fixed').textContent();
  for (const command of [sentCurl, fixedCurl]) {
    expect(command).toContain('"Authorization: Bearer $TOKEN"');
    expect(command).not.toContain(TOKEN);
  }
  const answer = execFileSync('bash', ['-c', fixedCurl], { env: { ...process.env, TOKEN } }).toString();
  expect(answer.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 204/);
  const applied = await api('GET', `/api/v2/interactions/${id}/wrap-up`);
  expect(applied.body.codeId).toBe(SALE);
});

test('a viewer token cannot see the apply form, and what it lacks is named', async ({ page }) => {
  await signIn(page, 'demo-viewer');
  await expect(page.locator('#nav [data-missing-scope="admin"]')).toContainText('needs admin');
  await page.goto('/#/interactions/00000000-0000-4000-8000-0000000000e3');
  await expect(page.locator('#timeline')).toBeVisible();
  await expect(page.locator('#apply-form')).toHaveCount(0);
  await expect(page.locator('[data-missing-scope="interaction:write"]')).toContainText('needs the scope interaction:write');
  await expect(page.locator('[data-missing-scope="interaction:manage"]')).toBeVisible();
  await page.goto('/#/requests');
  await expect(page.locator('main [data-missing-scope="admin"]')).toBeVisible();
  await screenshot(page, 'viewer');
});

test('the fault switch turns on and off', async ({ page }) => {
  await signIn(page);
  await page.goto('/#/sandbox');
  await expect(page.locator('#chaos-current')).toHaveText('off');
  try {
    await page.locator('#chaos-preset').selectOption('503=10%');
    await page.locator('#chaos-apply').click();
    await expect(page.locator('#chaos-current')).toHaveText('503=10%');
    expect((await api('GET', '/api/v2/admin/chaos')).body.spec).toBe('503=10%');
    await screenshot(page, 'sandbox');
    await page.locator('#chaos-off').click();
    await expect(page.locator('#chaos-current')).toHaveText('off');
    expect((await api('GET', '/api/v2/admin/chaos')).body.spec).toBe('off');
  } finally {
    await api('PUT', '/api/v2/admin/chaos', { spec: 'off' });
  }
});

test('the traffic generator drives interactions through the API', async ({ page }) => {
  await signIn(page);
  await page.goto('/#/sandbox');
  await page.locator('#gen-rate').fill('10');
  await page.locator('#gen-count').fill('5');
  await page.locator('#gen-close-min').fill('0');
  await page.locator('#gen-close-max').fill('0.5');
  await page.locator('#gen-abandon').fill('40');
  await page.locator('#gen-start').click();
  await expect(page.locator('#gen-stats')).toContainText('5 created', { timeout: 15_000 });
  await expect(page.locator('#gen-stats')).toContainText('5 closed', { timeout: 15_000 });
  await expect(page.locator('#gen-stats')).toContainText('0 errors');
  await expect(page.locator('#gen-start')).toBeEnabled({ timeout: 15_000 });
});

test('the apply flow works with the keyboard only', async ({ page }) => {
  const id = await interaction(['active', 'closed']);
  await finalized(id);
  await signIn(page);
  await page.goto(`/#/interactions/${id}`);
  await page.reload(); // a fresh document: the focus starts at the top
  await expect(page.locator('#apply-form')).toBeVisible();
  const focused = () => page.evaluate(() => document.activeElement && document.activeElement.id);
  // The skip link comes first, then the navigation, then the page.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement.textContent)).toBe('Skip to content');
  for (let i = 0; i < 60 && (await focused()) !== 'apply-code'; i++) await page.keyboard.press('Tab');
  expect(await focused()).toBe('apply-code');
  await page.keyboard.type('Sale');
  await expect(page.locator('#apply-code option:checked')).toHaveText('Sale');
  await page.keyboard.press('Tab');
  expect(await focused()).toBe('apply-duration');
  await page.keyboard.type('90000');
  await page.keyboard.press('Tab');
  expect(await focused()).toBe('apply-notes');
  await page.keyboard.type('By keyboard');
  await expect(page.locator('#apply-verdict [data-valid="true"]')).toBeVisible();
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement.textContent)).toBe('Apply wrap-up');
  await page.keyboard.press('Enter');
  await expect(page.locator('#apply-answer [data-status="204"]')).toBeVisible();
  await expect(page.locator('#history')).toContainText('By keyboard');
});

test('every page loads from this origin only, and the API reference tries requests with the token', async ({ page, guard }) => {
  await signIn(page);
  await page.goto('/#/codes');
  await expect(page.locator('#codes tr[data-code="Sale"]')).toBeVisible();
  await page.locator('#include-archived').check();
  await expect(page.locator('#codes tr[data-code="Legacy sale"]')).toHaveAttribute('data-archived', 'true');
  await screenshot(page, 'codes');

  await page.goto('/#/reference');
  const operation = page.locator('#operations-interactions-countInteractions');
  await expect(operation).toBeVisible({ timeout: 30_000 });
  await screenshot(page, 'reference');
  await operation.locator('.opblock-summary-control').click();
  await operation.getByRole('button', { name: 'Try it out' }).click();
  await operation.getByRole('button', { name: 'Execute' }).click();
  await expect(operation.locator('.live-responses-table tbody .response-col_status').first()).toHaveText('200');

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/#/');
  await expect(page.locator('#counts')).toBeVisible();
  await screenshot(page, 'overview-dark');
  expect(guard.requests.length).toBeGreaterThan(10);
});

test('console responses carry the security headers, and the API paths are unchanged', async () => {
  const page = await fetch(`${url()}/`);
  expect(page.status).toBe(200);
  const csp = page.headers.get('content-security-policy');
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self';");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  expect(page.headers.get('x-frame-options')).toBe('DENY');
  const html = await page.text();
  const asset = /src="(\/console\/[0-9a-f]+\/js\/app\.js)"/.exec(html)[1];
  const js = await fetch(`${url()}${asset}`);
  expect(js.headers.get('cache-control')).toContain('immutable');
  expect(js.headers.get('content-security-policy')).toContain("default-src 'self'");
  for (const path of ['/healthz', '/api/v2/openapi.json']) expect((await fetch(`${url()}${path}`)).status).toBe(200);
  expect((await fetch(`${url()}/api/v2/interactions`)).status).toBe(401);
});

test('a webhook endpoint is created, tested, replayed and disabled from its page', async ({ page }) => {
  const http = require('node:http');
  const received = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push({ id: req.headers['webhook-id'], body }); res.writeHead(204).end(); });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const target = `http://127.0.0.1:${receiver.address().port}/hooks`;
  let id;
  try {
    await signIn(page);
    await page.goto('/#/webhooks');
    await page.locator('#webhook-url').fill(target);
    await page.locator('#webhook-description').fill('console test');
    await page.locator('#webhook-create button[type="submit"]').click();
    await expect(page.locator('#webhook-secret')).toContainText('whsec_');
    const row = page.locator('#webhooks tr', { hasText: target });
    await expect(row).toBeVisible();
    id = await row.getAttribute('data-webhook');
    await row.locator('a').click();
    await expect(page.getByRole('heading', { name: 'Webhook endpoint' })).toBeVisible();
    // A test delivery reaches the receiver and shows in the log.
    await page.locator('#webhook-test').click();
    await expect(async () => {
      await page.locator('#deliveries-refresh').click();
      await expect(page.locator('#deliveries tr[data-result="delivered"]').first()).toBeVisible({ timeout: 500 });
    }).toPass({ timeout: 15000 });
    expect(received.length).toBeGreaterThan(0);
    // A replay from the first event queues the log again; its deliveries show with their sequence.
    await page.locator('#replay-from').fill('1');
    await page.locator('#webhook-replay button[type="submit"]').click();
    await expect(page.locator('.toast').last()).toContainText('Replaying events 1 to');
    await expect(async () => {
      await page.locator('#deliveries-refresh').click();
      await expect(page.locator('#deliveries tr[data-sequence="1"]').first()).toBeVisible({ timeout: 500 });
    }).toPass({ timeout: 15000 });
    await screenshot(page, 'webhook');
    // Disabled from the page, as the API then says.
    await page.locator('#webhook-toggle').click();
    await expect(page.locator('#webhook-toggle')).toHaveText('Enable');
    expect((await api('GET', `/api/v2/webhooks/${id}`)).body.enabled).toBe(false);
  } finally {
    if (id) await api('DELETE', `/api/v2/webhooks/${id}`);
    receiver.close();
  }
});
