#!/usr/bin/env node
// Genesys notifications (docs/genesys.md#notifications) with the official JavaScript SDK
// (purecloud-platform-client-v2, pinned) for the REST half and the `ws` library (pinned) for the
// socket, against a real `wrapup serve --demo` (run by .ci/genesys-sdks): the same checks as
// notifications.py.
//
// The SDK creates the channels, subscribes through REST, lists the available topics and applies
// the wrap-up; `ws` connects to connectUri as given, subscribes over the socket, pings, and
// receives `.acw` when the interaction closes and `.wrapup` when the SDK sets the wrap-up. The JS
// SDK has no runtime model classes: its models are the TypeScript interfaces of its index.d.ts, so
// each body is checked against the SDK's own interface (AcwDetailEventTopicAfterCallWorkEvent,
// WrapupDetailEventTopicWrapupEvent): every field declared, of the declared type. A client of the
// other division is Rejected and receives nothing; a socket that reconnects within the replay window
// gets what it missed (by itself, and from `?after=<sequence>`). What the SDK cannot do goes through
// wrapup's own API in `Wrapup` below (Node's standard library only).
//
// Environment: WRAPUP_URL (default http://127.0.0.1:8080), WRAPUP_CLIENT_ID / WRAPUP_CLIENT_SECRET
// (default: the demo client), WRAPUP_SETTLE_TIMEOUT_S (default 30). The last line is
// "N passed, M failed"; exit status 1 if any check failed.
'use strict';

process.env.NO_PROXY = [process.env.NO_PROXY, '127.0.0.1', 'localhost', '::1'].filter(Boolean).join(',');

const fs = require('fs');
const http = require('http');
const crypto = require('crypto');
const platformClient = require('purecloud-platform-client-v2');
const WebSocket = require('ws');

const DEMO_CLIENT_ID = '00000000-0000-4000-8000-00000000d001';
const DEMO_CLIENT_SECRET = 'demo-secret-not-for-production';
const SALES = '00000000-0000-4000-8000-0000000000a1';
const SUPPORT = '00000000-0000-4000-8000-0000000000a2';
const CODE_SALE = '00000000-0000-4000-8000-0000000000c1';
const QUEUE_SALES = '00000000-0000-4000-8000-0000000001b1';
const USER_ADA = '00000000-0000-4000-8000-0000000001a1';
const WAIT_MS = 10000;
const QUIET_MS = 1000;

const counts = { passed: 0, failed: 0 };
function check(ok, what, detail) {
  const d = detail === undefined || detail === '' ? '' : `  (${typeof detail === 'string' ? detail : JSON.stringify(detail)})`;
  if (ok) counts.passed += 1; else counts.failed += 1;
  console.log(`  ${ok ? '✓' : '✗'} ${what}${d}`);
  return Boolean(ok);
}
function step(title) { console.log(`\n== ${title}`); }

// wrapup's own API (the SDK has no such calls).
class Wrapup {
  constructor(baseUrl, token) { this.base = new URL(baseUrl); this.token = token; }

