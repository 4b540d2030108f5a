// The console is a client of the public API only: every call goes through `api`, with the
// session's bearer token, to this origin.

import { session, signOut } from './session.js';

/** A non-2xx answer: `status` and the API's error body (`body.code`, `body.details`). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * Calls the API. `body` (an object) is sent as JSON; `rawBody` (a string) as is. Resolves to
 * the decoded JSON (or null for 204); rejects with ApiError.
 */
export async function api(path, { method = 'GET', body, rawBody, headers = {}, signal } = {}) {
  const s = session();
  const h = { Accept: 'application/json', ...headers };
  if (s) h.Authorization = `Bearer ${s.token}`;
  let payload;
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  } else if (rawBody !== undefined) {
    h['Content-Type'] = h['Content-Type'] || 'application/json';
    payload = rawBody;
  }
  const response = await fetch(path, { method, headers: h, body: payload, signal, credentials: 'omit' });
  const text = await response.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = { message: text };
    }
  }
  if (!response.ok) {
    if (response.status === 401 && s) {
      // The token expired or was revoked: back to the sign-in page.
      signOut();
    }
    throw new ApiError(response.status, json);
  }
  return json;
}

/** Every page of a list operation (bounded), concatenated. */
export async function all(path, maxPages = 20) {
  const out = [];
  let cursor = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(`${path}${sep}pageSize=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.entities);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return out;
}

/** A short sentence for an error, with its code. */
export function describeError(e) {
  if (e instanceof ApiError && e.body && e.body.code) return `${e.body.code}: ${e.body.message}`;
  return e.message || String(e);
}
