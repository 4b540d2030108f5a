#!/usr/bin/env python3
"""The official Genesys Cloud Python SDK (purecloudplatformclientv2==269.0.0, unmodified) against
a real `wrapup serve`: the compatibility flow of docs/genesys.md (run by .ci/genesys-sdks).

After setup, every step is an SDK call. Only what the SDK cannot do (create an interaction, move
it through its lifecycle, wait until it is finalized) goes through wrapup's own API, in the
clearly separated `WrapupLifecycle` helper below (plain HTTP, standard library only).

Environment:
  WRAPUP_URL            base URL of the server      (default http://127.0.0.1:8080)
  WRAPUP_CLIENT_ID      OAuth client id             (default: the demo client)
  WRAPUP_CLIENT_SECRET  OAuth client secret         (default: the demo client's)
  WRAPUP_DIVISION_ID    division for the interaction (default: the division of WRAPUP_CODE_ID,
                        else the first division that has a code, found with SDK calls)
  WRAPUP_CODE_ID        a code of that division     (default: the first code of the division)
  WRAPUP_OTHER_CODE_ID  a code of another division  (default: the first code of another division)
  WRAPUP_CHANNEL        voice | callback | email | message | chat   (default voice)
  WRAPUP_SETTLE_TIMEOUT_S  how long to wait for finalization (default 30)
  WRAPUP_VIEWER_CLIENT_ID / WRAPUP_VIEWER_CLIENT_SECRET  optional: a client without the wrap-up
                        permission; if set, a wrap-up with its token must be refused with 403.

Every check prints what it checked; the last line is "N passed, M failed"; exit status 1 if any
check failed (2 if the flow could not run at all).
"""
import datetime
import http.client
import importlib.metadata
import json
import math
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import PureCloudPlatformClientV2 as G
from PureCloudPlatformClientV2.rest import ApiException

DEMO_CLIENT_ID = "00000000-0000-4000-8000-00000000d001"
DEMO_CLIENT_SECRET = "demo-secret-not-for-production"

# channel -> (media path segment, the participant's list attribute, the per-media SDK name, the
# communication state once the wrap-up is applied: the Email and Message models of the SDK have no
# "terminated" (the Python SDK would turn it into "outdated_sdk_version"), see docs/genesys.md#states)
MEDIA = {
    "voice": ("calls", "calls", "call", "terminated"),
    "callback": ("callbacks", "callbacks", "callback", "terminated"),
    "email": ("emails", "emails", "email", "disconnected"),
    "message": ("messages", "messages", "message", "disconnected"),
    "chat": ("messages", "messages", "message", "disconnected"),
}


# ----------------------------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------------------------
class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"  ✓ {what}" + (f"  ({detail})" if detail else ""))
        else:
            self.failed += 1
            print(f"  ✗ {what}" + (f"  ({detail})" if detail else ""))
        return ok

    def step(self, title):
        print(f"\n== {title}")

    def crashed(self, what, exc):
        self.failed += 1
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, ApiException):
            detail = f"HTTP {exc.status} {exc.reason}: {exc.body}"
        print(f"  ✗ {what} raised {detail}")


def error_body(exc):
    """The ErrorBody of an ApiException: the SDK keeps the raw text in .body and never parses it."""
    try:
        body = json.loads(exc.body)
        return body if isinstance(body, dict) else {}
    except (TypeError, ValueError):
        return {}


def is_aware(value):
    return isinstance(value, datetime.datetime) and value.tzinfo is not None


# ----------------------------------------------------------------------------------------------
# wrapup's own API (the SDK has no such calls): create, activate, close, wait until finalized.
# ----------------------------------------------------------------------------------------------
class WrapupLifecycle:
    """Plain HTTP to wrapup's native interaction API, with the token the SDK obtained."""

    def __init__(self, base_url, token):
        self.base = base_url.rstrip("/")
        self.token = token

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
            "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path} -> HTTP {e.code}: {e.read().decode(errors='replace')}") from None

    def create(self, division_id, channel):
        return self._call("POST", "/api/v2/interactions", {"divisionId": division_id, "channel": channel})["id"]

    def set_state(self, interaction_id, state):
        return self._call("POST", f"/api/v2/interactions/{interaction_id}/state", {"state": state})

    def get(self, interaction_id):
        return self._call("GET", f"/api/v2/interactions/{interaction_id}")

    def create_routed(self, division_id, channel, queue_id):
        return self._call("POST", "/api/v2/interactions",
                          {"divisionId": division_id, "channel": channel, "queueId": queue_id})["id"]

    def answer(self, interaction_id, agent_id):
        return self._call("POST", f"/api/v2/interactions/{interaction_id}/state",
                          {"state": "active", "agentId": agent_id})

    def create_user(self, name, email, division_id):
        return self._call("POST", "/api/v2/users", {"name": name, "email": email, "divisionId": division_id})

    def wait_finalized(self, interaction_id, timeout_s):
        """Opens the event stream first, then reads the interaction, then waits for
        interaction.finalized: the race-free order docs/events.md gives. No polling."""
        u = urllib.parse.urlsplit(self.base)
        conn_cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(u.hostname, u.port, timeout=timeout_s)
        prefix = u.path.rstrip("/")
        conn.request("GET", f"{prefix}/api/v2/interactions/events?interactionId={interaction_id}",
                     headers={"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"})
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"event stream -> HTTP {resp.status}: {resp.read().decode(errors='replace')}")
        try:
            if self.get(interaction_id).get("finalized"):
                return
            deadline = time.monotonic() + timeout_s
            event = None
            while time.monotonic() < deadline:
                line = resp.fp.readline()
                if not line:
                    raise RuntimeError("the event stream ended before the interaction was finalized")
                line = line.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("interaction.finalized", "reset"):
                    if event == "reset" or json.loads(line[5:]).get("finalized"):
                        if self.get(interaction_id).get("finalized"):
                            return
                elif line == "":
                    event = None
            raise RuntimeError(f"interaction {interaction_id} was not finalized within {timeout_s} s")
        finally:
            conn.close()


