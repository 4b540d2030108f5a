#!/usr/bin/env node
// The official Genesys Cloud JavaScript SDK (purecloud-platform-client-v2@262.0.0, unmodified)
// against a real `wrapup serve`: the compatibility flow of docs/genesys.md (run by .ci/genesys-sdks).
//
// After setup, every step is an SDK call. Only what the SDK cannot do (create an interaction, move
// it through its lifecycle, wait until it is finalized) goes through wrapup's own API, in the
// clearly separated `WrapupLifecycle` helper below (plain HTTP, Node's standard library only).
//
// Environment: the same as flow.py —
//   WRAPUP_URL (default http://127.0.0.1:8080), WRAPUP_CLIENT_ID, WRAPUP_CLIENT_SECRET (default:
//   the demo client), WRAPUP_DIVISION_ID, WRAPUP_CODE_ID, WRAPUP_OTHER_CODE_ID (default: found with
//   SDK calls), WRAPUP_CHANNEL (voice | callback | email | message | chat; default voice),
//   WRAPUP_SETTLE_TIMEOUT_S (default 30), WRAPUP_VIEWER_CLIENT_ID / WRAPUP_VIEWER_CLIENT_SECRET
//   (optional: a client without the wrap-up permission).
//
// Every check prints what it checked; the last line is "N passed, M failed"; exit status 1 if any
// check failed (2 if the flow could not run at all).
'use strict';

// axios (inside the SDK) honours HTTP_PROXY/HTTPS_PROXY: never send the loopback through a proxy.
process.env.NO_PROXY = [process.env.NO_PROXY, '127.0.0.1', 'localhost', '::1'].filter(Boolean).join(',');

const http = require('http');
const https = require('https');
const crypto = require('crypto');
const platformClient = require('purecloud-platform-client-v2');

const DEMO_CLIENT_ID = '00000000-0000-4000-8000-00000000d001';
const DEMO_CLIENT_SECRET = 'demo-secret-not-for-production';
// channel -> [media path segment, the participant's list key, SDK method infix, the communication
// state once the wrap-up is applied (see docs/genesys.md#states: the SDK's Email and Message models have no
// "terminated")]
const MEDIA = {
  voice: ['calls', 'calls', 'Call', 'terminated'],
  callback: ['callbacks', 'callbacks', 'Callback', 'terminated'],
  email: ['emails', 'emails', 'Email', 'disconnected'],
  message: ['messages', 'messages', 'Message', 'disconnected'],
  chat: ['messages', 'messages', 'Message', 'disconnected'],
};
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

// ------------------------------------------------------------------------------------------------
// Checks
// ------------------------------------------------------------------------------------------------
const counts = { passed: 0, failed: 0 };
function check(ok, what, detail) {
  const d = detail === undefined || detail === '' ? '' : `  (${typeof detail === 'string' ? detail : JSON.stringify(detail)})`;
  if (ok) counts.passed += 1; else counts.failed += 1;
  console.log(`  ${ok ? '✓' : '✗'} ${what}${d}`);
  return Boolean(ok);
}
function step(title) { console.log(`\n== ${title}`); }
function describe(err) {
  if (err instanceof Error) return `${err.constructor.name}: ${err.message}`;
  return JSON.stringify(err);
}
function crashed(what, err) {
  counts.failed += 1;
  console.log(`  ✗ ${what} failed: ${describe(err)}`);
}
function finish(code) {
  console.log(`\n${counts.passed} passed, ${counts.failed} failed`);
  process.exit(code !== undefined ? code : (counts.failed === 0 ? 0 : 1));
}
// The SDK rejects with the parsed ErrorBody (a plain object, not an Error) when the server answers
// with a JSON body; with an Error (AxiosError) when there was no HTTP answer; with undefined when
// the answer had an empty body. Without setReturnExtendedResponses(true) the HTTP status is only
// in ErrorBody.status.
function errorBody(err) {
  return err && typeof err === 'object' && !(err instanceof Error) ? err : {};
}
async function refusal(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    if (err instanceof Error) throw err;
    return errorBody(err);
  }
}
const isIso = (s) => typeof s === 'string' && ISO_UTC.test(s) && !Number.isNaN(Date.parse(s));

// ------------------------------------------------------------------------------------------------
// wrapup's own API (the SDK has no such calls): create, activate, close, wait until finalized.
// ------------------------------------------------------------------------------------------------
class WrapupLifecycle {
  constructor(baseUrl, token) {
    this.base = new URL(baseUrl);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.token = token;
    this.mod = this.base.protocol === 'https:' ? https : http;
  }

