// @ts-check
// The console's shell: sign-in state, the navigation, and the router. Routes live after
// `#` (`#/interactions/…`), so they never reach the server.
//
// Adding a page: write `pages/NAME.js` exporting `render(main, context)` (which may return
// a function to call when the page is left) and add it to PAGES below; the server embeds
// every file of the folder (crates/wrapup-server/build.rs). `scope` hides nothing: a page
// whose scope the token lacks is shown disabled in the navigation, with the scope named.

import { interactionEvents } from './events.js';
import { can, onSessionChange, session, signOut } from './session.js';
import { fill, h } from './ui.js';

/**
 * What a page's `render` gets besides the element to fill: the values of the route's
 * `:param` segments, and the query after `?`.
 * @typedef {{params: Record<string, string>, query: Record<string, string>}} PageContext
 */

/**
 * A page's `render`: it fills `main`, and may return a function to call when the page is left.
 * @typedef {(main: HTMLElement, context: PageContext) => Promise<(() => void) | undefined | void>} PageRender
 */

/**
 * A console page.
 * @typedef {object} Page
 * @property {string} path
 * @property {string} title
 * @property {boolean} [nav] listed in the navigation
 * @property {string | null} scope the scope it needs (null: any signed-in token)
 * @property {() => Promise<{render: PageRender}>} load its module
 */

/**
 * The pages: `path` may hold `:param` segments; `nav` pages are listed in the navigation.
 * @type {Page[]}
 */
export const PAGES = [
  { path: '/', title: 'Overview', nav: true, scope: 'interaction:view', load: () => import('./pages/overview.js') },
  {
    path: '/interactions',
    title: 'Interactions',
    nav: true,
    scope: 'interaction:view',
    load: () => import('./pages/interactions.js'),
  },
  {
    path: '/interactions/:id',
    title: 'Interaction',
    scope: 'interaction:view',
    load: () => import('./pages/interaction.js'),
  },
  { path: '/requests', title: 'Request log', nav: true, scope: 'admin', load: () => import('./pages/requests.js') },
  { path: '/requests/:id', title: 'Request', scope: 'admin', load: () => import('./pages/request.js') },
  {
    path: '/codes',
    title: 'Codes and divisions',
    nav: true,
    scope: 'wrapup-code:view',
    load: () => import('./pages/codes.js'),
  },
  {
    path: '/queues',
    title: 'Queues',
    nav: true,
    scope: 'wrapup-code:view',
    load: () => import('./pages/queues.js'),
  },
  {
    path: '/reports',
    title: 'Reports',
    nav: true,
    scope: 'interaction:view',
    load: () => import('./pages/reports.js'),
  },
  { path: '/reference', title: 'API reference', nav: true, scope: null, load: () => import('./pages/reference.js') },
  {
    path: '/webhooks',
    title: 'Webhooks',
    nav: true,
    scope: 'webhook:manage',
    load: () => import('./pages/webhooks.js'),
  },
  {
    path: '/webhooks/:id',
    title: 'Webhook endpoint',
    scope: 'webhook:manage',
    load: () => import('./pages/webhook.js'),
  },
  { path: '/sandbox', title: 'Sandbox', nav: true, scope: null, load: () => import('./pages/sandbox.js') },
];

// index.html holds these.
const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const sessionBox = /** @type {HTMLElement} */ (document.getElementById('session'));
/** @type {(() => void) | null} */
let leave = null;
let rendering = 0;
/** @type {(() => void) | null} */
let unlistenStatus = null;

/**
 * A route: the page (null when no page has this path), its params and its query.
 * @typedef {{page: Page | null, path: string} & PageContext} Route
 */

/**
 * The route of the current hash.
 * @returns {Route}
 */
function route() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
  const [path, search = ''] = raw.split('?');
  const query = Object.fromEntries(new URLSearchParams(search));
  for (const page of PAGES) {
    const want = page.path.split('/');
    const got = path.split('/');
    if (want.length !== got.length) continue;
    /** @type {Record<string, string>} */
    const params = {};
    const matches = want.every((seg, i) => {
      if (!seg.startsWith(':')) return seg === got[i];
      params[seg.slice(1)] = decodeURIComponent(got[i]);
      return true;
    });
    if (matches) return { page, params, query, path };
  }
  return { page: null, params: {}, query, path };
}

