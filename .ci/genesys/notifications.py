#!/usr/bin/env python3
"""Genesys notifications (docs/genesys.md#notifications) with the official Python SDK
(purecloudplatformclientv2, pinned) for the REST half and the `websockets` library (pinned) for
the socket, against a real `wrapup serve --demo` (run by .ci/genesys-sdks).

The SDK creates the channels, subscribes through REST, lists the available topics and applies
the wrap-up; `websockets` connects to `connectUri` as given, subscribes over the socket, pings,
and receives `.acw` when the interaction closes and `.wrapup` when the SDK sets the wrap-up, each
body parsed by the SDK's own model class through its ApiClient's deserializer. A client of the
other division is Rejected and receives nothing; a socket that reconnects within the replay
window gets what it missed (by itself, and from `?after=<sequence>`). What the SDK cannot do
(create an interaction, answer it, close it, create the other division's client) goes through
wrapup's own API in `Wrapup` below (plain HTTP, standard library only).

Environment: WRAPUP_URL (default http://127.0.0.1:8080), WRAPUP_CLIENT_ID / WRAPUP_CLIENT_SECRET
(default: the demo client, which must be an admin of every division), WRAPUP_SETTLE_TIMEOUT_S
(default 30). Every check prints what it checked; the last line is "N passed, M failed"; exit
status 1 if any check failed (2 if the flow could not run at all).
"""
import asyncio
import http.client
import importlib.metadata
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import PureCloudPlatformClientV2 as G
import websockets
from PureCloudPlatformClientV2.rest import ApiException
from websockets.asyncio.client import connect

DEMO_CLIENT_ID = "00000000-0000-4000-8000-00000000d001"
DEMO_CLIENT_SECRET = "demo-secret-not-for-production"
SALES = "00000000-0000-4000-8000-0000000000a1"
SUPPORT = "00000000-0000-4000-8000-0000000000a2"
CODE_SALE = "00000000-0000-4000-8000-0000000000c1"
QUEUE_SALES = "00000000-0000-4000-8000-0000000001b1"   # MANDATORY, codes Sale and No sale
USER_ADA = "00000000-0000-4000-8000-0000000001a1"
WAIT_S = 10.0          # for an event that must come
QUIET_S = 1.0          # for an event that must not come, after the one that must has come


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        mark = "✓" if ok else "✗"
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"  {mark} {what}" + (f"  ({detail})" if detail else ""))
        return ok

    def step(self, title):
        print(f"\n== {title}")

    def crashed(self, what, exc):
        self.failed += 1
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, ApiException):
            detail = f"HTTP {exc.status} {exc.reason}: {exc.body}"
        print(f"  ✗ {what} raised {detail}")


C = Checks()


class Wrapup:
    """wrapup's own API (the SDK has no such calls), with the token the SDK obtained."""

    def __init__(self, base_url, token):
        self.base = base_url.rstrip("/")
        self.token = token

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
            "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path} -> HTTP {e.code}: {e.read().decode(errors='replace')}") from None

    def answered_call(self):
        """A Sales call of the MANDATORY queue, answered by Ada: an agent participant with its
        userId and queueId, as the detail events carry them."""
        cid = self.call("POST", "/api/v2/interactions",
                        {"divisionId": SALES, "channel": "voice", "queueId": QUEUE_SALES})["id"]
        self.call("POST", f"/api/v2/interactions/{cid}/state", {"state": "active", "agentId": USER_ADA})
        return cid

    def close(self, cid):
        self.call("POST", f"/api/v2/interactions/{cid}/state", {"state": "closed"})

    def wait_finalized(self, cid, timeout_s):
        """The event stream first, then a read, then interaction.finalized (docs/events.md)."""
        u = urllib.parse.urlsplit(self.base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout_s)
        conn.request("GET", f"{u.path.rstrip('/')}/api/v2/interactions/events?interactionId={cid}",
                     headers={"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"})
        resp = conn.getresponse()
        try:
            if self.call("GET", f"/api/v2/interactions/{cid}").get("finalized"):
                return
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                line = resp.fp.readline()
                if not line:
                    break
                if line.startswith(b"data:") and json.loads(line[5:]).get("finalized"):
                    return
            raise RuntimeError(f"interaction {cid} was not finalized within {timeout_s} s")
        finally:
            conn.close()


class Model:
    """What the SDK's ApiClient.deserialize reads: a response's data and content type."""

    def __init__(self, value):
        self.data = json.dumps(value)

    def getheader(self, name, default=None):
        return "application/json" if name.lower() == "content-type" else default