  call(method, path, body) {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request({
        hostname: this.base.hostname, port: this.base.port, method, path,
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
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  // A Sales call of the MANDATORY queue answered by Ada: the events carry her userId and the queueId.
  async answeredCall() {
    const { id } = await this.call('POST', '/api/v2/interactions', { divisionId: SALES, channel: 'voice', queueId: QUEUE_SALES });
    await this.call('POST', `/api/v2/interactions/${id}/state`, { state: 'active', agentId: USER_ADA });
    return id;
  }

  close(id) { return this.call('POST', `/api/v2/interactions/${id}/state`, { state: 'closed' }); }

  // Until the interaction is finalized (the settle time): a short poll, bounded.
  async waitFinalized(id, timeoutS) {
    const deadline = Date.now() + timeoutS * 1000;
    while (Date.now() < deadline) {
      if ((await this.call('GET', `/api/v2/interactions/${id}`)).finalized) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`interaction ${id} was not finalized within ${timeoutS} s`);
  }
}

// The SDK's model of a body: its TypeScript interface in index.d.ts, field -> type.
function sdkModel(name) {
  const dts = fs.readFileSync(require.resolve('purecloud-platform-client-v2/index.d.ts'), 'utf8');
  const m = dts.match(new RegExp(`export interface ${name} \\{([^}]*)\\}`));
  if (!m) throw new Error(`the SDK has no model ${name}`);
  const fields = {};
  for (const line of m[1].split('\n')) {
    const f = line.match(/"(\w+)"\?: ([^;]+);/);
    if (f) fields[f[1]] = f[2].trim();
  }
  return fields;
}
function conforms(body, model) {
  const wrong = [];
  for (const [key, value] of Object.entries(body)) {
    const type = model[key];
    const ok = type === 'number' ? Number.isInteger(value)
      : type === 'string' ? typeof value === 'string'
        : type === 'boolean' ? typeof value === 'boolean'
          : type && type.startsWith('Array<') ? Array.isArray(value) : false;
    if (!ok) wrong.push(`${key}: ${JSON.stringify(value)} (the SDK declares ${type || 'no such field'})`);
  }
  return wrong;
}

// A ws connection and what it received.
class Socket {
  constructor(ws) {
    this.ws = ws;
    this.events = [];
    this.others = [];
    this.waiters = [];
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      const topic = message.topicName || '';
      if (topic && topic !== 'channel.metadata' && !topic.startsWith('v2.system.')) this.events.push(message);
      else this.others.push(message);
      for (const w of this.waiters.slice()) if (w.pred(message)) w.resolve(message);
    });
  }

  // The first message, from now on or already received, for which pred is true; null after timeoutMs.
  waitFor(pred, timeoutMs = WAIT_MS) {
    const seen = this.events.concat(this.others).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const w = { pred, resolve: (m) => { clearTimeout(timer); this.waiters = this.waiters.filter((x) => x !== w); resolve(m); } };
      const timer = setTimeout(() => w.resolve(null), timeoutMs);
      this.waiters.push(w);
    });
  }

  event(topic, timeoutMs) { return this.waitFor((m) => m.topicName === topic, timeoutMs); }

  send(message) { this.ws.send(JSON.stringify(message)); }

  close() {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) { resolve(); return; }
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

