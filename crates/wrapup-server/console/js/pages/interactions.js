// @ts-check
// Interactions: the list, filtered by state, division, channel and wrapped-up, newest first
// (or oldest first), paged with the API's cursors. It stays current from the event stream:
// rows change in place, and new interactions that pass the filters appear where the order
// puts them, marked new: at the top of the first page (newest first), at the end of the
// last page (oldest first); on another page a line says how many were created since.

import { all, api, describeError } from '../api.js';
import { interactionEvents } from '../events.js';
import * as fmt from '../format.js';
import { can } from '../session.js';
import { countdown, field, fill, h, needsScope, options, panel, stateBadge, toast } from '../ui.js';

const PAGE_SIZE = 25;

/** @typedef {import('../api.js').Interaction} Interaction */

/**
 * The filters of `query` that the API takes, as [name, value] pairs.
 * @param {Record<string, string>} query
 */
function filterPairs(query) {
  return Object.entries(query).filter(
    ([k, v]) => ['state', 'divisionId', 'channel', 'wrappedUp'].includes(k) && v !== '',
  );
}

/**
 * Whether the list is oldest first (`?sortOrder=asc`); newest first otherwise.
 * @param {Record<string, string>} query
 */
function oldestFirst(query) {
  return query.sortOrder === 'asc';
}

/**
 * Whether an interaction passes the filters of `query` (as the API would filter it).
 * @param {Interaction} i
 * @param {Record<string, string>} query
 */
function passes(i, query) {
  if (query.state && i.state !== query.state) return false;
  if (query.divisionId && i.divisionId !== query.divisionId) return false;
  if (query.channel && i.channel !== query.channel) return false;
  if (query.wrappedUp === 'true' && !i.wrapUp) return false;
  if (query.wrappedUp === 'false' && i.wrapUp) return false;
  return true;
}

/**
 * @param {HTMLElement} main
 * @param {import('../app.js').PageContext} context
 */
