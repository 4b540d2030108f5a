// @ts-check
// Sign-in with OAuth client credentials. A `--demo` server lists its demo clients in the
// console's configuration (/console/config.json), offered here in one click.

import { describeError } from '../api.js';
import { signIn } from '../session.js';
import { field, fill, h } from '../ui.js';

/** @param {HTMLElement} main */
export async function render(main) {
  const error = h('div', { role: 'alert' });
  const clientId = h('input', {
    name: 'client_id',
    autocomplete: 'username',
    required: true,
    size: 40,
    spellcheck: 'false',
  });
  const secret = h('input', {
    name: 'client_secret',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    size: 40,
  });
  /**
   * @param {string} id
   * @param {string} sec
   * @param {string} label
   */
  const attempt = async (id, sec, label) => {
    fill(error);
    try {
      await signIn(id, sec, label);
    } catch (e) {
      fill(error, h('p', { class: 'notice bad' }, `Sign-in failed: ${describeError(e)}`));
    }
  };
  const form = h(
    'form',
    {
      onsubmit: (e) => {
        e.preventDefault();
        attempt(clientId.value.trim(), secret.value, clientId.value.trim());
      },
    },
    field('Client id', clientId),
    field(
      'Client secret',
      secret,
      'The secret stays in this tab: the console keeps only the access token, in session storage.',
    ),
    h('button', { type: 'submit' }, 'Sign in'),
  );

  const demo = h('div');
  fill(
    main,
    h(
      'div',
      { class: 'signin' },
      h('h1', {}, 'Sign in'),
      h(
        'p',
        { class: 'muted' },
        "The console is a client of the wrapup API: sign in with an OAuth client's credentials (client credentials grant). What the token may not do is shown disabled, with the scope it needs.",
      ),
      demo,
      h('section', { class: 'panel', 'aria-label': 'Client credentials' }, form, error),
    ),
  );

  try {
    const response = await fetch('/console/config.json', { credentials: 'omit' });
    if (!response.ok) return;
    /** @type {{demo: boolean, demoClients: {name: string, clientId: string, clientSecret: string, description: string, scopes: string[]}[]}} */
    const config = await response.json();
    const { demo: isDemo, demoClients: clients } = config;
    if (!isDemo || !clients.length) return;
    fill(
      demo,
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'demo-title' },
        h('h2', { id: 'demo-title' }, 'Demo clients'),
        h(
          'p',
          { class: 'muted small' },
          'This server runs with --demo: its demo clients have fixed, public credentials.',
        ),
        h(
          'div',
          { class: 'demo-clients' },
          clients.map((c) =>
            h(
              'button',
              {
                type: 'button',
                dataset: { demoClient: c.name },
                onclick: () => attempt(c.clientId, c.clientSecret, c.name),
              },
              `Sign in as ${c.name}`,
              h('small', {}, `${c.description} Scopes: ${c.scopes.join(', ')}.`),
            ),
          ),
        ),
      ),
    );
  } catch {
    // Not a demo server: the form is enough.
  }
}
