// @ts-check
// Request log (the inspector): every recent request with its time, method, path, status,
// latency and client, filtered by status class, path and client, updating live from the
// inspector's request stream (resumed after the newest request listed). The console's own
// requests (its sign-in, API calls and event streams, which carry OWN_REQUEST_HEADER) are
// hidden unless asked for (`?console=show`), so that those of other clients stand out.

import { api, describeError } from '../api.js';
import { follow } from '../events.js';
import * as fmt from '../format.js';
import { OWN_REQUEST_HEADER } from '../session.js';
import { field, fill, h, options, panel, statusBadge } from '../ui.js';

/** How many recent requests are read: the inspector's most, since the console's own are hidden. */
const LIMIT = 1000;
/** The most rows on screen. */
const SHOWN = 500;

/** @typedef {import('../api.js').InspectedRequest} InspectedRequest */

/**
 * Whether a request passes the filters of `query` (as the API would filter it).
 * @param {InspectedRequest} r
 * @param {Record<string, string>} query
 */
function passes(r, query) {
  if (
    query.status &&
    !(query.status.endsWith('xx')
      ? Math.floor(r.status / 100) === Number(query.status[0])
      : r.status === Number(query.status))
  )
    return false;
  if (query.path && !r.path.startsWith(query.path)) return false;
  if (query.clientId && r.clientId !== query.clientId) return false;
  return true;
}

/**
 * Whether the console sent the request (it carries OWN_REQUEST_HEADER).
 * @param {InspectedRequest} r
 */
function fromConsole(r) {
  const name = OWN_REQUEST_HEADER.toLowerCase();
  return r.requestHeaders.some((hd) => hd.name.toLowerCase() === name);
}

/**
 * @param {HTMLElement} main
 * @param {import('../app.js').PageContext} context
 */
