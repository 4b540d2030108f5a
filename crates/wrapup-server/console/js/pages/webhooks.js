// @ts-check
// Webhooks: the endpoints this token manages (create, enable or disable), and one endpoint's
// page with its delivery log, a replay from a sequence number or a time, a resend of one
// event and a test delivery (docs/webhooks.md). The navigation offers it to a token with `webhook:manage`.

import { all, api, describeError } from '../api.js';
import * as fmt from '../format.js';
import { field, fill, h, panel, toast } from '../ui.js';

/** @typedef {import('../api.js').Webhook} Webhook */

/**
 * The list of endpoints, and a form to create one.
 * @param {HTMLElement} main
 */
export async function render(main) {
  const box = h('div');
  async function load() {
    /** @type {Webhook[]} */
    let hooks;
    try {
      hooks = await all('/api/v2/webhooks');
    } catch (e) {
      fill(box, h('p', { class: 'notice bad' }, describeError(e)));
      return;
    }
    fill(
      box,
      hooks.length === 0
        ? h('p', {}, 'No webhook endpoint yet: create one below, or run `wrapup webhooks listen` on your machine.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { id: 'webhooks' },
              h('caption', {}, 'Webhook endpoints'),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['URL', 'Events', 'Status', 'Description'].map((t) => h('th', { scope: 'col' }, t)),
                ),
              ),
              h(
                'tbody',
                {},
                hooks.map((w) =>
                  h(
                    'tr',
                    { dataset: { webhook: w.id } },
                    h('td', {}, h('a', { href: `#/webhooks/${w.id}` }, w.url)),
                    h('td', {}, w.eventTypes.join(', ')),
                    h('td', {}, enabledBadge(w)),
                    h('td', {}, w.description || '—'),
                  ),
                ),
              ),
            ),
          ),
    );
  }
  fill(main, h('h1', {}, 'Webhooks'), panel('Endpoints', box, createForm(load)));
  await load();
}

/** @param {Webhook} w */
function enabledBadge(w) {
  return w.enabled
    ? h('span', { class: 'badge completed' }, w.failingSince ? `failing since ${fmt.time(w.failingSince)}` : 'enabled')
    : h(
        'span',
        { class: 'badge', title: w.disabledReason || '' },
        `disabled${w.disabledReason ? `: ${w.disabledReason}` : ''}`,
      );
}

/** @param {() => void} reload */
function createForm(reload) {
  const url = h('input', {
    id: 'webhook-url',
    type: 'url',
    required: true,
    placeholder: 'https://crm.example.com/hooks/wrapup',
    size: 40,
  });
  const description = h('input', { id: 'webhook-description', size: 30 });
  const secretBox = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    {
      id: 'webhook-create',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          /** @type {import('../api.js').CreatedWebhook} */
          const created = await api('/api/v2/webhooks', {
            method: 'POST',
            body: { url: url.value, ...(description.value ? { description: description.value } : {}) },
          });
          fill(
            secretBox,
            h(
              'p',
              { class: 'notice', id: 'webhook-secret' },
              'Created. Its signing secret is shown this once: ',
              h('code', {}, created.secret),
            ),
          );
          url.value = '';
          description.value = '';
          reload();
        } catch (err) {
          toast(describeError(err), 'bad');
        }
      },
    },
    field(
      'URL',
      url,
      'Where deliveries are POSTed; a private address needs --webhooks-allow-private (--demo allows loopback).',
    ),
    field('Description', description),
    h('button', { type: 'submit' }, 'Create endpoint'),
    secretBox,
  );
  return form;
}

/**
 * One endpoint: its settings, delivery log, replay, resend, test.
 * @param {HTMLElement} main
 * @param {import('../app.js').PageContext} context
 */
