// @ts-check
// Live updates: server-sent events read with fetch (EventSource cannot send an
// Authorization header), resumed with Last-Event-ID after a drop. Nothing polls: a stream
// stays open, and is reopened only when it ends.

import { OWN_REQUEST_HEADER, OWN_REQUEST_VALUE, onSessionChange, session, signOut } from './session.js';

const RETRY_MS = [500, 1000, 2000, 5000, 10000];

/**
 * One server-sent event: `event` is `message` when the stream named none.
 * @typedef {{id: string | undefined, event: string, data: string}} StreamEvent
 */

/** @typedef {'live' | 'reconnecting' | 'stopped'} StreamStatus */

/**
 * @typedef {'interaction.created' | 'interaction.state' | 'interaction.finalized' | 'interaction.wrapup'
 *   | 'interaction.wrapup.skipped' | 'interaction.acw.ended'} InteractionKind
 */

/**
 * An interaction event (`id` is its sequence number), or the reset that says events were
 * missed and the pages should read again.
 * @typedef {{kind: 'reset', reset: unknown}
 *   | {id: number, kind: InteractionKind, interaction: import('./api.js').Interaction}
 * } InteractionEvent
 */

/**
 * Follows the SSE stream at `path` until `stop()`: `onEvent({id, event, data})` for each
 * event, `onStatus('live' | 'reconnecting' | 'stopped')` as the connection changes.
 * @param {string} path
 * @param {{
 *   onEvent: (event: StreamEvent) => void,
 *   onStatus?: (status: StreamStatus) => void,
 *   lastEventId?: string | number | null,
 * }} handlers
 */
export function follow(path, { onEvent, onStatus = () => {}, lastEventId = null }) {
  const controller = new AbortController();
  let lastId = lastEventId;
  let stopped = false;
  let failures = 0;

  async function run() {
    while (!stopped) {
      const s = session();
      if (!s) break;
      try {
        /** @type {Record<string, string>} */
        const headers = {
          Accept: 'text/event-stream',
          Authorization: `Bearer ${s.token}`,
          [OWN_REQUEST_HEADER]: OWN_REQUEST_VALUE,
        };
        if (lastId !== null && lastId !== undefined) headers['Last-Event-ID'] = String(lastId);
        const response = await fetch(path, {
          headers,
          signal: controller.signal,
          credentials: 'omit',
          cache: 'no-store',
        });
        if (response.status === 401) {
          // The token expired or was revoked: reconnecting cannot help.
          stopped = true;
          signOut();
          break;
        }
        if (response.status === 403) {
          stopped = true; // the token lacks the scope: reconnecting cannot help either
          break;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onStatus('live');
        failures = 0;
        await read(response.body, (event) => {
          if (event.id !== undefined) lastId = event.id;
          onEvent(event);
        });
      } catch {
        if (stopped || controller.signal.aborted) break;
      }
      if (stopped) break;
      onStatus('reconnecting');
      const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
      failures += 1;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    onStatus('stopped');
  }

  run();
  return {
    stop() {
      stopped = true;
      controller.abort();
    },
    get lastEventId() {
      return lastId;
    },
  };
}

/**
 * Reads an SSE body, calling `emit` for each complete event.
 * @param {ReadableStream<Uint8Array<ArrayBuffer>>} body
 * @param {(event: StreamEvent) => void} emit
 */
async function read(body, emit) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  /** @type {{id?: string, event?: string, data: string[]}} */
  let event = { data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let newline = buffer.search(/\r\n|\r|\n/); newline >= 0; newline = buffer.search(/\r\n|\r|\n/)) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (event.data.length) {
          emit({ id: event.id, event: event.event || 'message', data: event.data.join('\n') });
        }
        event = { data: [] };
        continue;
      }
      if (line.startsWith(':')) continue; // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') event.data.push(value);
      else if (field === 'event') event.event = value;
      else if (field === 'id') event.id = value;
    }
  }
}

/**
 * A stream shared by every page that listens: opened when the first listener arrives,
 * closed with the last one, and across sign-out.
 * @template T
 * @param {string} path
 * @param {(event: StreamEvent) => T | null} parse what listeners get (null: nothing)
 */
function hub(path, parse) {
  /** @type {Set<(event: T) => void>} */
  const listeners = new Set();
  /** @type {Set<(status: StreamStatus) => void>} */
  const statusListeners = new Set();
  /** @type {ReturnType<typeof follow> | null} */
  let stream = null;
  /** @type {StreamStatus} */
  let status = 'stopped';
  /** @param {StreamStatus} s */
  const setStatus = (s) => {
    status = s;
    for (const l of statusListeners) l(s);
  };
  const open = () => {
    stream = follow(path, {
      onEvent: (e) => {
        const parsed = parse(e);
        if (parsed) for (const l of listeners) l(parsed);
      },
      onStatus: setStatus,
    });
  };
  onSessionChange(() => {
    if (stream) {
      stream.stop();
      stream = null;
    }
    if (session() && listeners.size) open();
  });
  return {
    /**
     * Calls `listener` for each event; returns the function that stops it.
     * @param {(event: T) => void} listener
     * @returns {() => void}
     */
    listen(listener) {
      listeners.add(listener);
      if (!stream && session()) open();
      return () => {
        listeners.delete(listener);
        if (!listeners.size && stream) {
          stream.stop();
          stream = null;
        }
      };
    },
    /**
     * Calls `listener` with the stream's status now and at each change; returns the
     * function that stops it.
     * @param {(status: StreamStatus) => void} listener
     * @returns {() => void}
     */
    onStatus(listener) {
      statusListeners.add(listener);
      listener(status);
      return () => {
        statusListeners.delete(listener);
      };
    },
  };
}

/** Interaction events: `{id, kind, interaction}` (and `{kind: 'reset'}`). */
export const interactionEvents = hub('/api/v2/interactions/events', (e) => {
  try {
    const data = JSON.parse(e.data);
    /** @type {InteractionEvent} */
    const event =
      e.event === 'reset'
        ? { kind: 'reset', reset: data }
        : {
            id: Number(e.id),
            kind: /** @type {InteractionKind} */ (e.event),
            interaction: data,
          };
    return event;
  } catch {
    return null;
  }
});

/** Requests the inspector records (admin): each an InspectedRequest. */
export const requestEvents = hub('/api/v2/inspector/requests/stream', (e) => {
  try {
    /** @type {import('./api.js').InspectedRequest} */
    const request = JSON.parse(e.data);
    return request;
  } catch {
    return null;
  }
});