# ----------------------------------------------------------------------------------------------
# The flow
# ----------------------------------------------------------------------------------------------
def wrapup_input(code, notes=None, duration_seconds=None):
    """Python SDK models take no constructor arguments: set the attributes."""
    w = G.WrapupInput()
    w.code = code
    if notes is not None:
        w.notes = notes
    if duration_seconds is not None:
        w.duration_seconds = duration_seconds
    return w


def find_participants(conversation, media_attr):
    by_purpose = {}
    for p in conversation.participants or []:
        by_purpose.setdefault(p.purpose, []).append(p)
    customer = (by_purpose.get("customer") or [None])[0]
    agent = (by_purpose.get("agent") or [None])[0]
    comm = None
    if agent is not None and getattr(agent, media_attr):
        comm = getattr(agent, media_attr)[0]
    return customer, agent, comm


C = Checks()


def main():
    c = C
    base_url = os.environ.get("WRAPUP_URL", "http://127.0.0.1:8080").rstrip("/")
    client_id = os.environ.get("WRAPUP_CLIENT_ID", DEMO_CLIENT_ID)
    client_secret = os.environ.get("WRAPUP_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    channel = os.environ.get("WRAPUP_CHANNEL", "voice")
    settle_timeout = float(os.environ.get("WRAPUP_SETTLE_TIMEOUT_S", "30"))
    if channel not in MEDIA:
        print(f"WRAPUP_CHANNEL must be one of {', '.join(MEDIA)}; got {channel!r}")
        return 2
    media_path, media_attr, media_name, done_state = MEDIA[channel]
    print(f"purecloudplatformclientv2 {importlib.metadata.version('purecloudplatformclientv2')} "
          f"against {base_url}, channel {channel} ({media_path})")

    # --- setup: the SDK pointed at wrapup, and a token -------------------------------------
    c.step("token (client credentials through the SDK)")
    api = G.ApiClient(host=base_url)
    api.gateway_configuration = None   # ignore any ~/.genesyscloudpython/config gateway
    try:
        api.get_client_credentials_token(client_id, client_secret)
    except Exception as e:  # noqa: BLE001 - nothing else can run without a token
        c.crashed("get_client_credentials_token", e)
        print(f"\n{c.passed} passed, {c.failed} failed")
        return 2
    c.check(bool(api.access_token), "get_client_credentials_token returned an access token")
    conversations = G.ConversationsApi(api)
    routing = G.RoutingApi(api)
    authorization = G.AuthorizationApi(api)
    media = {
        "get": getattr(conversations, f"get_conversations_{media_name}"),
        "post_wrapup": getattr(conversations, f"post_conversations_{media_name}_participant_communication_wrapup"),
        "get_participant_wrapup": getattr(conversations, f"get_conversations_{media_name}_participant_wrapup"),
        "get_communication_wrapup": getattr(conversations, f"get_conversations_{media_name}_participant_communication_wrapup"),
        "get_participant_wrapupcodes": getattr(conversations, f"get_conversations_{media_name}_participant_wrapupcodes"),
    }

    # --- the ids the flow needs: from the environment, else from SDK calls -----------------
    c.step("ids: division, a code of it, a code of another division")
    try:
        division_id = os.environ.get("WRAPUP_DIVISION_ID")
        code_id = os.environ.get("WRAPUP_CODE_ID")
        other_code_id = os.environ.get("WRAPUP_OTHER_CODE_ID")
        all_codes = []
        page = 1
        while not (division_id and code_id and other_code_id):
            listing = routing.get_routing_wrapupcodes(page_size=100, page_number=page)
            all_codes += listing.entities or []
            if not listing.page_count or page >= listing.page_count:
                break
            page += 1
        by_id = {w.id: w for w in all_codes}
        if code_id and not division_id and code_id in by_id:
            division_id = by_id[code_id].division.id
        if not division_id:
            division_id = next(w.division.id for w in all_codes if w.division and w.division.id)
        if not code_id:
            code_id = next(w.id for w in all_codes if w.division and w.division.id == division_id)
        if not other_code_id:
            other_code_id = next(w.id for w in all_codes if w.division and w.division.id != division_id)
        code = by_id.get(code_id) or routing.get_routing_wrapupcode(code_id)
        other_code = by_id.get(other_code_id) or routing.get_routing_wrapupcode(other_code_id)
    except (StopIteration, ApiException) as e:
        c.crashed("finding the division and codes (set WRAPUP_DIVISION_ID, WRAPUP_CODE_ID, WRAPUP_OTHER_CODE_ID)", e)
        print(f"\n{c.passed} passed, {c.failed} failed")
        return 2
    other_division_name = other_code.division.name if other_code.division else None
    print(f"  division {division_id}; code {code.name!r} {code_id}; "
          f"other code {other_code.name!r} {other_code_id} of division {other_division_name!r}")
    c.check(code.division is not None and code.division.id == division_id,
            "WrapupCode.division.id is the division", f"{code.division.id if code.division else None}")
    c.check(bool(other_division_name), "WrapupCode.division carries the division's name", repr(other_division_name))
    c.check(bool(code.self_uri) and code.self_uri.endswith(code_id), "WrapupCode.selfUri ends with its id", code.self_uri)
    c.check(is_aware(code.date_created), "WrapupCode.dateCreated is a timezone-aware datetime", repr(code.date_created))
    try:
        divisions = authorization.get_authorization_divisions(page_size=100)
        names = {d.id: d.name for d in divisions.entities or []}
        c.check(division_id in names, "get_authorization_divisions lists the division", names.get(division_id))
        c.check(divisions.total is not None and divisions.total >= len(divisions.entities or []),
                "AuthzDivisionEntityListing.total is set", f"total={divisions.total}")
    except ApiException as e:
        c.crashed("get_authorization_divisions", e)

    # --- an interaction, through wrapup's own API -------------------------------------------
    c.step("setup through wrapup's own API: create an interaction and activate it")
    lifecycle = WrapupLifecycle(base_url, api.access_token)
    try:
        cid = lifecycle.create(division_id, channel)
        lifecycle.set_state(cid, "active")
    except RuntimeError as e:
        c.crashed("creating and activating an interaction", e)
        print(f"\n{c.passed} passed, {c.failed} failed")
        return 2
    print(f"  interaction {cid} is active")

    # --- read the conversation and find the agent's communication ---------------------------
    c.step("read the conversation; find the agent's communication")
    pid = commid = None
    try:
        conv = conversations.get_conversation(cid)
        c.check(conv.id == cid, "get_conversation: Conversation.id is the interaction id", conv.id)
        c.check(is_aware(conv.start_time), "Conversation.startTime is set (timezone-aware)", repr(conv.start_time))
        c.check(conv.end_time is None, "Conversation.endTime is absent while active", repr(conv.end_time))
        divs = [d.division.id for d in conv.divisions or [] if d.division]
        c.check(divs == [division_id], "Conversation.divisions[].division.id is the interaction's division", str(divs))
        c.check(len(conv.participants or []) == 2, "two participants", str(len(conv.participants or [])))
        customer, agent, comm = find_participants(conv, media_attr)
        c.check(customer is not None, "a participant with purpose 'customer'")
        c.check(agent is not None, "a participant with purpose 'agent'")
        if agent is not None:
            comms = getattr(agent, media_attr) or []
            c.check(len(comms) == 1, f"the agent has exactly one communication in '{media_attr}'", str(len(comms)))
            pid = agent.id
        if comm is not None:
            commid = comm.id
            c.check(comm.state == "connected", "the agent's communication is 'connected' while active", comm.state)
            c.check(is_aware(comm.connected_time), "its connectedTime is set", repr(comm.connected_time))
            c.check(comm.after_call_work is None or comm.after_call_work.state != "pending",
                    "no pending afterCallWork while active",
                    repr(comm.after_call_work.state if comm.after_call_work else None))
        if customer is not None:
            ccomms = getattr(customer, media_attr) or []
            c.check(len(ccomms) == 1 and ccomms[0].id != commid,
                    "the customer has its own communication of the same media", str([x.id for x in ccomms]))
        again = conversations.get_conversation(cid)
        _, agent2, comm2 = find_participants(again, media_attr)
        c.check(agent2 is not None and comm2 is not None and agent2.id == pid and comm2.id == commid,
                "participant and communication ids are stable across reads", f"{pid} / {commid}")
        mconv = media["get"](cid)
        magent = next((p for p in mconv.participants or [] if p.purpose == "agent"), None)
        c.check(mconv.id == cid and magent is not None and magent.id == pid,
                f"get_conversations_{media_name}: the same agent participant id", magent.id if magent else None)
        c.check(magent is not None and magent.state == "connected", "media view: the agent participant is 'connected'",
                magent.state if magent else None)
    except ApiException as e:
        c.crashed("reading the conversation", e)
    if not (pid and commid):
        print("\nCannot go on without the agent's participant and communication ids.")
        print(f"\n{c.passed} passed, {c.failed} failed")
        return 1

    # --- list codes with paging --------------------------------------------------------------
    c.step("list codes with Genesys paging (pageSize=1, every page)")
    try:
        first = routing.get_routing_wrapupcodes(page_size=1, page_number=1, division_id=[division_id])
        total = first.total
        c.check(isinstance(total, int) and total >= 1, "WrapupCodeEntityListing.total", f"total={total}")
        c.check(first.page_size == 1 and first.page_number == 1, "pageSize and pageNumber echo the request",
                f"pageSize={first.page_size} pageNumber={first.page_number}")
        c.check(first.page_count == math.ceil((total or 0) / 1), "pageCount = ceil(total / pageSize)",
                f"pageCount={first.page_count}")
        c.check(bool(first.first_uri) and bool(first.self_uri) and bool(first.last_uri),
                "firstUri, selfUri and lastUri are set", f"{first.first_uri} | {first.self_uri} | {first.last_uri}")
        c.check(first.previous_uri is None, "no previousUri on the first page", repr(first.previous_uri))
        c.check((first.next_uri is not None) == ((total or 0) > 1), "nextUri exactly when there is a next page",
                repr(first.next_uri))
        seen = [e for e in first.entities or []]
        last = first
        for n in range(2, (first.page_count or 1) + 1):
            last = routing.get_routing_wrapupcodes(page_size=1, page_number=n, division_id=[division_id])
            seen += last.entities or []
        ids = [e.id for e in seen]
        c.check(len(ids) == total and len(set(ids)) == total, "every page together lists each code once",
                f"{len(ids)} listed, {len(set(ids))} distinct, total {total}")
        c.check(code_id in ids, "the division's code is listed", code.name)
        c.check(all(e.division and e.division.id == division_id for e in seen),
                "every listed code is of the requested division")
        names = [e.name for e in seen]
        c.check(names == sorted(names, key=str.casefold), "sorted by name ascending (the default)", str(names))
        c.check(last.next_uri is None, "no nextUri on the last page", repr(last.next_uri))
        desc = routing.get_routing_wrapupcodes(page_size=100, division_id=[division_id], sort_order="descending")
        dnames = [e.name for e in desc.entities or []]
        c.check(dnames == sorted(dnames, key=str.casefold, reverse=True), "sortOrder=descending", str(dnames))
        prefix = code.name[: max(1, len(code.name) // 2)]
        wild = routing.get_routing_wrapupcodes(page_size=100, name=prefix + "*", division_id=[division_id])
        c.check(code_id in [e.id for e in wild.entities or []], f"name={prefix}* (wildcard) finds the code",
                str([e.name for e in wild.entities or []]))
        exact = routing.get_routing_wrapupcodes(page_size=100, id=[code_id, other_code_id])
        c.check(sorted(e.id for e in exact.entities or []) == sorted([code_id, other_code_id]),
                "id=[two ids] (sent comma-joined, percent-encoded) lists exactly those two",
                str([e.name for e in exact.entities or []]))
        other_division_id = other_code.division.id if other_code.division else None
        both = routing.get_routing_wrapupcodes(page_size=100, division_id=[d for d in (division_id, other_division_id) if d])
        bids = [e.id for e in both.entities or []]
        c.check(code_id in bids and other_code_id in bids, "divisionId=[two divisions] lists codes of both",
                f"total={both.total}")
    except ApiException as e:
        c.crashed("listing codes", e)

    # --- a wrap-up while connected is refused ------------------------------------------------
    c.step("a wrap-up while the communication is connected is refused, with an explanation")
    try:
        media["post_wrapup"](cid, pid, commid, body=wrapup_input(code_id, notes="too early"))
        c.check(False, f"post_conversations_{media_name}_participant_communication_wrapup while connected is refused",
                "it was accepted")
    except ApiException as e:
        body = error_body(e)
        c.check(e.status == 400, "refused with HTTP 400", f"{e.status}")
        c.check(body.get("status") == 400 and isinstance(body.get("code"), str) and bool(body.get("contextId")),
                "the body is an ErrorBody (status, code, contextId)", f"code={body.get('code')}")
        msg = body.get("message") or ""
        c.check("closed" in msg.lower(), "ErrorBody.message explains it must be closed first", msg)
        c.check(isinstance(body.get("details"), list) and all("errorCode" in d for d in body.get("details") or []),
                "ErrorBody.details[].errorCode", str([d.get("errorCode") for d in body.get("details") or []]))

    # --- close and settle --------------------------------------------------------------------
    c.step("close the interaction and wait until it is finalized (wrapup's own API)")
    try:
        lifecycle.set_state(cid, "closed")
        lifecycle.wait_finalized(cid, settle_timeout)
        print(f"  interaction {cid} is closed and finalized")
    except RuntimeError as e:
        c.crashed("closing and settling", e)
        print(f"\n{c.passed} passed, {c.failed} failed")
        return 1
    try:
        conv = conversations.get_conversation(cid)
        _, agent, comm = find_participants(conv, media_attr)
        c.check(comm is not None and comm.state == "disconnected", "after close: the agent's communication is 'disconnected'",
                comm.state if comm else None)
        acw = comm.after_call_work if comm else None
        c.check(acw is not None and acw.state == "pending", "afterCallWork.state is 'pending'", acw.state if acw else None)
        c.check(acw is not None and is_aware(acw.start_time), "afterCallWork.startTime is set", repr(acw.start_time if acw else None))
        c.check(agent is not None and agent.wrapup_required is True, "the agent participant has wrapupRequired: true",
                repr(agent.wrapup_required if agent else None))
        c.check(agent is not None and is_aware(agent.start_acw_time), "startAcwTime is set",
                repr(agent.start_acw_time if agent else None))
        c.check(is_aware(conv.end_time), "Conversation.endTime is set once closed", repr(conv.end_time))
        try:
            conversations.get_conversation_participant_wrapup(cid, pid)
            c.check(False, "get_conversation_participant_wrapup before any wrap-up is a 404", "it answered 2xx")
        except ApiException as e:
            c.check(e.status == 404, "get_conversation_participant_wrapup before any wrap-up is a 404", f"{e.status}")
        codes = conversations.get_conversation_participant_wrapupcodes(cid, pid)
        cids = [w.id for w in codes or []]
        c.check(code_id in cids and other_code_id not in cids,
                "get_conversation_participant_wrapupcodes: the division's codes, not the other division's",
                str([w.name for w in codes or []]))
        mcodes = media["get_participant_wrapupcodes"](cid, pid)
        c.check(sorted(w.id for w in mcodes or []) == sorted(cids),
                f"get_conversations_{media_name}_participant_wrapupcodes agrees")
    except ApiException as e:
        c.crashed("reading the closed conversation", e)

    # --- the wrap-up, without durationSeconds, is accepted ---------------------------------------
    c.step("after close and settle, a wrap-up without durationSeconds is accepted")
    notes = f"Python SDK flow {uuid.uuid4().hex[:8]}"
    accepted = False
    try:
        result = media["post_wrapup"](cid, pid, commid, body=wrapup_input(code_id, notes=notes))
        accepted = c.check(result is None, f"post_conversations_{media_name}_participant_communication_wrapup accepted (2xx)")
    except ApiException as e:
        c.crashed("applying the wrap-up", e)

    # --- it reads back ---------------------------------------------------------------------
    c.step("the wrap-up reads back")
    if accepted:
        try:
            w = conversations.get_conversation_participant_wrapup(cid, pid)
            c.check(w.code == code_id, "get_conversation_participant_wrapup: AssignedWrapupCode.code", w.code)
            c.check(w.notes == notes, "AssignedWrapupCode.notes", repr(w.notes))
            c.check(isinstance(w.duration_seconds, int) and w.duration_seconds >= 0,
                    "AssignedWrapupCode.durationSeconds is derived (an integer) when not sent", repr(w.duration_seconds))
            c.check(is_aware(w.end_time), "AssignedWrapupCode.endTime is set (timezone-aware)", repr(w.end_time))
            wm = media["get_participant_wrapup"](cid, pid)
            c.check(wm.code == code_id, f"get_conversations_{media_name}_participant_wrapup agrees", wm.code)
            wc = media["get_communication_wrapup"](cid, pid, commid)
            c.check(wc.code == code_id, f"get_conversations_{media_name}_participant_communication_wrapup agrees", wc.code)
        except ApiException as e:
            c.crashed("reading the wrap-up back", e)

    # --- it shows on the conversation --------------------------------------------------------
    c.step("the wrap-up shows on the conversation")
    if accepted:
        try:
            conv = conversations.get_conversation(cid)
            _, agent, comm = find_participants(conv, media_attr)
            c.check(agent is not None and agent.wrapup is not None and agent.wrapup.code == code_id,
                    "Participant.wrapup.code", agent.wrapup.code if agent and agent.wrapup else None)
            c.check(agent is not None and agent.wrapup is not None and agent.wrapup.name == code.name,
                    "Participant.wrapup.name is the code's name", agent.wrapup.name if agent and agent.wrapup else None)
            c.check(agent is not None and is_aware(agent.end_acw_time), "Participant.endAcwTime is set",
                    repr(agent.end_acw_time if agent else None))
            c.check(comm is not None and comm.wrapup is not None and comm.wrapup.code == code_id,
                    "the communication's wrapup.code", comm.wrapup.code if comm and comm.wrapup else None)
            acw = comm.after_call_work if comm else None
            c.check(acw is not None and acw.state == "complete", "afterCallWork.state is 'complete'", acw.state if acw else None)
            c.check(acw is not None and is_aware(acw.end_time), "afterCallWork.endTime is set", repr(acw.end_time if acw else None))
            c.check(comm is not None and comm.state == done_state, f"the agent's communication is '{done_state}'",
                    comm.state if comm else None)
            mconv = media["get"](cid)
            magent = next((p for p in mconv.participants or [] if p.purpose == "agent"), None)
            c.check(magent is not None and magent.wrapup is not None and magent.wrapup.code == code_id,
                    f"get_conversations_{media_name}: the agent participant's wrapup.code",
                    magent.wrapup.code if magent and magent.wrapup else None)
        except ApiException as e:
            c.crashed("reading the conversation after the wrap-up", e)

    # --- the same wrap-up through PATCH participant ----------------------------------------------
    c.step("the same wrap-up through PATCH .../participants/{pid} is accepted")
    if accepted:
        try:
            req = G.MediaParticipantRequest()
            req.wrapup = wrapup_input(code_id, notes=notes)
            c.check(conversations.patch_conversation_participant(cid, pid, req) is None,
                    "patch_conversation_participant({wrapup}) accepted (2xx)")
            if media_name == "call":
                c.check(conversations.patch_conversations_call_participant(cid, pid, req) is None,
                        "patch_conversations_call_participant({wrapup}) accepted (2xx)")
            w = conversations.get_conversation_participant_wrapup(cid, pid)
            c.check(w.code == code_id and w.notes == notes, "the wrap-up is unchanged", f"{w.code} {w.notes!r}")
        except ApiException as e:
            c.crashed("PATCH participant", e)

    # --- a code of another division is refused, naming the division ------------------------------
    c.step("a code of another division is refused, naming that division")
    try:
        media["post_wrapup"](cid, pid, commid, body=wrapup_input(other_code_id, duration_seconds=60))
        c.check(False, "a wrap-up with a code of another division is refused", "it was accepted")
    except ApiException as e:
        body = error_body(e)
        msg = body.get("message") or ""
        c.check(e.status == 400, "refused with HTTP 400", f"{e.status}")
        c.check(bool(other_division_name) and other_division_name in msg,
                f"ErrorBody.message names the code's division ({other_division_name})", msg)
        c.check(body.get("status") == 400 and bool(body.get("code")), "the body is an ErrorBody", f"code={body.get('code')}")
        fields = [d.get("fieldName") for d in body.get("details") or []]
        c.check("code" in fields, "ErrorBody.details[].fieldName names 'code' (the WrapupInput field)", str(fields))

    # --- optional: a token without the wrap-up permission -----------------------------------------
    viewer_id = os.environ.get("WRAPUP_VIEWER_CLIENT_ID")
    if viewer_id:
        c.step("a token without the wrap-up permission is refused (403), naming the permission")
        try:
            vapi = G.ApiClient(host=base_url)
            vapi.gateway_configuration = None
            vapi.get_client_credentials_token(viewer_id, os.environ.get("WRAPUP_VIEWER_CLIENT_SECRET", ""))
            viewer_post = getattr(G.ConversationsApi(vapi),
                                  f"post_conversations_{media_name}_participant_communication_wrapup")
            viewer_post(cid, pid, commid, body=wrapup_input(code_id, duration_seconds=60))
            c.check(False, "the viewer's wrap-up is refused", "it was accepted")
        except ApiException as e:
            msg = error_body(e).get("message") or ""
            c.check(e.status in (403, 404), "refused with 403 (or 404 if the division is not granted)", f"{e.status}")
            if e.status == 403:
                c.check("conversation:participant:wrapup" in msg, "the message names conversation:participant:wrapup", msg)

    # --- create, update and delete a code through RoutingApi ----------------------------------------
    c.step("create, update and delete a code through RoutingApi")
    try:
        req = G.WrapupCodeRequest()
        req.name = f"SDK flow py {uuid.uuid4().hex[:8]}"
        req.division = G.WritableStarrableDivision()
        req.division.id = division_id
        req.description = "Created by the Python SDK flow."
        created = routing.post_routing_wrapupcodes(req)
        new_id = created.id
        c.check(bool(new_id), "post_routing_wrapupcodes returned a WrapupCode with an id", new_id)
        c.check(created.name == req.name, "its name", created.name)
        c.check(created.division is not None and created.division.id == division_id and bool(created.division.name),
                "its division {id, name}", f"{created.division.id if created.division else None} "
                                           f"{created.division.name if created.division else None}")
        c.check(is_aware(created.date_created) and is_aware(created.date_modified), "dateCreated and dateModified",
                f"{created.date_created} {created.date_modified}")
        c.check(bool(created.created_by), "createdBy is set", repr(created.created_by))
        got = routing.get_routing_wrapupcode(new_id)
        c.check(got.id == new_id and got.name == req.name, "get_routing_wrapupcode reads it", got.name)
        upd = G.WrapupCodeRequest()
        upd.name = req.name + " renamed"
        upd.division = G.WritableStarrableDivision()
        upd.division.id = division_id
        updated = routing.put_routing_wrapupcode(new_id, upd)
        c.check(updated.id == new_id and updated.name == upd.name, "put_routing_wrapupcode renames it", updated.name)
        c.check(is_aware(updated.date_modified) and updated.date_modified >= created.date_modified,
                "dateModified moved forward (or stayed)", f"{updated.date_modified}")
        c.check(routing.delete_routing_wrapupcode(new_id) is None, "delete_routing_wrapupcode accepted (2xx)")
        try:
            routing.get_routing_wrapupcode(new_id)
            c.check(False, "after DELETE, get_routing_wrapupcode is a 404", "it answered 2xx")
        except ApiException as e:
            c.check(e.status == 404, "after DELETE, get_routing_wrapupcode is a 404", f"{e.status}")
        gone = routing.get_routing_wrapupcodes(page_size=100, id=[new_id])
        c.check(not (gone.entities or []), "after DELETE, the listing no longer has it", f"total={gone.total}")
    except ApiException as e:
        c.crashed("RoutingApi create/update/delete", e)

    # --- queues, agents and after-call work (docs/genesys.md#queues-agents-and-after-call-work) ---
    c.step("queues with codes through RoutingApi; an agent through UsersApi")
    users_api = G.UsersApi(api)

    def new_queue(prompt, timeout_ms=None):
        q = G.CreateQueueRequest()
        q.name = f"SDK flow py {channel} {prompt} {uuid.uuid4().hex[:8]}"
        q.division = G.WritableDivision()
        q.division.id = division_id
        acw = G.AcwSettings()
        acw.wrapup_prompt = prompt
        if timeout_ms is not None:
            acw.timeout_ms = timeout_ms
        q.acw_settings = acw
        created_queue = routing.post_routing_queues(q)
        ref = G.WrapUpCodeReference()
        ref.id = code_id
        routing.post_routing_queue_wrapupcodes(created_queue.id, [ref])
        return created_queue

    def routed(queue_id, agent_id):
        """An interaction of the queue, answered by the agent, closed and finalized."""
        rid = lifecycle.create_routed(division_id, channel, queue_id)
        lifecycle.answer(rid, agent_id)
        lifecycle.set_state(rid, "closed")
        lifecycle.wait_finalized(rid, settle_timeout)
        routed_agent = find_participants(conversations.get_conversation(rid), media_attr)[1]
        return rid, routed_agent

    try:
        timeout_ms = 1000
        mandatory = new_queue("MANDATORY")
        c.check(mandatory.acw_settings is not None and mandatory.acw_settings.wrapup_prompt == "MANDATORY",
                "post_routing_queues: Queue.acwSettings.wrapupPrompt", mandatory.acw_settings.wrapup_prompt)
        c.check(mandatory.division is not None and mandatory.division.id == division_id,
                "Queue.division.id is the division", mandatory.division.id if mandatory.division else None)
        got_queue = routing.get_routing_queue(mandatory.id)
        c.check(got_queue.name == mandatory.name, "get_routing_queue reads it", got_queue.name)
        queue_codes = routing.get_routing_queue_wrapupcodes(mandatory.id, page_size=25)
        c.check([w.id for w in queue_codes.entities or []] == [code_id],
                "get_routing_queue_wrapupcodes: the code assigned", str([w.id for w in queue_codes.entities or []]))
        listed_queues = routing.get_routing_queues(page_size=100, name=mandatory.name)
        c.check([x.id for x in listed_queues.entities or []] == [mandatory.id],
                "get_routing_queues finds it by name", f"total={listed_queues.total}")
        timed = new_queue("MANDATORY_TIMEOUT", timeout_ms)
        c.check(timed.acw_settings.timeout_ms == timeout_ms, "Queue.acwSettings.timeoutMs", timed.acw_settings.timeout_ms)
        optional = new_queue("OPTIONAL")

        agents = users_api.get_users(page_size=100)
        mine = [u for u in agents.entities or [] if u.division and u.division.id == division_id]
        if mine:
            agent_user = mine[0]
        else:
            made = lifecycle.create_user("SDK flow agent", "sdk-flow@example.com", division_id)
            agent_user = users_api.get_user(made["id"])
        c.check(bool(agent_user.id) and agent_user.state == "active", "UsersApi: an active agent of the division",
                f"{agent_user.name} {agent_user.id}")
        c.check(users_api.get_user(agent_user.id).email == agent_user.email, "get_user reads the agent", agent_user.email)

        c.step("the agent participant of a queue's interaction: userId, queueId, prompt, the queue's codes")
        rid, routed_agent = routed(mandatory.id, agent_user.id)
        c.check(routed_agent.user_id == agent_user.id, "Participant.userId is the agent", routed_agent.user_id)
        c.check(routed_agent.queue_id == mandatory.id, "Participant.queueId is the queue", routed_agent.queue_id)
        c.check(routed_agent.name == agent_user.name, "Participant.name is the agent's name", routed_agent.name)
        c.check(routed_agent.wrapup_prompt == "mandatory", "Participant.wrapupPrompt", routed_agent.wrapup_prompt)
        allowed = conversations.get_conversation_participant_wrapupcodes(rid, routed_agent.id)
        c.check([w.id for w in allowed] == [code_id], "the participant's codes are the queue's",
                str([w.name for w in allowed]))
        other_in_division = next((w.id for w in all_codes if w.division and w.division.id == division_id
                                  and w.id != code_id), None)
        if other_in_division:
            try:
                outside = G.MediaParticipantRequest()
                outside.wrapup = wrapup_input(other_in_division)
                conversations.patch_conversation_participant(rid, routed_agent.id, outside)
                c.check(False, "a code outside the queue is refused", "it was accepted")
            except ApiException as e:
                body = error_body(e)
                c.check(e.status == 400 and body.get("code") == "wrapup.code.not.in.queue",
                        "a code outside the queue is refused with wrapup.code.not.in.queue", f"{e.status} {body.get('code')}")
                c.check(mandatory.name in (e.body or ""), "the message names the queue", body.get("message"))

        c.step("a time-boxed queue: ININ-WRAP-UP-TIMEOUT once the timeout passes")
        rid, routed_agent = routed(timed.id, agent_user.id)
        c.check(routed_agent.wrapup_prompt == "timeout", "Participant.wrapupPrompt is timeout", routed_agent.wrapup_prompt)
        c.check(routed_agent.wrapup_timeout_ms == timeout_ms, "Participant.wrapupTimeoutMs", routed_agent.wrapup_timeout_ms)
        # The server applies it when the deadline passes: poll the SDK read (a few 200 ms steps).
        timed_code = None
        deadline = time.monotonic() + settle_timeout
        while time.monotonic() < deadline and timed_code is None:
            try:
                timed_code = conversations.get_conversation_participant_wrapup(rid, routed_agent.id).code
            except ApiException as e:
                if e.status != 404:
                    raise
                time.sleep(0.2)
        c.check(timed_code == "ININ-WRAP-UP-TIMEOUT", "get_conversation_participant_wrapup: ININ-WRAP-UP-TIMEOUT",
                repr(timed_code))
        timed_agent = find_participants(conversations.get_conversation(rid), media_attr)[1]
        c.check(timed_agent.wrapup is not None and timed_agent.wrapup.code == "ININ-WRAP-UP-TIMEOUT",
                "Participant.wrapup.code on the conversation", timed_agent.wrapup.code if timed_agent.wrapup else None)

        c.step("an optional queue: the agent skips the wrap-up")
        rid, routed_agent = routed(optional.id, agent_user.id)
        c.check(routed_agent.wrapup_prompt == "optional" and routed_agent.wrapup_required is False,
                "Participant.wrapupPrompt optional, wrapupRequired false",
                f"{routed_agent.wrapup_prompt} {routed_agent.wrapup_required}")
        skip = G.MediaParticipantRequest()
        skip.wrapup_skipped = True
        conversations.patch_conversation_participant(rid, routed_agent.id, skip)
        skipped_agent = find_participants(conversations.get_conversation(rid), media_attr)[1]
        c.check(skipped_agent.wrapup_skipped is True, "Participant.wrapupSkipped", skipped_agent.wrapup_skipped)
        comm_list = getattr(skipped_agent, media_attr) or []
        acw_state = comm_list[0].after_call_work.state if comm_list and comm_list[0].after_call_work else None
        c.check(acw_state == "skipped", "afterCallWork.state is skipped", acw_state)
    except (ApiException, RuntimeError) as e:
        c.crashed("queues, agents and after-call work", e)

    print(f"\n{c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    try:
        status = main()
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is a failed check, not a traceback only
        import traceback
        traceback.print_exc()
        C.crashed("the flow (unexpected exception)", exc)
        print(f"\n{C.passed} passed, {C.failed} failed")
        status = 1
    sys.exit(status)