export async function renderOne(main, { params }) {
  const id = params.id;
  /** @type {Webhook} */
  let hook;
  try {
    hook = await api(`/api/v2/webhooks/${id}`);
  } catch (e) {
    fill(main, h('h1', {}, 'Webhook endpoint'), h('p', { class: 'notice bad' }, describeError(e)));
    return;
  }
  const head = h('div');
  const log = h('div');
  const drawHead = () =>
    fill(
      head,
      h('p', {}, h('code', {}, hook.url), ' ', enabledBadge(hook)),
      h('p', { class: 'small' }, `Events: ${hook.eventTypes.join(', ')}`),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', id: 'webhook-toggle', onclick: toggle }, hook.enabled ? 'Disable' : 'Enable'),
        h('button', { type: 'button', id: 'webhook-test', onclick: sendTest }, 'Send a test event'),
      ),
    );

  async function toggle() {
    try {
      hook = await api(`/api/v2/webhooks/${id}`, { method: 'PATCH', body: { enabled: !hook.enabled } });
      toast(hook.enabled ? 'Enabled.' : 'Disabled.');
      drawHead();
    } catch (err) {
      toast(describeError(err), 'bad');
    }
  }
  async function sendTest() {
    try {
      await api(`/api/v2/webhooks/${id}/test`, { method: 'POST' });
      toast('Test event queued.');
      setTimeout(loadLog, 500);
    } catch (err) {
      toast(describeError(err), 'bad');
    }
  }
  /** @param {number} sequence */
  const resendButton = (sequence) =>
    h('button', { type: 'button', class: 'small', onclick: () => resend(sequence) }, 'Resend');
  /** @param {number} sequence */
  async function resend(sequence) {
    try {
      await api(`/api/v2/webhooks/${id}/events/${sequence}/resend`, { method: 'POST' });
      toast(`Event ${sequence} queued again.`);
      setTimeout(loadLog, 500);
    } catch (err) {
      toast(describeError(err), 'bad');
    }
  }
  async function loadLog() {
    /** @type {import('../api.js').WebhookAttempt[]} */
    let attempts;
    try {
      attempts = (await api(`/api/v2/webhooks/${id}/deliveries?pageSize=100`)).entities;
    } catch (e) {
      fill(log, h('p', { class: 'notice bad' }, describeError(e)));
      return;
    }
    fill(
      log,
      attempts.length === 0
        ? h('p', { id: 'deliveries-empty' }, 'No delivery attempt yet.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { id: 'deliveries' },
              h('caption', {}, 'Delivery log, newest first'),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Time', 'Event', 'Sequence', 'Attempt', 'Result', 'Status', 'Latency', 'Error', ''].map((t) =>
                    h('th', { scope: 'col' }, t),
                  ),
                ),
              ),
              h(
                'tbody',
                {},
                attempts.map((a) =>
                  h(
                    'tr',
                    { dataset: { sequence: a.sequence ?? '', result: a.result } },
                    h('td', {}, fmt.time(a.attemptedAt)),
                    h('td', {}, a.eventType),
                    h('td', {}, a.sequence ?? 'test'),
                    h('td', {}, a.attempt),
                    h('td', {}, a.result),
                    h('td', {}, a.responseStatus ?? '—'),
                    h('td', {}, `${a.latencyMs} ms`),
                    h('td', { class: 'small' }, a.error || ''),
                    h('td', {}, a.sequence == null ? '' : resendButton(a.sequence)),
                  ),
                ),
              ),
            ),
          ),
    );
  }

  const from = h('input', { id: 'replay-from', type: 'number', min: 1, size: 8 });
  const since = h('input', { id: 'replay-since', type: 'datetime-local' });
  const replay = h(
    'form',
    {
      id: 'webhook-replay',
      onsubmit: async (e) => {
        e.preventDefault();
        const body = from.value
          ? { fromSequence: Number(from.value) }
          : since.value
            ? { since: new Date(since.value).toISOString() }
            : null;
        if (!body) {
          toast('Give a sequence number or a time to replay from.', 'bad');
          return;
        }
        try {
          const queued = await api(`/api/v2/webhooks/${id}/replay`, { method: 'POST', body });
          toast(`Replaying events ${queued.fromSequence} to ${queued.throughSequence}.`);
          setTimeout(loadLog, 500);
        } catch (err) {
          toast(describeError(err), 'bad');
        }
      },
    },
    field('From sequence', from),
    field('Or since', since),
    h('button', { type: 'submit' }, 'Replay'),
  );

  fill(
    main,
    h('h1', {}, 'Webhook endpoint'),
    panel('Endpoint', head),
    panel(
      'Deliveries',
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', id: 'deliveries-refresh', onclick: loadLog }, 'Refresh'),
      ),
      log,
    ),
    panel('Replay', replay),
  );
  drawHead();
  await loadLog();
}
