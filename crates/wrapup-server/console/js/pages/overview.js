// @ts-check
// Overview: interactions by state for each division the token sees, wrap-ups accepted and
// refused in the last minutes, and the live feed of events. The figures are read again
// when an event (or, for an admin, a wrap-up request) says they changed: nothing polls.

import { api, describeError } from '../api.js';
import { interactionEvents, requestEvents } from '../events.js';
import * as fmt from '../format.js';
import { can } from '../session.js';
import { fill, h, panel, stateBadge } from '../ui.js';

const COLUMNS = [
  ['queued', 'Queued'],
  ['active', 'Active'],
  ['closed', 'Closed, settling'],
  ['finalized', 'Finalized, awaiting wrap-up'],
  ['completed', 'Completed'],
  ['total', 'Total'],
];
const FEED_LENGTH = 60;

/** @typedef {'queued' | 'active' | 'closed' | 'finalized' | 'completed' | 'total'} Column */

/**
 * One division's interactions by state (GET /api/v2/interactions/counts).
 * @typedef {{divisionId: string, divisionName: string} & Record<Column, number>} DivisionCounts
 */

/**
 * Wrap-ups accepted and refused (GET /api/v2/interactions/wrap-up-activity).
 * @typedef {object} Activity
 * @property {number} accepted
 * @property {number} refused
 * @property {number} windowMinutes
 * @property {{start: string, accepted: number, refused: number}[]} minutes oldest first
 */

/**
 * Calls `fn` at most once per `ms`, and once more after the last call.
 * @param {() => void} fn
 * @param {number} ms
 */
function throttle(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  let again = false;
  return () => {
    if (timer) {
      again = true;
      return;
    }
    fn();
    timer = setTimeout(function tick() {
      timer = null;
      if (again) {
        again = false;
        fn();
        timer = setTimeout(tick, ms);
      }
    }, ms);
  };
}

/** @param {{divisions: DivisionCounts[]}} counts */
function countsTable(counts) {
  /**
   * @param {string} division
   * @param {string} column
   * @param {number} value
   */
  const filterLink = (division, column, value) => {
    if (column === 'total') return h('a', { href: `#/interactions?divisionId=${division}` }, String(value));
    const state = column === 'finalized' ? 'closed' : column;
    return h(
      'a',
      { href: `#/interactions?divisionId=${division}&state=${state}`, 'aria-label': `${value} ${column}` },
      String(value),
    );
  };
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'counts' },
      h('caption', {}, 'Interactions by state, per division'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Division'),
          COLUMNS.map(([, label]) => h('th', { scope: 'col', class: 'num' }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        counts.divisions.map((d) =>
          h(
            'tr',
            { dataset: { division: d.divisionName } },
            h('th', { scope: 'row' }, d.divisionName),
            COLUMNS.map(([key]) =>
              h(
                'td',
                { class: 'num', dataset: { column: key } },
                filterLink(d.divisionId, key, d[/** @type {Column} */ (key)]),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/** @param {Activity} activity */
function activityView(activity) {
  const max = Math.max(1, ...activity.minutes.map((m) => m.accepted + m.refused));
  const bars = h(
    'div',
    { class: 'bars', 'aria-hidden': 'true' },
    activity.minutes.map((m) => {
      const accepted = h('div', { class: 'a' });
      const refused = h('div', { class: 'r' });
      accepted.style.height = `${(m.accepted / max) * 70}px`;
      refused.style.height = `${(m.refused / max) * 70}px`;
      return h(
        'div',
        { class: 'bar', title: `${fmt.time(m.start)}: ${m.accepted} accepted, ${m.refused} refused` },
        accepted,
        refused,
      );
    }),
  );
  return [
    h(
      'div',
      { class: 'stats' },
      h(
        'div',
        { class: 'stat' },
        h('div', { class: 'value', id: 'accepted-count' }, String(activity.accepted)),
        h('div', { class: 'label' }, `accepted (204) in ${activity.windowMinutes} min`),
      ),
      h(
        'div',
        { class: 'stat' },
        h('div', { class: 'value', id: 'refused-count' }, String(activity.refused)),
        h('div', { class: 'label' }, `refused in ${activity.windowMinutes} min`),
      ),
    ),
    bars,
    h(
      'p',
      { class: 'muted small' },
      'Per minute, oldest on the left: accepted (green) and refused (red). Refusals are explained in the ',
      can('admin') ? h('a', { href: '#/requests?status=4xx' }, 'request log') : 'request log (admin)',
      '.',
    ),
  ];
}

/** @param {HTMLElement} main */
export async function render(main) {
  const countsBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const activityBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const feed = h('ul', { class: 'feed', id: 'feed', 'aria-live': 'off' });
  const feedEmpty = h('p', { class: 'muted small' }, 'Events appear here as interactions change.');
  /** @type {Record<string, string>} division names by id */
  let names = {};

  fill(
    main,
    h('h1', {}, 'Overview'),
    panel('Interactions', countsBox),
    h('div', { class: 'grid2' }, panel('Wrap-ups', activityBox), panel('Live events', feedEmpty, feed)),
  );

  const loadCounts = async () => {
    try {
      const counts = await api('/api/v2/interactions/counts');
      names = Object.fromEntries(
        counts.divisions.map((/** @type {DivisionCounts} */ d) => [d.divisionId, d.divisionName]),
      );
      fill(countsBox, countsTable(counts));
    } catch (e) {
      fill(countsBox, h('p', { class: 'notice bad' }, describeError(e)));
    }
  };
  const loadActivity = async () => {
    try {
      fill(activityBox, activityView(await api('/api/v2/interactions/wrap-up-activity')));
    } catch (e) {
      fill(activityBox, h('p', { class: 'notice bad' }, describeError(e)));
    }
  };
  const refreshCounts = throttle(loadCounts, 1000);
  const refreshActivity = throttle(loadActivity, 1000);
  await Promise.all([loadCounts(), loadActivity()]);

  const stopEvents = interactionEvents.listen((e) => {
    if (e.kind === 'reset') {
      refreshCounts();
      return;
    }
    feedEmpty.remove();
    const i = e.interaction;
    feed.prepend(
      h(
        'li',
        { dataset: { kind: e.kind, interaction: i.id } },
        h('span', { class: 'muted' }, fmt.time(new Date().toISOString())),
        ' ',
        h('code', {}, e.kind),
        ' ',
        h('a', { href: `#/interactions/${i.id}` }, fmt.shortId(i.id)),
        ' ',
        stateBadge(i),
        ' ',
        h('span', { class: 'muted' }, names[i.divisionId] || ''),
        i.wrapUp && e.kind === 'interaction.wrapup' ? ` → ${i.wrapUp.codeName}` : '',
      ),
    );
    while (feed.children.length > FEED_LENGTH) feed.lastElementChild?.remove();
    refreshCounts();
    if (e.kind === 'interaction.wrapup') refreshActivity();
  });
  // Refusals are not events: an admin's request stream tells when one happened.
  const stopRequests = can('admin')
    ? requestEvents.listen((r) => {
        if (r.method === 'PUT' && /\/wrap-up$/.test(r.path.split('?')[0])) refreshActivity();
      })
    : () => {};
  return () => {
    stopEvents();
    stopRequests();
  };
}