// Connects to uri as given; a 409 (the previous socket of the channel not yet seen to go) is retried.
async function openSocket(uri) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const ws = await new Promise((resolve, reject) => {
        const w = new WebSocket(uri, { handshakeTimeout: 10000 });
        w.once('open', () => resolve(w));
        w.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
        w.once('error', reject);
      });
      return new Socket(ws);
    } catch (err) {
      if (err.status !== 409 || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const topicsOf = (cid) => ['acw', 'wrapup', 'customer.end', 'user.end'].map((w) => `v2.detail.events.conversation.${cid}.${w}`);
const withAfter = (uri, seq) => `${uri}${uri.includes('?') ? '&' : '?'}after=${seq}`;

async function login(client, id, secret) { await client.loginClientCredentialsGrant(id, secret); return client.authData.accessToken; }

async function main() {
  const baseUrl = (process.env.WRAPUP_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const clientId = process.env.WRAPUP_CLIENT_ID || DEMO_CLIENT_ID;
  const clientSecret = process.env.WRAPUP_CLIENT_SECRET || DEMO_CLIENT_SECRET;
  const settle = Number(process.env.WRAPUP_SETTLE_TIMEOUT_S || '30');
  console.log(`purecloud-platform-client-v2 ${require('purecloud-platform-client-v2/package.json').version}, `
    + `ws ${require('ws/package.json').version}, against ${baseUrl}`);

  step('token, and the topics through NotificationsApi');
  const url = new URL(baseUrl);
  const client = platformClient.ApiClient.instance;
  client.setGateway({ host: url.hostname, protocol: url.protocol.replace(':', ''), port: Number(url.port) || 80 });
  const token = await login(client, clientId, clientSecret);
  const notifications = new platformClient.NotificationsApi();
  const conversations = new platformClient.ConversationsApi();
  const wrapup = new Wrapup(baseUrl, token);
  const available = await notifications.getNotificationsAvailabletopics({ expand: ['description', 'requiresPermissions', 'schema'], includePreview: true });
  const ids = (available.entities || []).map((t) => t.id);
  for (const topic of ['v2.detail.events.conversation.{id}.acw', 'v2.detail.events.conversation.{id}.wrapup',
    'v2.detail.events.conversation.{id}.customer.end', 'v2.detail.events.conversation.{id}.user.end',
    'v2.users.{id}.conversations', 'v2.routing.queues.{id}.conversations']) {
    check(ids.includes(topic), `getNotificationsAvailabletopics lists ${topic}`);
  }

  step('a channel through NotificationsApi');
  const channel = await notifications.postNotificationsChannels();
  check(Boolean(channel.id), 'postNotificationsChannels: Channel.id', channel.id);
  check(String(channel.connectUri).startsWith('ws://') && channel.connectUri.includes(channel.id),
    'Channel.connectUri is a ws:// URI naming the channel', channel.connectUri);
  check(!Number.isNaN(Date.parse(channel.expires)), 'Channel.expires is a date', channel.expires);
  await notifications.headNotificationsChannel(channel.id);
  check(true, 'headNotificationsChannel: 200');
  const listed = await notifications.getNotificationsChannels({ includechannels: 'token' });
  check((listed.entities || []).some((x) => x.id === channel.id), 'getNotificationsChannels lists it');

  step('subscriptions through REST');
  const cid = await wrapup.answeredCall();
  const topics = topicsOf(cid);
  const put = await notifications.putNotificationsChannelSubscriptions(channel.id, topics.slice(0, 2).map((id) => ({ id })));
  check((put.entities || []).length === 2 && put.entities.every((t) => t.state === 'Permitted'),
    'putNotificationsChannelSubscriptions: .acw and .wrapup Permitted', (put.entities || []).map((t) => t.state));
  const got = await notifications.getNotificationsChannelSubscriptions(channel.id);
  check((got.entities || []).map((t) => t.id).sort().join() === topics.slice(0, 2).sort().join(), 'getNotificationsChannelSubscriptions lists them');

  step("the other division's client: Rejected through REST");
  const other = await wrapup.call('POST', '/api/v2/oauth/clients', {
    name: `notifications flow js ${crypto.randomUUID().slice(0, 8)}`,
    scopes: ['interaction:view', 'interaction:write', 'wrapup-code:view'], divisions: [SUPPORT],
  });
  await login(client, other.clientId, other.clientSecret);
  const otherChannel = await notifications.postNotificationsChannels();
  const rejected = await notifications.putNotificationsChannelSubscriptions(otherChannel.id, topics.map((id) => ({ id })), { ignoreErrors: true });
  await login(client, clientId, clientSecret);
  const states = (rejected.entities || []).map((t) => t.state);
  check(states.length === topics.length && states.every((s) => s === 'Rejected'), 'each topic of a Sales conversation is Rejected for a Support client', states);
  check((rejected.entities || []).every((t) => t.rejectionReason), 'each with a rejectionReason', (rejected.entities || [{}])[0].rejectionReason);

  step('ws: connect to connectUri, ping, subscribe over the socket');
  let main = await openSocket(channel.connectUri);
  check(true, 'connected to connectUri as given');
  main.send({ message: 'ping' });
  const pong = await main.waitFor((m) => m.topicName === 'channel.metadata' && (m.eventBody || {}).message === 'pong');
  check(pong !== null, '{"message":"ping"} is answered by a channel.metadata pong');
  const correlationId = crypto.randomUUID();
  main.send({ message: 'subscribe', topics: topics.slice(2), correlationId });
  const answer = await main.waitFor((m) => m.correlationId === correlationId);
  check(answer && answer.result === '200' && answer.status === 'subscribed', "the socket's subscribe is answered result 200, subscribed", answer);
  const spy = await openSocket(otherChannel.connectUri);
  spy.send({ message: 'subscribe', topics, correlationId: crypto.randomUUID() });
  const spyAnswer = await spy.waitFor((m) => 'result' in m);
  check(spyAnswer && spyAnswer.result !== '200', "the other division's subscribe over the socket is refused", spyAnswer);

  step('the interaction closes: .acw, as the SDK models AcwDetailEventTopicAfterCallWorkEvent');
  await wrapup.close(cid);
  const acw = await main.event(topics[0]);
  if (check(acw !== null, `received ${topics[0]}`)) {
    check(acw.version === '2', 'the envelope\'s version is "2"', acw.version);
    check(Boolean(acw.metadata && acw.metadata.CorrelationId), 'metadata.CorrelationId');
    check(Number.isInteger(acw.metadata && acw.metadata.sequence), 'metadata.sequence is an integer', acw.metadata);
    const b = acw.eventBody;
    const wrong = conforms(b, sdkModel('AcwDetailEventTopicAfterCallWorkEvent'));
    check(wrong.length === 0, 'every field is declared by the SDK, with its type', wrong.join('; '));
    check(b.conversationId === cid && b.mediaType === 'VOICE', 'conversationId, mediaType VOICE', `${b.conversationId} ${b.mediaType}`);
    check(Number.isInteger(b.eventTime) && Math.abs(b.eventTime - Date.now()) < 300000, 'eventTime in epoch milliseconds', b.eventTime);
    check(b.userId === USER_ADA && b.queueId === QUEUE_SALES, 'userId and queueId', `${b.userId} ${b.queueId}`);
  }

  step('the SDK applies the wrap-up: .wrapup, as the SDK models WrapupDetailEventTopicWrapupEvent');
  await wrapup.waitFinalized(cid, settle);
  let conversation = await conversations.getConversation(cid);
  let agent = conversation.participants.find((p) => p.purpose === 'agent');
  await conversations.postConversationsCallParticipantCommunicationWrapup(cid, agent.id, agent.calls[0].id, { body: { code: CODE_SALE, notes: 'From the JS notifications flow' } });
  const wrapped = await main.event(topics[1]);
  if (check(wrapped !== null, `received ${topics[1]}`)) {
    const b = wrapped.eventBody;
    const wrong = conforms(b, sdkModel('WrapupDetailEventTopicWrapupEvent'));
    check(wrong.length === 0, 'every field is declared by the SDK, with its type', wrong.join('; '));
    check(b.wrapupCode === CODE_SALE && b.wrapupNotes === 'From the JS notifications flow', 'wrapupCode and wrapupNotes', `${b.wrapupCode} ${b.wrapupNotes}`);
    check(Number.isInteger(b.wrapupDurationMs), 'wrapupDurationMs', b.wrapupDurationMs);
    check(b.conversationId === cid && b.participantId === agent.id, "conversationId and participantId (the SDK's agent)", b.participantId);
  }
  const seqs = main.events.map((m) => m.metadata.sequence);
  check(seqs.every((s, i) => i === 0 || s >= seqs[i - 1]), 'sequences never decrease', seqs);
  const bySeq = Object.fromEntries(main.events.map((m) => [m.topicName, m.metadata.sequence]));
  const closeSeqs = [topics[0], topics[2], topics[3]].map((t) => bySeq[t]);
  check(closeSeqs.every((s) => s !== undefined && s === closeSeqs[0]), "the close's .acw, .customer.end and .user.end share its sequence (one change)", closeSeqs);
  check(bySeq[topics[1]] > bySeq[topics[0]], "the wrap-up's sequence is later", `${bySeq[topics[0]]} < ${bySeq[topics[1]]}`);
  check(main.events.every((m) => topics.includes(m.topicName)), 'only subscribed topics were delivered');

  step('a client of another division receives nothing');
  await spy.waitFor(() => false, QUIET_MS);
  check(spy.events.length === 0, "no event reached the Support client's socket", `${spy.events.length} events`);
  await spy.close();

  step('a reconnect within the replay window gets what it missed');
  const cid2 = await wrapup.answeredCall();
  const topics2 = topicsOf(cid2);
  await notifications.postNotificationsChannelSubscriptions(channel.id, topics2.map((id) => ({ id })));
  await main.close();
  await wrapup.close(cid2);
  main = await openSocket(channel.connectUri);
  const missed = await main.event(topics2[0]);
  check(missed !== null, 'reconnected to connectUri: the .acw committed meanwhile is delivered');
  const last = missed ? missed.metadata.sequence : 0;
  await main.close();
  await wrapup.waitFinalized(cid2, settle);
  conversation = await conversations.getConversation(cid2);
  agent = conversation.participants.find((p) => p.purpose === 'agent');
  await conversations.postConversationsCallParticipantCommunicationWrapup(cid2, agent.id, agent.calls[0].id, { body: { code: CODE_SALE } });
  main = await openSocket(withAfter(channel.connectUri, last));
  const replayed = await main.event(topics2[1]);
  check(replayed !== null, `?after=${last}: the .wrapup applied while disconnected is delivered`);
  check(main.events.every((m) => m.metadata.sequence > last), `and nothing at or before #${last}`, main.events.map((m) => m.metadata.sequence));
  await main.close();
}

main().then(() => {
  console.log(`\n${counts.passed} passed, ${counts.failed} failed`);
  process.exit(counts.failed === 0 && counts.passed > 0 ? 0 : 1);
}, (err) => {
  counts.failed += 1;
  console.log(`  ✗ the notifications flow failed: ${err instanceof Error ? err.stack : JSON.stringify(err)}`);
  console.log(`\n${counts.passed} passed, ${counts.failed} failed`);
  process.exit(1);
});