/** @param {Route} current */
function renderNav(current) {
  const s = session();
  // Signed out, there is nothing to navigate to: no sidebar, the sign-in page takes the width.
  document.body.classList.toggle('signed-out', !s);
  nav.hidden = !s;
  if (!s) {
    fill(nav);
    return;
  }
  const items = PAGES.filter((p) => p.nav).map((p) => {
    const allowed = !p.scope || s.scopes.includes(p.scope);
    const active = current && (current.path === p.path || (p.path !== '/' && current.path.startsWith(`${p.path}/`)));
    if (!allowed && p.scope) {
      return h(
        'li',
        {},
        h(
          'span',
          { class: 'disabled', 'aria-disabled': 'true', dataset: { missingScope: p.scope } },
          p.title,
          h('small', {}, `needs ${p.scope}`),
        ),
      );
    }
    return h('li', {}, h('a', { href: `#${p.path}`, 'aria-current': active ? 'page' : null }, p.title));
  });
  fill(nav, h('ul', {}, items));
}

function renderSession() {
  const s = session();
  if (unlistenStatus) unlistenStatus();
  unlistenStatus = null;
  if (!s) {
    fill(sessionBox);
    return;
  }
  const live = h('span', { class: 'badge offline', id: 'live-status', title: 'The event stream' }, 'offline');
  // The event stream is open while a page follows it (overview, interactions).
  unlistenStatus = interactionEvents.onStatus((status) => {
    live.hidden = status === 'stopped';
    live.className = `badge ${status === 'live' ? 'live' : 'offline'}`;
    live.textContent = status === 'live' ? 'live' : 'reconnecting…';
  });
  fill(
    sessionBox,
    live,
    h('span', { title: s.scopes.join(' ') }, 'Signed in as ', h('strong', {}, s.label)),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          signOut();
          location.hash = '#/';
        },
      },
      'Sign out',
    ),
  );
}

async function render() {
  const ticket = ++rendering;
  if (leave) {
    try {
      leave();
    } catch {
      /* a page's cleanup must not stop navigation */
    }
    leave = null;
  }
  const current = route();
  renderNav(current);
  if (!session()) {
    const { render: signin } = await import('./pages/signin.js');
    if (ticket !== rendering) return;
    fill(main);
    document.title = 'Sign in · wrapup console';
    await signin(main);
    leave = null;
    return;
  }
  if (!current.page) {
    fill(
      main,
      h('h1', {}, 'Not found'),
      h('p', {}, 'No console page here. ', h('a', { href: '#/' }, 'Go to the overview.')),
    );
    return;
  }
  const { page } = current;
  if (page.scope && !can(page.scope)) {
    fill(
      main,
      h('h1', {}, page.title),
      h(
        'p',
        { class: 'scope-note', dataset: { missingScope: page.scope } },
        `This page needs the scope ${page.scope}, which this token does not have. Sign in with a client that is granted it.`,
      ),
    );
    return;
  }
  const module = await page.load();
  if (ticket !== rendering) return;
  fill(main);
  document.title = `${page.title} · wrapup console`;
  const cleanup = await module.render(main, { params: current.params, query: current.query });
  if (ticket !== rendering) {
    if (typeof cleanup === 'function') cleanup();
    return;
  }
  leave = typeof cleanup === 'function' ? cleanup : null;
}

window.addEventListener('hashchange', () => {
  // The skip link's `#main` is not a route: keep the page, move the focus.
  if (!location.hash.startsWith('#/') && location.hash !== '') return;
  render().then(() => main.focus({ preventScroll: true }));
});
/** @type {HTMLElement} */ (document.querySelector('[data-skip]')).addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
onSessionChange(() => {
  renderSession();
  render();
});
if (window.matchMedia('(prefers-color-scheme: dark)').matches) document.documentElement.classList.add('dark-mode');
renderSession();
render();
