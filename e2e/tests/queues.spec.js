// Queues, agents and after-call work in the console (docs/console.md, "Queues"): an
// interaction of a queue shows its queue, agent, prompt and the countdown to the prompt's
// timeout, the system's timeout code as such, a Skip button where the prompt allows it and
// the queue's codes in the picker; the Queues page lists, creates, changes and deletes queues
// and their codes, shows a refusal with the API's message, lists the agents and creates one.

const { test, expect, api, interaction, finalized, signIn, screenshot, SALES, SALE } = require('./fixtures');

const ADA = '00000000-0000-4000-8000-0000000001a1';
const QUEUE_OPTIONAL = '00000000-0000-4000-8000-0000000001b2';
const CALL_UNDER_TIMEOUT = '00000000-0000-4000-8000-0000000001e3';

/** A Sales interaction of `queueId` answered by Ada, closed. */
async function queued(queueId) {
  const created = await api('POST', '/api/v2/interactions', { divisionId: SALES, channel: 'voice', queueId, agentId: ADA });
  expect(created.status).toBe(201);
  const id = created.body.id;
  await api('POST', `/api/v2/interactions/${id}/state`, { state: 'active' });
  await api('POST', `/api/v2/interactions/${id}/state`, { state: 'closed' });
  return id;
}

test("an interaction of a queue shows its queue, agent, prompt, the countdown to the timeout and the queue's codes", async ({ page }) => {
  await signIn(page);
  await page.goto(`/#/interactions/${CALL_UNDER_TIMEOUT}`);
  await expect(page.locator('#routing-queue')).toContainText('Sales timeout');
  await expect(page.locator('#routing-agent')).toContainText('Ada Agent');
  await expect(page.locator('#routing-prompt')).toHaveAttribute('data-prompt', 'timeout');
  await expect(page.locator('#routing-prompt')).toContainText('time-boxed');
  await expect(page.locator('#routing-acw')).toHaveText('in after-call work');
  // The demo's timeout is 15 minutes: the countdown runs on screen.
  const countdown = page.locator('#state [data-acw-countdown]');
  await expect(countdown).toContainText(/timeout in 1?\d:\d\d\.\d/);
  const first = await countdown.textContent();
  await expect(countdown).not.toHaveText(first ?? '');
  await expect(page.locator('#timeline [data-pending]')).toContainText('Timeout due');
  // The picker offers the queue's codes (Sale and No sale), not the division's others.
  const offered = await page.locator('#apply-code option').allTextContents();
  expect(offered).toEqual(['Choose a code…', 'No sale', 'Sale']);
  await expect(page.locator('#apply-code-help')).toContainText('Codes of the queue Sales timeout');
  // A mandatory prompt: no Skip button.
  await expect(page.locator('#skip-wrapup')).toHaveCount(0);
  await screenshot(page, 'interaction-queue', { fullPage: true });

  // An interaction without a queue shows none of it.
  const plain = await interaction(['active', 'closed']);
  await page.goto(`/#/interactions/${plain}`);
  await expect(page.locator('#state [data-countdown]')).toBeVisible();
  await expect(page.locator('#routing')).toHaveCount(0);
  await expect(page.locator('[data-acw-countdown]')).toHaveCount(0);
  await expect(page.locator('#apply-code-help')).toHaveText("Codes of the interaction's division.");
});

test("the system's timeout code shows as such, and the countdown stops when after-call work ends", async ({ page }) => {
  const name = 'Sales short timeout';
  const queue = await api('POST', '/api/v2/routing/queues', {
    name,
    division: { id: SALES },
    acwSettings: { wrapupPrompt: 'MANDATORY_TIMEOUT', timeoutMs: 1000 },
  });
  expect(queue.status).toBe(200);
  await api('POST', `/api/v2/routing/queues/${queue.body.id}/wrapupcodes`, [{ id: SALE }]);
  await signIn(page);
  const id = await queued(queue.body.id);
  await page.goto(`/#/interactions/${id}`);
  await expect(page.locator('#routing-queue')).toContainText(name);
  // Due at the later of the close plus 1 s and the finalization (the settle time, 3 s).
  await expect(page.locator('#state [data-acw-countdown]')).toContainText('timeout in');
  // The system applies ININ-WRAP-UP-TIMEOUT: the event redraws the page, the countdown stops.
  await expect(page.locator('#current-wrapup')).toContainText('ININ-WRAP-UP-TIMEOUT', { timeout: 15_000 });
  await expect(page.locator('#current-wrapup [data-system="true"]')).toHaveText('system timeout');
  await expect(page.locator('#history [data-system="true"]')).toHaveCount(1);
  await expect(page.locator('[data-acw-countdown]')).toHaveCount(0);
  await expect(page.locator('#routing-acw')).toHaveAttribute('data-ended', 'true');
  await expect(page.locator('#timeline')).toContainText('(the system, at the timeout)');
  await expect(page.locator('#timeline')).toContainText('After-call work ended');
});

