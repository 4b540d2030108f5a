// The signed-in session: the access token and what it may do. Kept in sessionStorage (this
// tab only, gone when it closes), never in a URL, never logged.

const KEY = 'wrapup.console.session';
let current = load();
const listeners = new Set();

function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (saved && saved.token && saved.expiresAt > Date.now()) return saved;
  } catch {
    /* a damaged entry is the same as none */
  }
  return null;
}

/** The session, or null when signed out. */
export function session() {
  return current;
}

/** Whether the signed-in token has `scope`. */
export function can(scope) {
  return !!current && (!scope || current.scopes.includes(scope));
}

export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Signs in with client credentials (POST /oauth/token); throws an Error with a message. */
export async function signIn(clientId, clientSecret, label) {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: clientSecret,
  });
  const response = await fetch('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form,
    credentials: 'omit',
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.error_description || body.message || `sign-in failed (${response.status})`);
  }
  current = {
    token: body.access_token,
    scopes: (body.scope || '').split(' ').filter(Boolean),
    clientId,
    label: label || clientId,
    expiresAt: Date.now() + (body.expires_in || 3600) * 1000,
  };
  sessionStorage.setItem(KEY, JSON.stringify(current));
  listeners.forEach((l) => l(current));
  return current;
}

export function signOut() {
  current = null;
  sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l(null));
}
