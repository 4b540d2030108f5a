// The Overview's live feed with "Notification topics" on: each new event shows the Genesys
// notification topics a channel would receive for it, with their bodies, as the server maps
// them (docs/genesys.md#notifications).

const { test, expect, api, signIn, screenshot } = require('./fixtures');

const SALES = '00000000-0000-4000-8000-0000000000a1';
const QUEUE = '00000000-0000-4000-8000-0000000001b1';
const ADA = '00000000-0000-4000-8000-0000000001a1';

test('the live feed shows the notification topics of each event, with their Genesys bodies', async ({ page }) => {
  await signIn(page);
  await page.locator('#show-topics').check();
  // The feed shows what happens once its stream is open: the creation below must not come
  // before it (a CI run missed it so).
  await expect(page.locator('#live-status')).toHaveText('live');
  const created = await api('POST', '/api/v2/interactions', { divisionId: SALES, channel: 'voice', queueId: QUEUE });
  const id = created.body.id;
  await api('POST', `/api/v2/interactions/${id}/state`, { state: 'active', agentId: ADA });
  await api('POST', `/api/v2/interactions/${id}/state`, { state: 'closed' });
  // The newest state event (the close) is first in the feed.
  const closed = page.locator(`#feed li[data-interaction="${id}"][data-kind="interaction.state"]`).first();
  const acw = closed.locator(`[data-topic="v2.detail.events.conversation.${id}.acw"]`);
  await expect(acw).toBeVisible();
  await expect(closed.locator(`[data-topic="v2.detail.events.conversation.${id}.user.end"]`)).toBeVisible();
  await expect(closed.locator(`[data-topic="v2.users.${ADA}.conversations"]`)).toBeVisible();
  await expect(closed.locator(`[data-topic="v2.routing.queues.${QUEUE}.conversations"]`)).toBeVisible();
  await acw.locator('summary').click();
  await expect(acw.locator('pre')).toContainText('"mediaType": "VOICE"');
  await expect(acw.locator('pre')).toContainText(`"conversationId": "${id}"`);
  // The creation (before any agent) reaches the queue's topic only.
  const createdItem = page.locator(`#feed li[data-interaction="${id}"][data-kind="interaction.created"]`);
  await expect(createdItem.locator('[data-topic]')).toHaveCount(1);
  await expect(createdItem.locator(`[data-topic="v2.routing.queues.${QUEUE}.conversations"]`)).toBeVisible();
  await screenshot(page, 'overview-notification-topics');
});
