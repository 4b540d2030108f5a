// @ts-check
// Overview: interactions by state for each division the token sees, wrap-ups accepted and
// refused in the last minutes, and the live feed of events. The figures are read again
// when an event (or, for an admin, a wrap-up request) says they changed: nothing polls.
// With "Notification topics" on, each new event of the feed shows the Genesys notification
// topics a channel subscribed to them would receive for it, each with its body, as the
// server maps them (POST /console/notification-topics; docs/genesys.md#notifications).

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

/**
 * Adds to a feed item the notification topics its event produces, each with its Genesys
 * body, as the server maps them.
 * @param {HTMLElement} item
 * @param {{kind: string, interaction: import('../api.js').Interaction}} event
 */
async function showTopics(item, event) {
  const box = h('div', { class: 'topics small', dataset: { topics: '' } }, h('span', { class: 'muted' }, 'topics…'));
  item.append(box);
  try {
    /** @type {{topics: {topicName: string, eventBody: unknown}[]}} */
    const preview = await api('/console/notification-topics', {
      method: 'POST',
      body: { kind: event.kind, interaction: event.interaction },
    });
    fill(
      box,
      preview.topics.length === 0
        ? h('span', { class: 'muted' }, 'no notification topic')
        : preview.topics.map((t) =>
            h(
              'details',
              { dataset: { topic: t.topicName } },
              h('summary', {}, h('code', {}, t.topicName)),
              h('pre', {}, JSON.stringify(t.eventBody, null, 2)),
            ),
          ),
    );
  } catch (e) {
    fill(box, h('span', { class: 'bad' }, describeError(e)));
  }
}

/** @param {HTMLElement} main */
export async function render(main) {
  const countsBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const activityBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const feed = h('ul', { class: 'feed', id: 'feed', 'aria-live': 'off' });
  const feedEmpty = h('p', { class: 'muted small' }, 'Events appear here as interactions change.');
  const topicsToggle = h('input', { type: 'checkbox', id: 'show-topics' });
  const topicsOption = h(
    'label',
    { class: 'small muted', for: 'show-topics' },
    topicsToggle,
    ' Notification topics: show, for each new event, what a Genesys notification channel would receive',
  );
  /** @type {Record<string, string>} division names by id */
  let names = {};

  fill(
    main,
    h('h1', {}, 'Overview'),
    panel('Interactions', countsBox),
    h('div', { class: 'grid2' }, panel('Wrap-ups', activityBox), panel('Live events', topicsOption, feedEmpty, feed)),
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
    if (topicsToggle.checked) showTopics(/** @type {HTMLElement} */ (feed.firstElementChild), e);
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
