// The Reports page (docs/console.md): wrap-ups per code and per queue from the aggregates
// query, as a table and an SVG chart, agreeing with the API's own answer.

const { test, expect, api, interaction, finalized, signIn, screenshot, SALE } = require('./fixtures');

/** How many wrap-ups of `code` the aggregates query counts over the last `range`. */
async function countOf(code, range) {
  const r = await api('POST', '/api/v2/analytics/conversations/aggregates/query', {
    interval: `${range}/${new Date().toISOString()}`,
    groupBy: ['wrapUpCode'],
    metrics: ['tAcw'],
  });
  expect(r.status).toBe(200);
  const group = (r.body.results || []).find((g) => g.group.wrapUpCode === code);
  return group ? group.data.reduce((n, d) => n + d.metrics[0].stats.count, 0) : 0;
}

test('the Reports page shows wrap-ups per code and per queue, with a chart', async ({ page }) => {
  const id = await interaction(['active', 'closed']);
  await finalized(id);
  const put = await api('PUT', `/api/v2/interactions/${id}/wrap-up`, { codeId: SALE, durationMs: 1000 });
  expect(put.status).toBe(204);
  const sales = await countOf(SALE, 'P1D');
  expect(sales).toBeGreaterThan(0);

  await signIn(page);
  await page.getByRole('link', { name: 'Reports' }).click();
  await expect(page.getByRole('heading', { name: 'Reports' })).toBeVisible();
  const row = page.locator(`#report-codes tr[data-key="${SALE}"]`);
  await expect(row.locator('td').first()).toHaveText('Sale');
  await expect(row.locator('[data-column="count"]')).toHaveText(String(sales));
  await expect(page.locator(`#report-codes svg [data-bar="${SALE}"] rect`)).toBeVisible();
  await expect(page.locator('#report-queues')).toBeVisible();
  await screenshot(page, 'reports', { fullPage: true });

  // Another interval, through the form: the address keeps it.
  await page.locator('#report-range').selectOption('P7D');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/#\/reports\?range=P7D$/);
  await expect(row.locator('[data-column="count"]')).toHaveText(String(await countOf(SALE, 'P7D')));
});