  _call(method, path, body) {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = this.mod.request({
        hostname: this.base.hostname, port: this.base.port || undefined, method, path: this.prefix + path,
        headers: Object.assign({ Authorization: `Bearer ${this.token}`, Accept: 'application/json' },
          data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}),
        timeout: 30000,
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { text += c; });
        res.on('end', () => {
          if (res.statusCode >= 200 && res.statusCode < 300) resolve(text ? JSON.parse(text) : null);
          else reject(new Error(`${method} ${path} -> HTTP ${res.statusCode}: ${text}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  async create(divisionId, channel) {
    return (await this._call('POST', '/api/v2/interactions', { divisionId, channel })).id;
  }

  setState(id, state) { return this._call('POST', `/api/v2/interactions/${id}/state`, { state }); }

  async createRouted(divisionId, channel, queueId) {
    return (await this._call('POST', '/api/v2/interactions', { divisionId, channel, queueId })).id;
  }

  answer(id, agentId) { return this._call('POST', `/api/v2/interactions/${id}/state`, { state: 'active', agentId }); }

  createUser(name, email, divisionId) { return this._call('POST', '/api/v2/users', { name, email, divisionId }); }

  get(id) { return this._call('GET', `/api/v2/interactions/${id}`); }

  // Opens the event stream first, then reads the interaction, then waits for
  // interaction.finalized: the race-free order docs/events.md gives. No polling.
  waitFinalized(id, timeoutS) {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        req.destroy();
        if (err) reject(err); else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`interaction ${id} was not finalized within ${timeoutS} s`)), timeoutS * 1000);
      const req = this.mod.request({
        hostname: this.base.hostname, port: this.base.port || undefined, method: 'GET',
        path: `${this.prefix}/api/v2/interactions/events?interactionId=${id}`,
        headers: { Authorization: `Bearer ${this.token}`, Accept: 'text/event-stream' },
      }, (res) => {
        if (res.statusCode !== 200) { finish(new Error(`event stream -> HTTP ${res.statusCode}`)); return; }
        res.setEncoding('utf8');
        let buffer = '';
        let event = null;
        const confirm = () => this.get(id).then((i) => { if (i && i.finalized) finish(); }, finish);
        res.on('data', (chunk) => {
          buffer += chunk;
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).replace(/\r$/, '');
            buffer = buffer.slice(nl + 1);
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:') && (event === 'interaction.finalized' || event === 'reset')) confirm();
            else if (line === '') event = null;
          }
        });
        res.on('end', () => finish(new Error('the event stream ended before the interaction was finalized')));
        confirm();   // the stream is open: now read the interaction once
      });
      req.on('error', (e) => finish(e));
      req.end();
    });
  }
}

// ------------------------------------------------------------------------------------------------
// The flow
// ------------------------------------------------------------------------------------------------
function findParticipants(conversation, mediaKey) {
  const ps = conversation.participants || [];
  const customer = ps.find((p) => p.purpose === 'customer');
  const agent = ps.find((p) => p.purpose === 'agent');
  const comm = agent && (agent[mediaKey] || [])[0];
  return { customer, agent, comm };
}
const byName = (a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' });
const isSorted = (names, dir) => names.every((n, i) => i === 0 || dir * byName(names[i - 1], n) <= 0);

async function main() {
  const baseUrl = (process.env.WRAPUP_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const clientId = process.env.WRAPUP_CLIENT_ID || DEMO_CLIENT_ID;
  const clientSecret = process.env.WRAPUP_CLIENT_SECRET || DEMO_CLIENT_SECRET;
  const channel = process.env.WRAPUP_CHANNEL || 'voice';
  const settleTimeout = Number(process.env.WRAPUP_SETTLE_TIMEOUT_S || '30');
  if (!MEDIA[channel]) { console.log(`WRAPUP_CHANNEL must be one of ${Object.keys(MEDIA).join(', ')}`); finish(2); }
  const [mediaPath, mediaKey, M, doneState] = MEDIA[channel];
  const sdkVersion = require('purecloud-platform-client-v2/package.json').version;
  console.log(`purecloud-platform-client-v2 ${sdkVersion} against ${baseUrl}, channel ${channel} (${mediaPath})`);

  // --- setup: the SDK pointed at wrapup, and a token ----------------------------------------------
  step('token (client credentials through the SDK)');
  const url = new URL(baseUrl);
  const client = platformClient.ApiClient.instance;
  // setEnvironment() cannot take a plain http://host:port (it forces https://api. / https://login.):
  // the gateway setting is the way to point the SDK at another server.
  const gateway = {
    host: url.hostname, protocol: url.protocol.replace(':', ''),
    port: url.port ? Number(url.port) : (url.protocol === 'https:' ? 443 : 80),
  };
  if (url.pathname && url.pathname !== '/') {
    gateway.path_params_login = url.pathname;
    gateway.path_params_api = url.pathname;
  }
  client.setGateway(gateway);
  try {
    await client.loginClientCredentialsGrant(clientId, clientSecret);
  } catch (err) {
    crashed('loginClientCredentialsGrant', err.response ? `HTTP ${err.response.status} ${JSON.stringify(err.response.data)}` : err);
    finish(2);
  }
  const token = client.authData.accessToken;
  check(Boolean(token), 'loginClientCredentialsGrant stored an access token');
  const conversations = new platformClient.ConversationsApi();
  const routing = new platformClient.RoutingApi();
  const authorization = new platformClient.AuthorizationApi();
  const media = {
    get: (cid) => conversations[`getConversations${M}`](cid),
    postWrapup: (cid, pid, commid, body) => conversations[`postConversations${M}ParticipantCommunicationWrapup`](cid, pid, commid, { body }),
    getParticipantWrapup: (cid, pid) => conversations[`getConversations${M}ParticipantWrapup`](cid, pid),
    getCommunicationWrapup: (cid, pid, commid) => conversations[`getConversations${M}ParticipantCommunicationWrapup`](cid, pid, commid),
    getParticipantWrapupcodes: (cid, pid) => conversations[`getConversations${M}ParticipantWrapupcodes`](cid, pid),
  };

  // --- the ids the flow needs: from the environment, else from SDK calls ---------------------------
  step('ids: division, a code of it, a code of another division');
  let divisionId = process.env.WRAPUP_DIVISION_ID;
  let codeId = process.env.WRAPUP_CODE_ID;
  let otherCodeId = process.env.WRAPUP_OTHER_CODE_ID;
  let code;
  let otherCode;
  try {
    const all = [];
    for (let page = 1; !(divisionId && codeId && otherCodeId); page += 1) {
      const listing = await routing.getRoutingWrapupcodes({ pageSize: 100, pageNumber: page });
      all.push(...(listing.entities || []));
      if (!listing.pageCount || page >= listing.pageCount) break;
    }
    const byId = new Map(all.map((w) => [w.id, w]));
    if (codeId && !divisionId && byId.has(codeId)) divisionId = byId.get(codeId).division.id;
    if (!divisionId) divisionId = all.find((w) => w.division && w.division.id).division.id;
    if (!codeId) codeId = all.find((w) => w.division && w.division.id === divisionId).id;
    if (!otherCodeId) otherCodeId = all.find((w) => w.division && w.division.id !== divisionId).id;
    code = byId.get(codeId) || await routing.getRoutingWrapupcode(codeId);
    otherCode = byId.get(otherCodeId) || await routing.getRoutingWrapupcode(otherCodeId);
  } catch (err) {
    crashed('finding the division and codes (set WRAPUP_DIVISION_ID, WRAPUP_CODE_ID, WRAPUP_OTHER_CODE_ID)', err);
    finish(2);
  }
  const otherDivisionName = otherCode.division && otherCode.division.name;
  console.log(`  division ${divisionId}; code "${code.name}" ${codeId}; other code "${otherCode.name}" ${otherCodeId} of division "${otherDivisionName}"`);
  check(code.division && code.division.id === divisionId, 'WrapupCode.division.id is the division', code.division && code.division.id);
  check(Boolean(otherDivisionName), "WrapupCode.division carries the division's name", otherDivisionName);
  check(typeof code.selfUri === 'string' && code.selfUri.endsWith(codeId), 'WrapupCode.selfUri ends with its id', code.selfUri);
  check(isIso(code.dateCreated), 'WrapupCode.dateCreated is ISO-8601 UTC', code.dateCreated);
  try {
    const divisions = await authorization.getAuthorizationDivisions({ pageSize: 100 });
    const d = (divisions.entities || []).find((x) => x.id === divisionId);
    check(Boolean(d), 'getAuthorizationDivisions lists the division', d && d.name);
    check(Number.isInteger(divisions.total), 'AuthzDivisionEntityListing.total is set', `total=${divisions.total}`);
  } catch (err) { crashed('getAuthorizationDivisions', err); }

  // --- an interaction, through wrapup's own API ---------------------------------------------------
  step("setup through wrapup's own API: create an interaction and activate it");
  const lifecycle = new WrapupLifecycle(baseUrl, token);
  let cid;
  try {
    cid = await lifecycle.create(divisionId, channel);
    await lifecycle.setState(cid, 'active');
  } catch (err) { crashed('creating and activating an interaction', err); finish(2); }
  console.log(`  interaction ${cid} is active`);

  // --- read the conversation and find the agent's communication ------------------------------------
  step("read the conversation; find the agent's communication");
  let pid;
  let commid;
  try {
    const conv = await conversations.getConversation(cid);
    check(conv.id === cid, 'getConversation: Conversation.id is the interaction id', conv.id);
    check(isIso(conv.startTime), 'Conversation.startTime is ISO-8601 UTC', conv.startTime);
    check(conv.endTime === undefined, 'Conversation.endTime is absent while active', conv.endTime);
    const divs = (conv.divisions || []).map((x) => x.division && x.division.id);
    check(divs.length === 1 && divs[0] === divisionId, "Conversation.divisions[].division.id is the interaction's division", divs);
    check((conv.participants || []).length === 2, 'two participants', (conv.participants || []).length);
    const { customer, agent, comm } = findParticipants(conv, mediaKey);
    check(Boolean(customer), "a participant with purpose 'customer'");
    check(Boolean(agent), "a participant with purpose 'agent'");
    if (agent) {
      check((agent[mediaKey] || []).length === 1, `the agent has exactly one communication in '${mediaKey}'`, (agent[mediaKey] || []).length);
      pid = agent.id;
    }
    if (comm) {
      commid = comm.id;
      check(comm.state === 'connected', "the agent's communication is 'connected' while active", comm.state);
      check(isIso(comm.connectedTime), 'its connectedTime is set', comm.connectedTime);
      check(!comm.afterCallWork || comm.afterCallWork.state !== 'pending', 'no pending afterCallWork while active',
        comm.afterCallWork && comm.afterCallWork.state);
    }
    if (customer) {
      const cc = customer[mediaKey] || [];
      check(cc.length === 1 && cc[0].id !== commid, 'the customer has its own communication of the same media', cc.map((x) => x.id));
    }
    const again = findParticipants(await conversations.getConversation(cid), mediaKey);
    check(again.agent && again.comm && again.agent.id === pid && again.comm.id === commid,
      'participant and communication ids are stable across reads', `${pid} / ${commid}`);
    const mconv = await media.get(cid);
    const magent = (mconv.participants || []).find((p) => p.purpose === 'agent');
    check(mconv.id === cid && magent && magent.id === pid, `getConversations${M}: the same agent participant id`, magent && magent.id);
    check(magent && magent.state === 'connected', "media view: the agent participant is 'connected'", magent && magent.state);
  } catch (err) { crashed('reading the conversation', err); }
  if (!pid || !commid) {
    console.log("\nCannot go on without the agent's participant and communication ids.");
    finish(1);
  }

  // --- list codes with paging -----------------------------------------------------------------------
  step('list codes with Genesys paging (pageSize=1, every page)');
  try {
    const first = await routing.getRoutingWrapupcodes({ pageSize: 1, pageNumber: 1, divisionId: [divisionId] });
    const total = first.total;
    check(Number.isInteger(total) && total >= 1, 'WrapupCodeEntityListing.total', `total=${total}`);
    check(first.pageSize === 1 && first.pageNumber === 1, 'pageSize and pageNumber echo the request', `pageSize=${first.pageSize} pageNumber=${first.pageNumber}`);
    check(first.pageCount === Math.ceil(total / 1), 'pageCount = ceil(total / pageSize)', `pageCount=${first.pageCount}`);
    check(Boolean(first.firstUri && first.selfUri && first.lastUri), 'firstUri, selfUri and lastUri are set', `${first.firstUri} | ${first.selfUri} | ${first.lastUri}`);
    check(first.previousUri === undefined, 'no previousUri on the first page', first.previousUri);
    check((first.nextUri !== undefined) === (total > 1), 'nextUri exactly when there is a next page', first.nextUri);
    const seen = [...(first.entities || [])];
    let last = first;
    for (let n = 2; n <= (first.pageCount || 1); n += 1) {
      last = await routing.getRoutingWrapupcodes({ pageSize: 1, pageNumber: n, divisionId: [divisionId] });
      seen.push(...(last.entities || []));
    }
    const ids = seen.map((e) => e.id);
    check(ids.length === total && new Set(ids).size === total, 'every page together lists each code once', `${ids.length} listed, ${new Set(ids).size} distinct, total ${total}`);
    check(ids.includes(codeId), "the division's code is listed", code.name);
    check(seen.every((e) => e.division && e.division.id === divisionId), 'every listed code is of the requested division');
    const names = seen.map((e) => e.name);
    check(isSorted(names, 1), 'sorted by name ascending (the default)', names);
    check(last.nextUri === undefined, 'no nextUri on the last page', last.nextUri);
    const desc = await routing.getRoutingWrapupcodes({ pageSize: 100, divisionId: [divisionId], sortOrder: 'descending' });
    const dnames = (desc.entities || []).map((e) => e.name);
    check(isSorted(dnames, -1), 'sortOrder=descending', dnames);
    const prefix = code.name.slice(0, Math.max(1, Math.floor(code.name.length / 2)));
    const wild = await routing.getRoutingWrapupcodes({ pageSize: 100, name: `${prefix}*`, divisionId: [divisionId] });
    check((wild.entities || []).some((e) => e.id === codeId), `name=${prefix}* (wildcard) finds the code`, (wild.entities || []).map((e) => e.name));
    const exact = await routing.getRoutingWrapupcodes({ pageSize: 100, id: [codeId, otherCodeId] });
    check(JSON.stringify((exact.entities || []).map((e) => e.id).sort()) === JSON.stringify([codeId, otherCodeId].sort()),
      'id=[two ids] (sent comma-joined, not encoded) lists exactly those two', (exact.entities || []).map((e) => e.name));
    const both = await routing.getRoutingWrapupcodes({ pageSize: 100, divisionId: [divisionId, otherCode.division.id] });
    const bids = (both.entities || []).map((e) => e.id);
    check(bids.includes(codeId) && bids.includes(otherCodeId), 'divisionId=[two divisions] lists codes of both', `total=${both.total}`);
  } catch (err) { crashed('listing codes', err); }

  // --- a wrap-up while connected is refused -------------------------------------------------------
  step('a wrap-up while the communication is connected is refused, with an explanation');
  try {
    const body = await refusal(media.postWrapup(cid, pid, commid, { code: codeId, notes: 'too early' }));
    if (check(body !== null, `postConversations${M}ParticipantCommunicationWrapup while connected is refused`, body === null ? 'it was accepted' : '')) {
      check(body.status === 400, 'ErrorBody.status is 400 (the SDK rejects with the parsed body)', body.status);
      check(typeof body.code === 'string' && Boolean(body.contextId), 'the body is an ErrorBody (code, contextId)', `code=${body.code}`);
      check(typeof body.message === 'string' && body.message.toLowerCase().includes('closed'), 'ErrorBody.message explains it must be closed first', body.message);
      check(Array.isArray(body.details) && body.details.every((d) => 'errorCode' in d), 'ErrorBody.details[].errorCode', (body.details || []).map((d) => d.errorCode));
    }
  } catch (err) { crashed('the early wrap-up', err); }

  // --- close and settle -------------------------------------------------------------------------------
  step("close the interaction and wait until it is finalized (wrapup's own API)");
  try {
    await lifecycle.setState(cid, 'closed');
    await lifecycle.waitFinalized(cid, settleTimeout);
    console.log(`  interaction ${cid} is closed and finalized`);
  } catch (err) { crashed('closing and settling', err); finish(1); }
  try {
    const conv = await conversations.getConversation(cid);
    const { agent, comm } = findParticipants(conv, mediaKey);
    check(comm && comm.state === 'disconnected', "after close: the agent's communication is 'disconnected'", comm && comm.state);
    const acw = comm && comm.afterCallWork;
    check(acw && acw.state === 'pending', "afterCallWork.state is 'pending'", acw && acw.state);
    check(acw && isIso(acw.startTime), 'afterCallWork.startTime is set', acw && acw.startTime);
    check(agent && agent.wrapupRequired === true, 'the agent participant has wrapupRequired: true', agent && agent.wrapupRequired);
    check(agent && isIso(agent.startAcwTime), 'startAcwTime is set', agent && agent.startAcwTime);
    check(isIso(conv.endTime), 'Conversation.endTime is set once closed', conv.endTime);
    const none = await refusal(conversations.getConversationParticipantWrapup(cid, pid));
    check(none !== null && none.status === 404, 'getConversationParticipantWrapup before any wrap-up is a 404', none && none.status);
    const codes = await conversations.getConversationParticipantWrapupcodes(cid, pid);
    const cids = (codes || []).map((w) => w.id);
    check(cids.includes(codeId) && !cids.includes(otherCodeId), "getConversationParticipantWrapupcodes: the division's codes, not the other division's", (codes || []).map((w) => w.name));
    const mcodes = await media.getParticipantWrapupcodes(cid, pid);
    check(JSON.stringify((mcodes || []).map((w) => w.id).sort()) === JSON.stringify([...cids].sort()), `getConversations${M}ParticipantWrapupcodes agrees`);
  } catch (err) { crashed('reading the closed conversation', err); }

  // --- the wrap-up, without durationSeconds, is accepted -------------------------------------------
  step('after close and settle, a wrap-up without durationSeconds is accepted');
  const notes = `JavaScript SDK flow ${crypto.randomBytes(4).toString('hex')}`;
  let accepted = false;
  try {
    const r = await media.postWrapup(cid, pid, commid, { code: codeId, notes });
    accepted = check(r === undefined, `postConversations${M}ParticipantCommunicationWrapup accepted (2xx, no body)`, r);
  } catch (err) { crashed('applying the wrap-up', err); }

  // --- it reads back ------------------------------------------------------------------------------------
  step('the wrap-up reads back');
  if (accepted) {
    try {
      const w = await conversations.getConversationParticipantWrapup(cid, pid);
      check(w.code === codeId, 'getConversationParticipantWrapup: AssignedWrapupCode.code', w.code);
      check(w.notes === notes, 'AssignedWrapupCode.notes', w.notes);
      check(Number.isInteger(w.durationSeconds) && w.durationSeconds >= 0, 'AssignedWrapupCode.durationSeconds is derived (an integer) when not sent', w.durationSeconds);
      check(isIso(w.endTime), 'AssignedWrapupCode.endTime is ISO-8601 UTC', w.endTime);
      const wm = await media.getParticipantWrapup(cid, pid);
      check(wm.code === codeId, `getConversations${M}ParticipantWrapup agrees`, wm.code);
      const wc = await media.getCommunicationWrapup(cid, pid, commid);
      check(wc.code === codeId, `getConversations${M}ParticipantCommunicationWrapup agrees`, wc.code);
    } catch (err) { crashed('reading the wrap-up back', err); }
  }

  // --- it shows on the conversation --------------------------------------------------------------------
  step('the wrap-up shows on the conversation');
  if (accepted) {
    try {
      const conv = await conversations.getConversation(cid);
      const { agent, comm } = findParticipants(conv, mediaKey);
      check(agent && agent.wrapup && agent.wrapup.code === codeId, 'Participant.wrapup.code', agent && agent.wrapup && agent.wrapup.code);
      check(agent && agent.wrapup && agent.wrapup.name === code.name, "Participant.wrapup.name is the code's name", agent && agent.wrapup && agent.wrapup.name);
      check(agent && isIso(agent.endAcwTime), 'Participant.endAcwTime is set', agent && agent.endAcwTime);
      check(comm && comm.wrapup && comm.wrapup.code === codeId, "the communication's wrapup.code", comm && comm.wrapup && comm.wrapup.code);
      const acw = comm && comm.afterCallWork;
      check(acw && acw.state === 'complete', "afterCallWork.state is 'complete'", acw && acw.state);
      check(acw && isIso(acw.endTime), 'afterCallWork.endTime is set', acw && acw.endTime);
      check(comm && comm.state === doneState, `the agent's communication is '${doneState}'`, comm && comm.state);
      const mconv = await media.get(cid);
      const magent = (mconv.participants || []).find((p) => p.purpose === 'agent');
      check(magent && magent.wrapup && magent.wrapup.code === codeId, `getConversations${M}: the agent participant's wrapup.code`, magent && magent.wrapup && magent.wrapup.code);
    } catch (err) { crashed('reading the conversation after the wrap-up', err); }
  }

  // --- the same wrap-up through PATCH participant -------------------------------------------------------
  step('the same wrap-up through PATCH .../participants/{pid} is accepted');
  if (accepted) {
    try {
      const r1 = await conversations.patchConversationParticipant(cid, pid, { wrapup: { code: codeId, notes } });
      check(r1 === undefined, 'patchConversationParticipant({wrapup}) accepted (2xx)', r1);
      if (M === 'Call') {
        const r2 = await conversations.patchConversationsCallParticipant(cid, pid, { wrapup: { code: codeId, notes } });
        check(r2 === undefined, 'patchConversationsCallParticipant({wrapup}) accepted (2xx)', r2);
      }
      const w = await conversations.getConversationParticipantWrapup(cid, pid);
      check(w.code === codeId && w.notes === notes, 'the wrap-up is unchanged', `${w.code} ${w.notes}`);
    } catch (err) { crashed('PATCH participant', err); }
  }

  // --- a code of another division is refused, naming the division -------------------------------------
  step('a code of another division is refused, naming that division');
  try {
    const body = await refusal(media.postWrapup(cid, pid, commid, { code: otherCodeId, durationSeconds: 60 }));
    if (check(body !== null, 'a wrap-up with a code of another division is refused', body === null ? 'it was accepted' : '')) {
      check(body.status === 400, 'ErrorBody.status is 400', body.status);
      check(Boolean(otherDivisionName) && typeof body.message === 'string' && body.message.includes(otherDivisionName),
        `ErrorBody.message names the code's division (${otherDivisionName})`, body.message);
      const fields = (body.details || []).map((d) => d.fieldName);
      check(fields.includes('code'), "ErrorBody.details[].fieldName names 'code' (the WrapupInput field)", fields);
    }
  } catch (err) { crashed('the wrap-up with a code of another division', err); }

  // --- optional: a token without the wrap-up permission -------------------------------------------------
  if (process.env.WRAPUP_VIEWER_CLIENT_ID) {
    step('a token without the wrap-up permission is refused (403), naming the permission');
    try {
      // The SDK's ApiClient is a singleton: switch its token for this call, then switch back.
      await client.loginClientCredentialsGrant(process.env.WRAPUP_VIEWER_CLIENT_ID, process.env.WRAPUP_VIEWER_CLIENT_SECRET || '');
      const body = await refusal(media.postWrapup(cid, pid, commid, { code: codeId, durationSeconds: 60 }));
      await client.loginClientCredentialsGrant(clientId, clientSecret);
      if (check(body !== null, "the viewer's wrap-up is refused", body === null ? 'it was accepted' : '')) {
        check(body.status === 403 || body.status === 404, 'refused with 403 (or 404 if the division is not granted)', body.status);
        if (body.status === 403) check(String(body.message).includes('conversation:participant:wrapup'), 'the message names conversation:participant:wrapup', body.message);
      }
    } catch (err) {
      crashed('the viewer step', err);
      await client.loginClientCredentialsGrant(clientId, clientSecret);
    }
  }

  // --- create, update and delete a code through RoutingApi ---------------------------------------------
  step('create, update and delete a code through RoutingApi');
  try {
    const name = `SDK flow js ${crypto.randomBytes(4).toString('hex')}`;
    const created = await routing.postRoutingWrapupcodes({ name, division: { id: divisionId }, description: 'Created by the JavaScript SDK flow.' });
    const newId = created.id;
    check(Boolean(newId), 'postRoutingWrapupcodes returned a WrapupCode with an id', newId);
    check(created.name === name, 'its name', created.name);
    check(created.division && created.division.id === divisionId && Boolean(created.division.name), 'its division {id, name}', created.division);
    check(isIso(created.dateCreated) && isIso(created.dateModified), 'dateCreated and dateModified', `${created.dateCreated} ${created.dateModified}`);
    check(Boolean(created.createdBy), 'createdBy is set', created.createdBy);
    const got = await routing.getRoutingWrapupcode(newId);
    check(got.id === newId && got.name === name, 'getRoutingWrapupcode reads it', got.name);
    const updated = await routing.putRoutingWrapupcode(newId, { name: `${name} renamed`, division: { id: divisionId } });
    check(updated.id === newId && updated.name === `${name} renamed`, 'putRoutingWrapupcode renames it', updated.name);
    check(isIso(updated.dateModified) && Date.parse(updated.dateModified) >= Date.parse(created.dateModified), 'dateModified moved forward (or stayed)', updated.dateModified);
    const del = await routing.deleteRoutingWrapupcode(newId);
    check(del === undefined, 'deleteRoutingWrapupcode accepted (2xx)', del);
    const gone = await refusal(routing.getRoutingWrapupcode(newId));
    check(gone !== null && gone.status === 404, 'after DELETE, getRoutingWrapupcode is a 404', gone && gone.status);
    const listed = await routing.getRoutingWrapupcodes({ pageSize: 100, id: [newId] });
    check((listed.entities || []).length === 0, 'after DELETE, the listing no longer has it', `total=${listed.total}`);
  } catch (err) { crashed('RoutingApi create/update/delete', err); }

  // --- queues, agents and after-call work (docs/genesys.md#queues-agents-and-after-call-work) -----------
  step('queues with codes through RoutingApi; an agent through UsersApi');
  try {
    const users = new platformClient.UsersApi();
    const newQueue = async (wrapupPrompt, timeoutMs) => {
      const acwSettings = timeoutMs === undefined ? { wrapupPrompt } : { wrapupPrompt, timeoutMs };
      const q = await routing.postRoutingQueues({
        name: `SDK flow js ${channel} ${wrapupPrompt} ${crypto.randomBytes(4).toString('hex')}`,
        division: { id: divisionId }, acwSettings,
      });
      await routing.postRoutingQueueWrapupcodes(q.id, [{ id: codeId }]);
      return q;
    };
    const routed = async (queueId, agentId) => {
      const rid = await lifecycle.createRouted(divisionId, channel, queueId);
      await lifecycle.answer(rid, agentId);
      await lifecycle.setState(rid, 'closed');
      await lifecycle.waitFinalized(rid, settleTimeout);
      return { rid, agent: findParticipants(await conversations.getConversation(rid), mediaKey).agent };
    };
    const timeoutMs = 1000;
    const mandatory = await newQueue('MANDATORY');
    check(mandatory.acwSettings && mandatory.acwSettings.wrapupPrompt === 'MANDATORY', 'postRoutingQueues: Queue.acwSettings.wrapupPrompt', mandatory.acwSettings);
    const gotQueue = await routing.getRoutingQueue(mandatory.id);
    check(gotQueue.name === mandatory.name && gotQueue.division.id === divisionId, 'getRoutingQueue reads it', gotQueue.name);
    const queueCodes = await routing.getRoutingQueueWrapupcodes(mandatory.id, { pageSize: 25 });
    check((queueCodes.entities || []).map((w) => w.id).join() === codeId, 'getRoutingQueueWrapupcodes: the code assigned', (queueCodes.entities || []).map((w) => w.name));
    const timed = await newQueue('MANDATORY_TIMEOUT', timeoutMs);
    check(timed.acwSettings.timeoutMs === timeoutMs, 'Queue.acwSettings.timeoutMs', timed.acwSettings.timeoutMs);
    const optional = await newQueue('OPTIONAL');

    const listed = await users.getUsers({ pageSize: 100 });
    let agentUser = (listed.entities || []).find((u) => u.division && u.division.id === divisionId);
    if (!agentUser) agentUser = await users.getUser((await lifecycle.createUser('SDK flow agent', 'sdk-flow@example.com', divisionId)).id);
    check(Boolean(agentUser.id) && agentUser.state === 'active', 'UsersApi: an active agent of the division', `${agentUser.name} ${agentUser.id}`);
    check((await users.getUser(agentUser.id)).email === agentUser.email, 'getUser reads the agent', agentUser.email);

    step("the agent participant of a queue's interaction: userId, queueId, prompt, the queue's codes");
    let r = await routed(mandatory.id, agentUser.id);
    check(r.agent.userId === agentUser.id, 'Participant.userId is the agent', r.agent.userId);
    check(r.agent.queueId === mandatory.id, 'Participant.queueId is the queue', r.agent.queueId);
    check(r.agent.wrapupPrompt === 'mandatory', 'Participant.wrapupPrompt', r.agent.wrapupPrompt);
    const allowed = await conversations.getConversationParticipantWrapupcodes(r.rid, r.agent.id);
    check(allowed.map((w) => w.id).join() === codeId, "the participant's codes are the queue's", allowed.map((w) => w.name));
    const divisionCodes = await routing.getRoutingWrapupcodes({ pageSize: 100, divisionId: [divisionId] });
    const outside = (divisionCodes.entities || []).find((w) => w.id !== codeId);
    if (outside) {
      const body = await refusal(conversations.patchConversationParticipant(r.rid, r.agent.id, { wrapup: { code: outside.id } }));
      if (check(body !== null, 'a code outside the queue is refused', body === null ? 'it was accepted' : '')) {
        check(body.status === 400 && body.code === 'wrapup.code.not.in.queue', 'refused with wrapup.code.not.in.queue', `${body.status} ${body.code}`);
        check(String(body.message).includes(mandatory.name), 'the message names the queue', body.message);
      }
    }

    step('a time-boxed queue: ININ-WRAP-UP-TIMEOUT once the timeout passes');
    r = await routed(timed.id, agentUser.id);
    check(r.agent.wrapupPrompt === 'timeout', 'Participant.wrapupPrompt is timeout', r.agent.wrapupPrompt);
    check(r.agent.wrapupTimeoutMs === timeoutMs, 'Participant.wrapupTimeoutMs', r.agent.wrapupTimeoutMs);
    // The server applies it when the deadline passes: poll the SDK read (a few 200 ms steps).
    let timedCode = null;
    const until = Date.now() + settleTimeout * 1000;
    while (timedCode === null && Date.now() < until) {
      const body = await refusal(conversations.getConversationParticipantWrapup(r.rid, r.agent.id).then((w) => { timedCode = w.code; }));
      if (body !== null && body.status !== 404) throw new Error(JSON.stringify(body));
      if (timedCode === null) await new Promise((res) => setTimeout(res, 200));
    }
    check(timedCode === 'ININ-WRAP-UP-TIMEOUT', 'getConversationParticipantWrapup: ININ-WRAP-UP-TIMEOUT', timedCode);

    step('an optional queue: the agent skips the wrap-up');
    r = await routed(optional.id, agentUser.id);
    check(r.agent.wrapupPrompt === 'optional' && r.agent.wrapupRequired === false, 'Participant.wrapupPrompt optional, wrapupRequired false', `${r.agent.wrapupPrompt} ${r.agent.wrapupRequired}`);
    await conversations.patchConversationParticipant(r.rid, r.agent.id, { wrapupSkipped: true });
    const skipped = findParticipants(await conversations.getConversation(r.rid), mediaKey);
    check(skipped.agent.wrapupSkipped === true, 'Participant.wrapupSkipped', skipped.agent.wrapupSkipped);
    check(skipped.comm && skipped.comm.afterCallWork && skipped.comm.afterCallWork.state === 'skipped', 'afterCallWork.state is skipped', skipped.comm && skipped.comm.afterCallWork);
  } catch (err) { crashed('queues, agents and after-call work', err); }

  finish();
}

main().catch((err) => { crashed('the flow', err); finish(1); });