export async function render(main, { query }) {
  const statusSel = h(
    'select',
    { name: 'status', id: 'filter-status' },
    options(
      [
        ['', 'any'],
        ['2xx', '2xx success'],
        ['4xx', '4xx refused'],
        ['5xx', '5xx failed'],
      ],
      query.status,
    ),
  );
  const path = h('input', {
    name: 'path',
    id: 'filter-path',
    value: query.path || '',
    placeholder: '/api/v2/interactions',
    size: 28,
  });
  const client = h('input', {
    name: 'clientId',
    id: 'filter-client',
    value: query.clientId || '',
    placeholder: 'client id',
    size: 38,
    spellcheck: 'false',
  });
  const showConsole = query.console === 'show';
  const consoleToggle = h('input', { type: 'checkbox', name: 'console', id: 'show-console', checked: showConsole });
  /** @param {Event} e */
  const apply = (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const el of [statusSel, path, client]) if (el.value.trim()) params.set(el.name, el.value.trim());
    if (consoleToggle.checked) params.set('console', 'show');
    location.hash = `#/requests${params.toString() ? `?${params}` : ''}`;
  };
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter requests', onsubmit: apply, onchange: apply },
    field('Status', statusSel),
    field('Path starts with', path),
    field('Client', client),
    h(
      'div',
      { class: 'field check' },
      consoleToggle,
      h('label', { for: 'show-console' }, "Show this console's own requests"),
    ),
    h('button', { type: 'submit', class: 'secondary' }, 'Filter'),
  );
  // How many of the console's own requests are hidden, said under the table.
  let hidden = 0;
  const hiddenNote = h('p', { id: 'console-hidden', class: 'muted small', 'aria-live': 'polite' });
  const drawHidden = () => {
    const why = `they carry the header ${OWN_REQUEST_HEADER}. Requests sent from the API reference's “Try it out” are shown.`;
    hiddenNote.textContent = showConsole
      ? `The console's own requests are shown, marked “console” (they carry the header ${OWN_REQUEST_HEADER}).`
      : hidden
        ? `${hidden} of the console's own requests (sign-in, event streams, counts, the pages' reads and actions) ${hidden === 1 ? 'is' : 'are'} hidden: ${why}`
        : `None of the console's own requests (sign-in, event streams, counts, the pages' reads and actions) matches these filters; they are hidden by default: ${why}`;
  };

  const body = h('tbody');
  const live = h('span', { class: 'badge offline', id: 'requests-live' }, 'connecting…');
  const table = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'requests' },
      h(
        'caption',
        {},
        showConsole
          ? 'Recent requests, newest first. Select one to see its headers, body and diagnosis.'
          : 'Recent requests of other clients than this console, newest first. Select one to see its headers, body and diagnosis.',
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Time', 'Method', 'Path', 'Status', 'Latency', 'Client'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      body,
    ),
  );
  fill(
    main,
    h('div', { class: 'spread' }, h('h1', {}, 'Request log'), live),
    filters,
    panel('Requests', table, hiddenNote),
    h(
      'p',
      { class: 'muted small' },
      'Requests to the console itself, the inspector, /metrics and /healthz are not recorded. Credentials are shown as [redacted].',
    ),
  );

  /**
   * @param {InspectedRequest} r
   * @param {boolean} fresh
   */
  const rowOf = (r, fresh) => {
    const href = `#/requests/${encodeURIComponent(r.requestId)}`;
    return h(
      'tr',
      {
        class: `clickable ${fresh ? 'new' : ''}`,
        dataset: { sequence: r.sequence, status: r.status, requestId: r.requestId, console: fromConsole(r) },
        onclick: (e) => {
          if (/** @type {Element} */ (e.target).tagName !== 'A') location.hash = href;
        },
      },
      h('td', {}, fmt.time(r.time)),
      h('td', {}, r.method),
      h(
        'td',
        { class: 'mono' },
        h('a', { href }, r.path),
        fromConsole(r)
          ? [
              ' ',
              h('span', { class: 'badge console', title: `Sent by this console (${OWN_REQUEST_HEADER})` }, 'console'),
            ]
          : '',
      ),
      h('td', {}, statusBadge(r.status)),
      h('td', { class: 'num' }, `${r.latencyMs.toFixed(1)} ms`),
      h('td', { class: 'mono', title: r.clientId || '' }, r.clientId ? fmt.shortId(r.clientId) : '—'),
    );
  };

  const params = new URLSearchParams({ limit: String(LIMIT) });
  for (const key of ['status', 'path', 'clientId']) if (query[key]) params.set(key, query[key]);
  /** @type {InspectedRequest[]} */
  let entries;
  try {
    entries = (await api(`/api/v2/inspector/requests?${params}`)).entities;
  } catch (e) {
    fill(body, h('tr', {}, h('td', { colspan: 6 }, h('span', { class: 'notice bad' }, describeError(e)))));
    return undefined;
  }
  // The stream resumes after the newest request read, hidden or not.
  const newest = entries.reduce((max, r) => Math.max(max, r.sequence), 0);
  /** @param {InspectedRequest} r */
  const shown = (r) => showConsole || !fromConsole(r);
  hidden = entries.filter((r) => !shown(r)).length;
  entries = entries.filter(shown).slice(0, SHOWN);
  drawHidden();
  fill(
    body,
    entries.map((r) => rowOf(r, false)),
  );
  if (!entries.length)
    fill(
      body,
      h(
        'tr',
        { class: 'empty' },
        h(
          'td',
          { colspan: 6, class: 'muted' },
          showConsole
            ? 'No request recorded yet matches these filters.'
            : "No request of another client than this console matches these filters yet. Send one (curl, your integration, the API reference's “Try it out”), or show the console's own requests.",
        ),
      ),
    );
  // The stream resumes after the newest request the inspector had when the list was read
  // (its `sequence`), so nothing recorded in between is missed.
  const stream = follow('/api/v2/inspector/requests/stream', {
    lastEventId: newest || null,
    onStatus: (s) => {
      live.className = `badge ${s === 'live' ? 'live' : 'offline'}`;
      live.textContent = s === 'live' ? 'live' : s === 'reconnecting' ? 'reconnecting…' : 'stopped';
    },
    onEvent: (e) => {
      /** @type {InspectedRequest} */
      let r;
      try {
        r = JSON.parse(e.data);
      } catch {
        return;
      }
      if (!passes(r, query) || body.querySelector(`tr[data-sequence="${r.sequence}"]`)) return;
      if (!shown(r)) {
        hidden += 1;
        drawHidden();
        return;
      }
      const empty = body.querySelector('tr.empty');
      if (empty) empty.remove();
      body.prepend(rowOf(r, true));
      while (body.children.length > SHOWN) body.lastElementChild?.remove();
    },
  });
  return () => stream.stop();
}
