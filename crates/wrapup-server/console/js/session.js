// @ts-check
// The signed-in session: the access token and what it may do. Kept in sessionStorage (this
// tab only, gone when it closes), never in a URL, never logged.

/**
 * A signed-in session.
 * @typedef {object} Session
 * @property {string} token the bearer token
 * @property {string[]} scopes what it may do
 * @property {string} clientId
 * @property {string} label the name shown for it (a demo client's name, else the id)
 * @property {number} expiresAt when the token expires (ms since the epoch)
 */

/** @typedef {(session: Session | null) => void} SessionListener */

/**
 * The header every request of the console itself carries (sign-in, every API call, the event
 * streams), so that the request log can tell them from the requests of other clients and of
 * the API reference's "Try it out", which are sent without it. The inspector records it like
 * any header; the server gives it no other meaning.
 */
export const OWN_REQUEST_HEADER = 'X-Wrapup-Console';
/** The header's value. */
export const OWN_REQUEST_VALUE = '1';

const KEY = 'wrapup.console.session';
let current = load();
/** @type {Set<SessionListener>} */
const listeners = new Set();

/** @returns {Session | null} */
function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (saved?.token && saved.expiresAt > Date.now()) return saved;
  } catch {
    /* a damaged entry is the same as none */
  }
  return null;
}

/**
 * The session, or null when signed out.
 * @returns {Session | null}
 */
export function session() {
  return current;
}

/**
 * Whether the signed-in token has `scope` (any token, when `scope` is null).
 * @param {string | null} scope
 */
export function can(scope) {
  return !!current && (!scope || current.scopes.includes(scope));
}

/**
 * Calls `listener` at every sign-in and sign-out; returns the function that stops it.
 * @param {SessionListener} listener
 * @returns {() => void}
 */
export function onSessionChange(listener) {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/**
 * Signs in with client credentials (POST /oauth/token); throws an Error with a message.
 * @param {string} clientId
 * @param {string} clientSecret
 * @param {string} [label]
 * @returns {Promise<Session>}
 */
export async function signIn(clientId, clientSecret, label) {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
  });
  const response = await fetch('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', [OWN_REQUEST_HEADER]: OWN_REQUEST_VALUE },
    body: form,
    credentials: 'omit',
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.error_description || body.message || `sign-in failed (${response.status})`);
  }
  /** @type {Session} */
  const signedIn = {
    token: body.access_token,
    scopes: (body.scope || '').split(' ').filter(Boolean),
    clientId,
    label: label || clientId,
    expiresAt: Date.now() + (body.expires_in || 3600) * 1000,
  };
  current = signedIn;
  sessionStorage.setItem(KEY, JSON.stringify(signedIn));
  for (const l of listeners) l(signedIn);
  return signedIn;
}

/** Forgets the token (the server is not told: it expires by itself). */
export function signOut() {
  current = null;
  sessionStorage.removeItem(KEY);
  for (const l of listeners) l(null);
}