test('an optional prompt offers Skip, which completes the interaction without a wrap-up', async ({ page }) => {
  await signIn(page);
  const id = await queued(QUEUE_OPTIONAL);
  await finalized(id);
  await page.goto(`/#/interactions/${id}`);
  await expect(page.locator('#routing-prompt')).toHaveAttribute('data-prompt', 'optional');
  await expect(page.locator('[data-acw-countdown]')).toHaveCount(0);
  const offered = await page.locator('#apply-code option').allTextContents();
  expect(offered).toEqual(['Choose a code…', 'Callback', 'Sale']);
  await page.locator('#skip-wrapup').click();
  await expect(page.locator('#current-wrapup')).toHaveAttribute('data-skipped', 'true');
  await expect(page.locator('#routing-acw')).toContainText('(skipped)');
  await expect(page.locator('#state [data-state="completed"]')).toBeVisible();
  await expect(page.locator('#skip-wrapup')).toHaveCount(0);
  await expect(page.locator('#timeline')).toContainText('Wrap-up skipped');
});

test('the Queues page lists the queues and creates, changes and deletes one and its codes', async ({ page }) => {
  await signIn(page);
  await page.getByRole('link', { name: 'Queues' }).click();
  await expect(page.getByRole('heading', { name: 'Queues', level: 1 })).toBeVisible();
  const timeout = page.locator('#queues tr[data-queue="Sales timeout"]');
  await expect(timeout).toContainText('Sales');
  await expect(timeout.locator('[data-prompt]')).toHaveAttribute('data-prompt', 'MANDATORY_TIMEOUT');
  await expect(timeout).toContainText('15 min');
  await expect(timeout.locator('.chips li')).toHaveText([/^No sale/, /^Sale/]);
  await screenshot(page, 'queues', { fullPage: true });

  // Create.
  const create = page.locator('#create-queue');
  await create.getByLabel('Name').fill('E2E queue');
  await create.getByLabel('Prompt').selectOption('MANDATORY_TIMEOUT');
  await create.getByLabel('Timeout, in milliseconds').fill('30000');
  await create.getByRole('button', { name: 'Create queue' }).click();
  const row = page.locator('#queues tr[data-queue="E2E queue"]');
  await expect(row).toContainText('30 s');
  await expect(row.locator('[data-prompt]')).toHaveAttribute('data-prompt', 'MANDATORY_TIMEOUT');
  await expect(row).toContainText('none');

  // Add two codes, remove one.
  await row.getByLabel('A code to add to E2E queue').selectOption({ label: 'Callback' });
  await row.getByRole('button', { name: 'Add the code to E2E queue' }).click();
  await expect(row.locator('.chips li[data-code="Callback"]')).toBeVisible();
  await row.getByLabel('A code to add to E2E queue').selectOption({ label: 'Sale' });
  await row.getByRole('button', { name: 'Add the code to E2E queue' }).click();
  await expect(row.locator('.chips li')).toHaveCount(2);
  await row.getByRole('button', { name: 'Remove Callback from E2E queue' }).click();
  await expect(row.locator('.chips li')).toHaveCount(1);
  await expect(row.locator('.chips li[data-code="Sale"]')).toBeVisible();

  // Change its settings: optional, no timeout.
  await row.getByRole('button', { name: 'Edit E2E queue' }).click();
  const edit = page.locator('#queues form.queue-settings');
  await edit.getByLabel('Prompt').selectOption('OPTIONAL');
  await expect(edit.getByLabel('Timeout, in milliseconds')).toBeHidden();
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(row.locator('[data-prompt]')).toHaveAttribute('data-prompt', 'OPTIONAL');
  await expect(row.locator('td').nth(3)).toHaveText('—');

  // A refusal shows the API's code and message: a name another queue has.
  await create.getByLabel('Name').fill('sales timeout');
  await create.getByRole('button', { name: 'Create queue' }).click();
  await expect(page.locator('#queues-error')).toContainText('queue.name.conflict');
  await expect(page.locator('#queues-error [data-status="409"], #queues-error [data-status="400"]')).toBeVisible();
  await page.evaluate(() => document.getElementById('toasts')?.replaceChildren());
  await screenshot(page, 'queues-refused');

  // Delete.
  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: 'Delete E2E queue' }).click();
  await expect(row).toHaveCount(0);
  await expect(page.locator('#queues-error')).toBeEmpty();
  const gone = await api('GET', '/api/v2/routing/queues?name=E2E%20queue');
  expect(gone.body.entities).toEqual([]);

  // The agents, and one created (admin).
  await expect(page.locator('#agents tr[data-agent="Ada Agent"]')).toContainText('ada@example.com');
  await expect(page.locator('#agents tr[data-agent="Carol Agent"]')).toContainText('Support');
  const agent = page.locator('#create-agent');
  await agent.getByLabel('Name').fill('Erin Agent');
  await agent.getByLabel('Email').fill('erin@example.com');
  await agent.getByRole('button', { name: 'Create agent' }).click();
  await expect(page.locator('#agents tr[data-agent="Erin Agent"]')).toContainText('Sales');
});
