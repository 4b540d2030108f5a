// Issue 30, "the console's first look is calm": one test per point, each failing on the
// console as it was before. They share the server of console.spec.js (which runs first), so
// they look for what they made themselves.

const { test, expect, api, interaction, finalized, signIn, screenshot, SALES, SALE } = require('./fixtures');

test('signed out there is no empty sidebar: the sign-in page takes the width', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.locator('#nav')).toBeHidden();
  expect((await page.locator('#main').boundingBox()).x).toBe(0);
  await signIn(page);
  await expect(page.locator('#nav')).toBeVisible();
  await expect(page.locator('#nav a', { hasText: 'Request log' })).toBeVisible();
  expect((await page.locator('#main').boundingBox()).x).toBeGreaterThan(100);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.locator('#nav')).toBeHidden();
});

test('an untouched apply form shows no problem; a field shows its own once changed, all show at Apply', async ({
  page,
}) => {
  const id = await interaction(['active', 'closed']);
  await finalized(id);
  await signIn(page);
  await page.goto(`/#/interactions/${id}`);
  const form = page.locator('#apply-form');
  // The dry run of the empty body has answered: it is held back, not shown in red.
  await expect(page.locator('#apply-verdict [data-untouched]')).toBeVisible();
  await expect(page.locator('#apply-code-problem')).toBeEmpty();
  await expect(page.locator('#apply-duration-problem')).toBeEmpty();
  await expect(form.locator('[aria-invalid="true"]')).toHaveCount(0);
  await expect(form.locator('.notice.bad, .notice.warn')).toHaveCount(0);
  await expect(page.locator('#apply-submit')).toBeEnabled();
  // Choosing a code shows the verdict; the duration, not touched yet, is named, not red.
  await page.locator('#apply-code').selectOption({ label: 'Sale' });
  await expect(page.locator('#apply-verdict [data-valid="false"]')).toContainText('Not filled in yet: the duration.');
  await expect(page.locator('#apply-duration-problem')).toBeEmpty();
  await expect(page.locator('#apply-code')).toHaveAttribute('aria-invalid', 'false');
  // Apply shows every problem beside its field.
  await page.locator('#apply-submit').click();
  await expect(page.locator('#apply-duration-problem')).toContainText('durationMs');
  await expect(page.locator('#apply-duration')).toHaveAttribute('aria-invalid', 'true');
});

test('the duration field says its unit with an example, and an empty field looks empty', async ({ page }) => {
  const id = await interaction();
  await signIn(page);
  await page.goto(`/#/interactions/${id}`);
  const duration = page.locator('#apply-duration');
  await expect(duration).toHaveValue('');
  expect(await duration.getAttribute('placeholder')).toBeNull();
  await expect(page.locator('label[for="apply-duration"]')).toHaveText('Duration, in milliseconds');
  await expect(page.locator('#apply-duration-help')).toContainText('for example 120000 for 2 minutes');
  await duration.fill('90000');
  await expect(page.locator('#apply-duration-help')).toContainText('You entered 1 min 30 s.');
});

test('Apply is disabled before the close, waits for finalization while settling, and no refusal outlives a newer verdict', async ({
  page,
}) => {
  await signIn(page);
  // Not closed yet: Apply is disabled, and says why.
  const active = await interaction(['active']);
  await page.goto(`/#/interactions/${active}`);
  await expect(page.locator('#apply-form button[type="submit"]')).toBeDisabled();
  await expect(page.locator('#apply-ready')).toContainText('The interaction is active');

  // Settling: "Apply when finalized" waits for the interaction.finalized event, then sends.
  const id = await interaction(['active', 'closed']);
  await page.goto(`/#/interactions/${id}`);
  await expect(page.locator('#apply-ready')).toContainText('Not finalized yet');
  await expect(page.locator('#apply-submit')).toHaveText('Apply when finalized');
  await page.locator('#apply-code').selectOption({ label: 'Sale' });
  await page.locator('#apply-duration').fill('60000');
  await page.locator('#apply-notes').fill('Sent when finalized');
  await expect(page.locator('#apply-verdict')).toContainText('interaction.not.finalized');
  await page.locator('#apply-submit').click();
  await expect(page.locator('#apply-ready [data-waiting]')).toBeVisible();
  await expect(page.locator('#apply-submit')).toBeDisabled();
  await expect(page.locator('#apply-cancel')).toBeVisible();
  await screenshot(page, 'interaction-waiting', { fullPage: true });
  await expect(page.locator('#apply-answer [data-status="204"]')).toBeVisible({ timeout: 15_000 });
  await expect(page.locator('#apply-verdict [data-valid="true"]')).toBeVisible();
  await expect(page.locator('#apply-answer .notice.bad')).toHaveCount(0);
  await expect(page.locator('#apply-ready')).toBeHidden();
  await expect(page.locator('#apply-submit')).toHaveText('Apply wrap-up');
  const applied = await api('GET', `/api/v2/interactions/${id}/wrap-up`);
  expect(applied.body).toMatchObject({ codeId: SALE, durationMs: 60000, notes: 'Sent when finalized' });
  // One PUT only, after the finalization: nothing was sent to be refused.
  const recorded = await api('GET', `/api/v2/inspector/requests?path=${encodeURIComponent(`/api/v2/interactions/${id}/wrap-up`)}`);
  const puts = recorded.body.entities.filter((r) => r.method === 'PUT');
  expect(puts.map((r) => r.status)).toEqual([204]);

  // A refusal stays only until a newer verdict: a corrected body replaces it.
  const other = await interaction(['active', 'closed']);
  await finalized(other);
  await page.goto(`/#/interactions/${other}`);
  await page.locator('#apply-code').selectOption({ label: 'Sale' });
  await page.locator('#apply-duration').fill('0');
  await page.locator('#apply-submit').click();
  await expect(page.locator('#apply-answer [data-status="400"]')).toBeVisible();
  await page.locator('#apply-duration').fill('120000');
  await expect(page.locator('#apply-verdict [data-valid="true"]')).toBeVisible();
  await expect(page.locator('#apply-answer [data-status="400"]')).toHaveCount(0);
});