export async function render(main, { query }) {
  /** @type {import('../api.js').Division[]} */
  const divisions = await all('/api/v2/authorization/divisions').catch(() => []);
  const names = Object.fromEntries(divisions.map((d) => [d.id, d.name]));
  /** @type {(string | null)[]} the cursor of each page read so far */
  const cursors = [null];
  let pageIndex = 0;

  /**
   * A filter's <select>, showing the query's value.
   * @param {string} name
   * @param {string} label
   * @param {string[][]} pairs
   */
  const sel = (name, label, pairs) =>
    field(label, h('select', { name, id: `filter-${name}` }, options(pairs, query[name])));
  const filters = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Filter interactions',
      onchange: (e) => apply(e),
      onsubmit: (e) => apply(e),
    },
    sel('state', 'State', [
      ['', 'any'],
      ['queued', 'queued'],
      ['active', 'active'],
      ['closed', 'closed'],
      ['completed', 'completed'],
    ]),
    sel('divisionId', 'Division', [['', 'any'], ...divisions.map((d) => [d.id, d.name])]),
    sel('channel', 'Channel', [
      ['', 'any'],
      ['voice', 'voice'],
      ['chat', 'chat'],
      ['email', 'email'],
      ['message', 'message'],
      ['callback', 'callback'],
    ]),
    sel('wrappedUp', 'Wrapped up', [
      ['', 'any'],
      ['true', 'yes'],
      ['false', 'no'],
    ]),
    sel('sortOrder', 'Order', [
      ['', 'newest first'],
      ['asc', 'oldest first'],
    ]),
  );
  /** @param {Event} e */
  function apply(e) {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const el of /** @type {Iterable<HTMLSelectElement>} */ (filters.elements))
      if (el.name && el.value) params.set(el.name, el.value);
    location.hash = `#/interactions${params.toString() ? `?${params}` : ''}`;
  }

  const body = h('tbody');
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const arrived = h('p', { class: 'muted small', id: 'interactions-new', 'aria-live': 'polite', hidden: true });
  /** New interactions that passed the filters but belong on another page. */
  let elsewhere = 0;
  let lastPage = false;
  const ascending = oldestFirst(query);
  const prev = h(
    'button',
    { type: 'button', class: 'secondary', onclick: () => load(pageIndex - 1) },
    '← Previous page',
  );
  const next = h('button', { type: 'button', class: 'secondary', onclick: () => load(pageIndex + 1) }, 'Next page →');
  const table = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'interactions' },
      h(
        'caption',
        {},
        ascending
          ? 'Interactions, oldest first: new ones are added at the end of the last page as they are created.'
          : 'Interactions, newest first: new ones are added at the top as they are created.',
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Interaction', 'Division', 'Channel', 'State', 'Finalization', 'Wrap-up', 'Created'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      body,
    ),
  );

  /**
   * @param {Interaction} i
   * @param {boolean} fresh created since the list was read
   */
  const rowOf = (i, fresh) =>
    h(
      'tr',
      {
        dataset: { id: i.id, fresh: fresh ? '1' : '0', state: i.state, finalized: String(i.finalized) },
        class: fresh ? 'new' : '',
      },
      h(
        'td',
        {},
        h('a', { href: `#/interactions/${i.id}`, class: 'mono' }, fmt.shortId(i.id)),
        fresh ? [' ', h('span', { class: 'badge active' }, 'new')] : '',
      ),
      h('td', {}, names[i.divisionId] || fmt.shortId(i.divisionId)),
      h('td', {}, i.channel),
      h('td', {}, stateBadge(i)),
      h(
        'td',
        {},
        i.state === 'closed' && !i.finalized && i.finalizesAt
          ? countdown(i.finalizesAt)
          : i.finalizedAt
            ? `finalized ${fmt.time(i.finalizedAt)}`
            : '—',
      ),
      h('td', {}, i.wrapUp ? `${i.wrapUp.codeName} (${fmt.duration(i.wrapUp.durationMs)})` : '—'),
      h('td', {}, fmt.dateTime(i.createdAt)),
    );

  /** @param {number} index */
  async function load(index) {
    const params = new URLSearchParams(filterPairs(query));
    params.set('sortOrder', ascending ? 'asc' : 'desc');
    params.set('pageSize', String(PAGE_SIZE));
    if (cursors[index]) params.set('cursor', cursors[index]);
    try {
      const page = await api(`/api/v2/interactions?${params}`);
      pageIndex = index;
      cursors[index + 1] = page.nextCursor;
      lastPage = !page.nextCursor;
      elsewhere = 0;
      arrived.hidden = true;
      fill(
        body,
        page.entities.map((/** @type {Interaction} */ i) => rowOf(i, false)),
      );
      if (!page.entities.length)
        fill(body, h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No interaction matches these filters.')));
      prev.disabled = index === 0;
      next.disabled = !page.nextCursor;
      status.textContent = `Page ${index + 1}, ${page.entities.length} interactions.`;
    } catch (e) {
      fill(body, h('tr', {}, h('td', { colspan: 7 }, h('span', { class: 'notice bad' }, describeError(e)))));
    }
  }

  const create =
    can('interaction:manage') && divisions.length
      ? createForm(divisions)
      : needsScope('interaction:manage', 'Creating an interaction');

  fill(
    main,
    h('h1', {}, 'Interactions'),
    filters,
    panel('List', table, arrived, h('div', { class: 'spread' }, status, h('div', { class: 'row' }, prev, next))),
    create,
  );
  await load(0);

  const stop = interactionEvents.listen((e) => {
    if (e.kind === 'reset') return;
    const i = e.interaction;
    const row = /** @type {HTMLTableRowElement | null} */ (body.querySelector(`tr[data-id="${i.id}"]`));
    if (row) {
      row.replaceWith(rowOf(i, row.dataset.fresh === '1'));
    } else if (e.kind === 'interaction.created' && passes(i, query)) {
      // Its place in the order: the top of the first page, or the end of the last one.
      const here = ascending ? lastPage : pageIndex === 0;
      if (!here) {
        elsewhere += 1;
        arrived.hidden = false;
        arrived.textContent = `${elsewhere} new ${elsewhere === 1 ? 'interaction' : 'interactions'} created since this page was read, on the ${ascending ? 'last' : 'first'} page.`;
        return;
      }
      const empty = body.querySelector('td[colspan]');
      if (empty) empty.parentElement?.remove();
      if (ascending) body.append(rowOf(i, true));
      else body.prepend(rowOf(i, true));
    }
  });
  return stop;
}

/** @param {import('../api.js').Division[]} divisions */
function createForm(divisions) {
  const division = h('select', { name: 'divisionId' }, options(divisions.map((d) => [d.id, d.name])));
  const channel = h(
    'select',
    { name: 'channel' },
    options([
      ['voice', 'voice'],
      ['chat', 'chat'],
      ['email', 'email'],
      ['message', 'message'],
      ['callback', 'callback'],
    ]),
  );
  return panel(
    'Create an interaction',
    h(
      'form',
      {
        class: 'filters',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            const i = await api('/api/v2/interactions', {
              method: 'POST',
              body: { divisionId: division.value, channel: channel.value },
            });
            toast(`Interaction ${fmt.shortId(i.id)} created (queued).`);
          } catch (err) {
            toast(describeError(err), 'bad');
          }
        },
      },
      field('Division', division),
      field('Channel', channel),
      h('button', { type: 'submit' }, 'Create'),
    ),
  );
}