def sdk(base_url, client_id, client_secret):
    api = G.ApiClient(host=base_url)
    api.gateway_configuration = None
    api.get_client_credentials_token(client_id, client_secret)
    return api


def topics_of(cid):
    return [f"v2.detail.events.conversation.{cid}.{what}" for what in ("acw", "wrapup", "customer.end", "user.end")]


def channel_topics(ids):
    out = []
    for topic in ids:
        t = G.ChannelTopic()
        t.id = topic
        out.append(t)
    return out


class Socket:
    """A websockets connection and the messages it received, by kind."""

    def __init__(self, ws):
        self.ws = ws
        self.events = []      # topic events, in arrival order
        self.others = []      # every other message

    async def next_message(self, timeout):
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        return json.loads(raw)

    async def wait_for(self, pred, timeout=WAIT_S):
        """The first message (event or not) for which pred is true; every message on the way is
        kept. None when none came in time."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                message = await self.next_message(left)
            except (asyncio.TimeoutError, websockets.ConnectionClosed):
                return None
            topic = message.get("topicName") or ""
            if topic and topic != "channel.metadata" and not topic.startswith("v2.system."):
                self.events.append(message)
            else:
                self.others.append(message)
            if pred(message):
                return message

    async def event(self, topic, timeout=WAIT_S):
        return await self.wait_for(lambda m: m.get("topicName") == topic, timeout)


async def open_socket(uri, attempts=20):
    """Connects to `uri` as given; a 409 (the server has not yet seen the previous socket of
    the channel go) is retried for a moment."""
    for attempt in range(attempts):
        try:
            return Socket(await connect(uri, open_timeout=10))
        except websockets.InvalidStatus as e:
            if e.response.status_code != 409 or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.1)


def with_after(uri, sequence):
    return uri + ("&" if "?" in uri else "?") + f"after={sequence}"


async def flow():
    c = C
    base_url = os.environ.get("WRAPUP_URL", "http://127.0.0.1:8080").rstrip("/")
    settle = float(os.environ.get("WRAPUP_SETTLE_TIMEOUT_S", "30"))
    print(f"purecloudplatformclientv2 {importlib.metadata.version('purecloudplatformclientv2')}, "
          f"websockets {importlib.metadata.version('websockets')}, against {base_url}")

    c.step("token, and the topics through NotificationsApi")
    api = sdk(base_url, os.environ.get("WRAPUP_CLIENT_ID", DEMO_CLIENT_ID),
              os.environ.get("WRAPUP_CLIENT_SECRET", DEMO_CLIENT_SECRET))
    notifications = G.NotificationsApi(api)
    conversations = G.ConversationsApi(api)
    wrapup = Wrapup(base_url, api.access_token)
    available = notifications.get_notifications_availabletopics(
        expand=["description", "requiresPermissions", "schema", "transports"], include_preview=True)
    ids = [t.id for t in available.entities or []]
    for topic in ("v2.detail.events.conversation.{id}.acw", "v2.detail.events.conversation.{id}.wrapup",
                  "v2.detail.events.conversation.{id}.customer.end", "v2.detail.events.conversation.{id}.user.end",
                  "v2.users.{id}.conversations", "v2.routing.queues.{id}.conversations"):
        c.check(topic in ids, f"get_notifications_availabletopics lists {topic}")
    acw_topic = next((t for t in available.entities or [] if t.id.endswith(".acw")), None)
    c.check(acw_topic is not None and bool(acw_topic.description), "an AvailableTopic has its description",
            acw_topic.description if acw_topic else None)

    c.step("a channel through NotificationsApi")
    channel = notifications.post_notifications_channels()
    c.check(bool(channel.id), "post_notifications_channels: Channel.id", channel.id)
    c.check((channel.connect_uri or "").startswith("ws://") and channel.id in channel.connect_uri,
            "Channel.connectUri is a ws:// URI of this server naming the channel", channel.connect_uri)
    c.check(channel.expires is not None and channel.expires.tzinfo is not None,
            "Channel.expires is a timezone-aware datetime", repr(channel.expires))
    c.check(notifications.head_notifications_channel(channel.id) is None, "head_notifications_channel: 200")
    try:
        notifications.head_notifications_channel("streaming-0-" + str(uuid.uuid4()))
        c.check(False, "head_notifications_channel of an unknown channel: 404", "it answered 2xx")
    except ApiException as e:
        c.check(e.status == 404, "head_notifications_channel of an unknown channel: 404", e.status)
    listed = notifications.get_notifications_channels(includechannels="token")
    c.check(channel.id in [x.id for x in listed.entities or []], "get_notifications_channels lists it")

    c.step("subscriptions through REST (PUT replaces, POST adds, GET lists)")
    cid = wrapup.answered_call()
    topics = topics_of(cid)
    put = notifications.put_notifications_channel_subscriptions(channel.id, channel_topics(topics[:2]))
    c.check([(t.id, t.state) for t in put.entities or []] == [(t, "Permitted") for t in topics[:2]],
            "put_notifications_channel_subscriptions: .acw and .wrapup Permitted",
            str([(t.id[-7:], t.state) for t in put.entities or []]))
    got = notifications.get_notifications_channel_subscriptions(channel.id)
    c.check(sorted(t.id for t in got.entities or []) == sorted(topics[:2]),
            "get_notifications_channel_subscriptions lists them")

    c.step("the other division's client: Rejected through REST")
    other = wrapup.call("POST", "/api/v2/oauth/clients", {
        "name": f"notifications flow {uuid.uuid4().hex[:8]}",
        "scopes": ["interaction:view", "interaction:write", "wrapup-code:view"],
        "divisions": [SUPPORT]})
    other_api = sdk(base_url, other["clientId"], other["clientSecret"])
    other_notifications = G.NotificationsApi(other_api)
    other_channel = other_notifications.post_notifications_channels()
    rejected = other_notifications.put_notifications_channel_subscriptions(
        other_channel.id, channel_topics(topics), ignore_errors=True)
    states = [t.state for t in rejected.entities or []]
    c.check(len(states) == len(topics) and all(s == "Rejected" for s in states),
            "each topic of a Sales conversation is Rejected for a Support client", str(states))
    c.check(all(t.rejection_reason for t in rejected.entities or []), "each with a rejectionReason",
            (rejected.entities or [G.ChannelTopic()])[0].rejection_reason)

    c.step("websockets: connect to connectUri, ping, subscribe over the socket")
    main = await open_socket(channel.connect_uri)
    c.check(True, "connected to connectUri as given")
    await main.ws.send(json.dumps({"message": "ping"}))
    pong = await main.wait_for(lambda m: m.get("topicName") == "channel.metadata"
                               and (m.get("eventBody") or {}).get("message") == "pong")
    c.check(pong is not None, "{\"message\":\"ping\"} is answered by a channel.metadata pong")
    correlation = str(uuid.uuid4())
    await main.ws.send(json.dumps({"message": "subscribe", "topics": topics[2:], "correlationId": correlation}))
    answer = await main.wait_for(lambda m: m.get("correlationId") == correlation)
    c.check(answer is not None and answer.get("result") == "200" and answer.get("status") == "subscribed",
            "the socket's subscribe is answered result 200, subscribed", json.dumps(answer))
    spy = await open_socket(other_channel.connect_uri)
    await spy.ws.send(json.dumps({"message": "subscribe", "topics": topics, "correlationId": str(uuid.uuid4())}))
    spy_answer = await spy.wait_for(lambda m: "result" in m, timeout=WAIT_S)
    c.check(spy_answer is not None and spy_answer.get("result") != "200",
            "the other division's subscribe over the socket is refused", json.dumps(spy_answer))

    c.step("the interaction closes: .acw, parsed by AcwDetailEventTopicAfterCallWorkEvent")
    wrapup.close(cid)
    acw = await main.event(topics[0])
    c.check(acw is not None, f"received {topics[0]}")
    if acw:
        c.check(acw.get("version") == "2", "the envelope's version is \"2\"", acw.get("version"))
        meta = acw.get("metadata") or {}
        c.check(bool(meta.get("CorrelationId")), "metadata.CorrelationId", meta.get("CorrelationId"))
        c.check(isinstance(meta.get("sequence"), int), "metadata.sequence is an integer", meta.get("sequence"))
        body = api.deserialize(Model(acw["eventBody"]), "AcwDetailEventTopicAfterCallWorkEvent")
        c.check(isinstance(body, G.AcwDetailEventTopicAfterCallWorkEvent), "the SDK parsed the body",
                type(body).__name__)
        c.check(body.conversation_id == cid, "conversationId", body.conversation_id)
        c.check(body.media_type == "VOICE", "mediaType VOICE", body.media_type)
        c.check(isinstance(body.event_time, int) and abs(body.event_time / 1000 - time.time()) < 300,
                "eventTime in epoch milliseconds", body.event_time)
        c.check(body.user_id == USER_ADA and body.queue_id == QUEUE_SALES, "userId and queueId",
                f"{body.user_id} {body.queue_id}")
        c.check(bool(body.participant_id), "participantId", body.participant_id)

    c.step("the SDK applies the wrap-up: .wrapup, parsed by WrapupDetailEventTopicWrapupEvent")
    wrapup.wait_finalized(cid, settle)
    conversation = conversations.get_conversation(cid)
    agent = next(p for p in conversation.participants if p.purpose == "agent")
    body = G.WrapupInput()
    body.code = CODE_SALE
    body.notes = "From the notifications flow"
    conversations.post_conversations_call_participant_communication_wrapup(cid, agent.id, agent.calls[0].id, body=body)
    event = await main.event(topics[1])
    c.check(event is not None, f"received {topics[1]}")
    if event:
        parsed = api.deserialize(Model(event["eventBody"]), "WrapupDetailEventTopicWrapupEvent")
        c.check(isinstance(parsed, G.WrapupDetailEventTopicWrapupEvent), "the SDK parsed the body",
                type(parsed).__name__)
        c.check(parsed.wrapup_code == CODE_SALE, "wrapupCode", parsed.wrapup_code)
        c.check(parsed.wrapup_notes == body.notes, "wrapupNotes", parsed.wrapup_notes)
        c.check(isinstance(parsed.wrapup_duration_ms, int), "wrapupDurationMs", parsed.wrapup_duration_ms)
        c.check(parsed.conversation_id == cid and parsed.participant_id == agent.id,
                "conversationId and participantId (the SDK's agent)", f"{parsed.participant_id}")
    sequences = [m["metadata"]["sequence"] for m in main.events]
    c.check(sequences == sorted(sequences), "sequences never decrease", str(sequences))
    by_topic = {m["topicName"]: m["metadata"]["sequence"] for m in main.events}
    close_topics = [topics[0], topics[2], topics[3]]
    c.check(all(t in by_topic for t in close_topics) and len({by_topic[t] for t in close_topics}) == 1,
            "the close's .acw, .customer.end and .user.end share its sequence (one change)",
            str([by_topic.get(t) for t in close_topics]))
    c.check(by_topic.get(topics[1], 0) > by_topic.get(topics[0], 0), "the wrap-up's sequence is later",
            f"{by_topic.get(topics[0])} < {by_topic.get(topics[1])}")
    c.check(all(m["topicName"] in topics for m in main.events), "only subscribed topics were delivered",
            str(sorted({m["topicName"].rsplit(".", 1)[-1] for m in main.events})))

    c.step("a client of another division receives nothing")
    await spy.wait_for(lambda m: False, timeout=QUIET_S)
    c.check(spy.events == [], "no event reached the Support client's socket", f"{len(spy.events)} events")
    await spy.ws.close()

    c.step("a reconnect within the replay window gets what it missed")
    cid2 = wrapup.answered_call()
    topics2 = topics_of(cid2)
    added = notifications.post_notifications_channel_subscriptions(channel.id, channel_topics(topics2))
    c.check(all(t.state == "Permitted" for t in added.entities or [] if t.id in topics2),
            "post_notifications_channel_subscriptions adds the second conversation's topics")
    await main.ws.close()
    wrapup.close(cid2)     # committed while no socket is open
    main = await open_socket(channel.connect_uri)
    missed = await main.event(topics2[0])
    c.check(missed is not None, "reconnected to connectUri: the .acw committed meanwhile is delivered")
    last = (missed or {}).get("metadata", {}).get("sequence")
    await main.ws.close()
    wrapup.wait_finalized(cid2, settle)
    conversation = conversations.get_conversation(cid2)
    agent = next(p for p in conversation.participants if p.purpose == "agent")
    w = G.WrapupInput()
    w.code = CODE_SALE
    conversations.post_conversations_call_participant_communication_wrapup(cid2, agent.id, agent.calls[0].id, body=w)
    main = await open_socket(with_after(channel.connect_uri, last))
    replayed = await main.event(topics2[1])
    c.check(replayed is not None, f"?after={last}: the .wrapup applied while disconnected is delivered")
    c.check(all(m["metadata"]["sequence"] > last for m in main.events), "and nothing at or before #%s" % last,
            str([m["metadata"]["sequence"] for m in main.events]))
    await main.ws.close()


def main():
    try:
        asyncio.run(flow())
    except Exception as exc:  # noqa: BLE001 - a failure is a failed check with its cause
        import traceback
        traceback.print_exc()
        C.crashed("the notifications flow", exc)
    print(f"\n{C.passed} passed, {C.failed} failed")
    return 0 if C.failed == 0 and C.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