test('the interactions list is newest first and says so; oldest first adds new ones at the end', async ({ page }) => {
  const before = await interaction();
  await signIn(page);
  await page.goto('/#/interactions');
  const rows = page.locator('#interactions tbody tr');
  await expect(page.locator('#interactions caption')).toContainText('newest first: new ones are added at the top');
  await expect(rows.first()).toHaveAttribute('data-id', before);
  const created = await interaction();
  await expect(rows.first()).toHaveAttribute('data-id', created);
  await expect(rows.nth(1)).toHaveAttribute('data-id', before);

  // Oldest first, on one page: the new one is added at the end, where the order puts it.
  const create = async () => (await api('POST', '/api/v2/interactions', { divisionId: SALES, channel: 'callback' })).body.id;
  const first = await create();
  await page.goto('/#/interactions?channel=callback');
  await page.locator('#filter-sortOrder').selectOption('asc');
  await expect(page).toHaveURL(/sortOrder=asc/);
  await expect(page.locator('#interactions caption')).toContainText('oldest first: new ones are added at the end');
  // The newest callback so far ends the list; the demo data's callback comes first.
  await expect(rows.last()).toHaveAttribute('data-id', first);
  const oldest = await rows.first().getAttribute('data-id');
  expect(oldest).not.toBe(first);
  const last = await create();
  await expect(rows.last()).toHaveAttribute('data-id', last);
  await expect(rows.last().locator('.badge', { hasText: 'new' })).toBeVisible();
  await expect(rows.first()).toHaveAttribute('data-id', oldest);
});

test("the request log hides the console's own requests unless asked, and shows the others", async ({ page }) => {
  await signIn(page);
  await expect(page.locator('#counts')).toBeVisible(); // the overview's reads and event stream
  const mistake = '/api/v2/interactions/not-an-interaction-id';
  expect((await api('GET', mistake)).status).toBeGreaterThanOrEqual(400);
  await page.goto('/#/requests');
  const rows = page.locator('#requests tbody tr');
  await expect(rows.filter({ hasText: mistake }).first()).toBeVisible();
  await expect(rows.filter({ hasText: '/api/v2/interactions/events' })).toHaveCount(0);
  await expect(rows.filter({ hasText: '/api/v2/interactions/wrap-up-activity' })).toHaveCount(0);
  await expect(page.locator('#show-console')).not.toBeChecked();
  await expect(page.locator('#requests tbody tr[data-console="true"]')).toHaveCount(0);
  await expect(page.locator('#console-hidden')).toContainText("of the console's own requests");
  await screenshot(page, 'requests-others');

  // Shown on request, marked.
  await page.locator('#show-console').check();
  await expect(page).toHaveURL(/console=show/);
  await expect(rows.filter({ hasText: '/api/v2/interactions/events' }).first()).toBeVisible();
  const own = rows.filter({ hasText: '/api/v2/interactions/wrap-up-activity' }).first();
  await expect(own.locator('.badge.console')).toHaveText('console');
  await expect(rows.filter({ hasText: mistake }).first()).toHaveAttribute('data-console', 'false');
  // How it is told apart: the header the console sends, as the inspector recorded it.
  await own.locator('a').click();
  await expect(page.locator('#headers')).toContainText('x-wrapup-console');
  await page.goto('/#/requests');
  await expect(page.locator('#show-console')).not.toBeChecked();
  await expect(rows.filter({ hasText: '/api/v2/interactions/events' })).toHaveCount(0);
});
