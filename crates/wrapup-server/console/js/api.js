// @ts-check
// The console is a client of the public API only: every call goes through `api`, with the
// session's bearer token and the header that marks the console's own requests
// (OWN_REQUEST_HEADER), to this origin. The types below are the API's bodies (as
// crates/wrapup-types writes them) that the pages read.

import { OWN_REQUEST_HEADER, OWN_REQUEST_VALUE, session, signOut } from './session.js';

/**
 * @typedef {'queued' | 'active' | 'closed' | 'completed'} InteractionState
 *
 * @typedef {object} WrapUp the wrap-up applied to an interaction
 * @property {string} codeId
 * @property {string} codeName
 * @property {number} durationMs
 * @property {string} [notes]
 * @property {string} appliedAt
 * @property {string} appliedBy the client that applied it
 * @property {boolean} [system] the system's wrap-up when a time-boxed prompt's timeout passed (`ININ-WRAP-UP-TIMEOUT`)
 *
 * @typedef {'mandatory' | 'optional' | 'agentRequested' | 'timeout' | 'forcedTimeout'} RoutingPrompt
 *
 * @typedef {object} Routing an interaction's queue, agent and after-call work
 * @property {string} [queueId]
 * @property {string} [agentId]
 * @property {RoutingPrompt} [wrapupPrompt]
 * @property {number} [wrapupTimeoutMs]
 * @property {string} [wrapupDueAt] when the system applies ININ-WRAP-UP-TIMEOUT (time-boxed prompts)
 * @property {boolean} [wrapupSkipped]
 * @property {string} [afterCallWorkEndedAt]
 *
 * @typedef {object} Interaction
 * @property {string} id
 * @property {string} divisionId
 * @property {string} channel
 * @property {InteractionState} state
 * @property {boolean} finalized
 * @property {number} version
 * @property {string} createdAt
 * @property {string} [activeAt]
 * @property {string} [closedAt]
 * @property {string} [finalizesAt]
 * @property {string} [finalizedAt]
 * @property {WrapUp} [wrapUp]
 * @property {Routing} [routing] left out when it has neither queue nor agent
 *
 * @typedef {'MANDATORY' | 'OPTIONAL' | 'AGENT_REQUESTED' | 'MANDATORY_TIMEOUT' | 'MANDATORY_FORCED_TIMEOUT'} WrapupPrompt
 *
 * @typedef {object} Queue a queue (Genesys's shape)
 * @property {string} id
 * @property {string} name
 * @property {string} [description]
 * @property {{id: string, name?: string}} division
 * @property {{wrapupPrompt?: WrapupPrompt, timeoutMs?: number}} [acwSettings]
 *
 * @typedef {object} User an agent (Genesys's shape)
 * @property {string} id
 * @property {string} name
 * @property {string} [email]
 * @property {{id: string, name?: string}} [division]
 * @property {string} [state]
 *
 * @typedef {object} Division
 * @property {string} id
 * @property {string} name
 *
 * @typedef {object} WrapUpCode
 * @property {string} id
 * @property {string} name
 * @property {string} divisionId
 * @property {string} [description]
 * @property {boolean} archived
 *
 * @typedef {object} ErrorDetail one problem of a refused request
 * @property {string} errorCode
 * @property {string} [fieldName]
 * @property {string} message
 * @property {string} [hint]
 *
 * @typedef {object} ErrorBody
 * @property {number} [status]
 * @property {string} [code]
 * @property {string} message
 * @property {ErrorDetail[]} [details]
 *
 * @typedef {object} InspectedHeader
 * @property {string} name
 * @property {string} value
 *
 * @typedef {object} InspectedRequest a request the inspector recorded
 * @property {number} sequence
 * @property {string} time
 * @property {string} requestId
 * @property {string} method
 * @property {string} path
 * @property {number} status
 * @property {number} latencyMs
 * @property {string} [clientId]
 * @property {InspectedHeader[]} requestHeaders
 * @property {string} [requestBody]
 * @property {number} requestBodyBytes
 * @property {boolean} requestBodyTruncated
 * @property {unknown} [responseBody]
 *
 * @typedef {object} SuggestedBody the body that would have been accepted
 * @property {unknown} body
 * @property {string[]} changes
 * @property {string[]} unresolved
 *
 * @typedef {object} WrapUpValidation the dry run's verdict on a wrap-up body
 * @property {boolean} valid
 * @property {number} status
 * @property {ErrorDetail[]} details
 * @property {SuggestedBody | null} suggestion
 *
 * @typedef {object} Webhook a webhook endpoint
 * @property {string} id
 * @property {string} url
 * @property {string[]} eventTypes
 * @property {string} [description]
 * @property {boolean} enabled
 * @property {string} [disabledReason]
 * @property {string} [failingSince]
 *
 * @typedef {Webhook & {secret: string}} CreatedWebhook a new endpoint, with its signing secret
 *
 * @typedef {object} WebhookAttempt one delivery attempt
 * @property {string} messageId
 * @property {number} [sequence] absent for a test event
 * @property {string} eventType
 * @property {number} attempt
 * @property {string} attemptedAt
 * @property {number} [responseStatus]
 * @property {string} [error]
 * @property {number} latencyMs
 * @property {'delivered' | 'retrying' | 'failed'} result
 *
 * @typedef {object} RequestDiagnosis
 * @property {InspectedRequest} request
 * @property {string} summary
 * @property {ErrorDetail[]} problems
 * @property {SuggestedBody | null} suggestion
 * @property {WrapUpValidation | null} suggestionCheck
 */

/**
 * The options of `api`.
 * @typedef {object} CallOptions
 * @property {string} [method]
 * @property {unknown} [body] sent as JSON
 * @property {string} [rawBody] sent as it is
 * @property {Record<string, string>} [headers]
 * @property {AbortSignal} [signal]
 */

/** A non-2xx answer: `status` and the API's error body (`body.code`, `body.details`). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {ErrorBody | null} body
   */
  constructor(status, body) {
    super(body?.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * Calls the API. `body` (an object) is sent as JSON; `rawBody` (a string) as is. Resolves to
 * the decoded JSON (or null for 204); rejects with ApiError.
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<any>}
 */
export async function api(path, { method = 'GET', body, rawBody, headers = {}, signal } = {}) {
  const s = session();
  /** @type {Record<string, string>} */
  const h = { Accept: 'application/json', [OWN_REQUEST_HEADER]: OWN_REQUEST_VALUE, ...headers };
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

/**
 * Every page of a list operation (bounded), concatenated.
 * @param {string} path
 * @param {number} [maxPages]
 * @returns {Promise<any[]>}
 */
export async function all(path, maxPages = 20) {
  /** @type {any[]} */
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

/**
 * A short sentence for an error, with its code.
 * @param {unknown} e what was thrown
 */
export function describeError(e) {
  if (e instanceof ApiError && e.body?.code) return `${e.body.code}: ${e.body.message}`;
  return (e instanceof Error && e.message) || String(e);
}
