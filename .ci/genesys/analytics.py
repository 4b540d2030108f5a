#!/usr/bin/env python3
"""A reporting notebook's analytics, as CI runs it (docs/genesys.md#analytics): the official
Genesys Cloud Python SDK (purecloudplatformclientv2, pinned) and pandas against a real
`wrapup serve` (run by .ci/genesys-sdks).

It creates a run of interactions with known wrap-ups through wrapup's own API (a fresh division
A with three codes, and a fresh division B), then with the SDK only:
  - queries the conversation details of division A, paged (pageSize 5), flattens them into a
    DataFrame (one row per segment) and finds exactly the wrap-up of each conversation;
  - queries the aggregates (tAcw, nConnected by wrapUpCode) and finds exactly the count and the
    tAcw sum of each code;
  - checks that a wrapUpCode segment filter selects exactly that code's conversations;
  - checks that a client granted only division B sees only B (a divisionId filter on A answers
    exactly as one on a division that does not exist);
  - checks that a metric wrapup does not compute is refused, naming it.

Environment: WRAPUP_URL (default http://127.0.0.1:8080), WRAPUP_CLIENT_ID / WRAPUP_CLIENT_SECRET
(default: the demo client, which may create divisions and clients). The last line is
"N passed, M failed"; exit status 1 if any check failed (2 if it could not run).
"""
import datetime
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

import pandas as pd
import PureCloudPlatformClientV2 as G
from PureCloudPlatformClientV2.rest import ApiException

DEMO_CLIENT_ID = "00000000-0000-4000-8000-00000000d001"
DEMO_CLIENT_SECRET = "demo-secret-not-for-production"

passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"  {'✓' if ok else '✗'} {what}" + (f"  ({detail})" if detail else ""))
    return ok


class Wrapup:
    """wrapup's own API (plain HTTP): what the SDK cannot do (create interactions, move them)."""

    def __init__(self, base, token):
        self.base, self.token = base, token

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


def sdk(base, client_id, secret):
    api = G.ApiClient(host=base)
    api.gateway_configuration = None
    api.get_client_credentials_token(client_id, secret)
    return api


def predicate(dimension, value):
    p = G.SegmentDetailQueryPredicate()
    p.type = "dimension"
    p.dimension = dimension
    p.operator = "matches"
    p.value = value
    return p


def conversation_filter(dimension, value):
    p = G.ConversationDetailQueryPredicate()
    p.type = "dimension"
    p.dimension = dimension
    p.operator = "matches"
    p.value = value
    f = G.ConversationDetailQueryFilter()
    f.type = "and"
    f.predicates = [p]
    return f


def details(analytics, interval, conversation_filters=None, segment_filters=None, page_size=5):
    """Every page of a details query: (conversations, totalHits of the first page, pages)."""
    out, total, page = [], None, 1
    while True:
        q = G.ConversationQuery()
        q.interval = interval
        q.order = "asc"
        q.order_by = "conversationStart"
        if conversation_filters:
            q.conversation_filters = conversation_filters
        if segment_filters:
            q.segment_filters = segment_filters
        q.paging = G.PagingSpec()
        q.paging.page_size = page_size
        q.paging.page_number = page
        r = analytics.post_analytics_conversations_details_query(q)
        total = r.total_hits if total is None else total
        out += r.conversations or []
        if not r.conversations or len(out) >= r.total_hits:
            return out, total, page
        page += 1


def flatten(conversations):
    """One row per segment, as a notebook flattens them."""
    rows = []
    for c in conversations:
        for p in c.participants or []:
            for s in p.sessions or []:
                for g in s.segments or []:
                    rows.append({
                        "conversationId": c.conversation_id, "divisionId": (c.division_ids or [None])[0],
                        "purpose": p.purpose, "userId": p.user_id, "mediaType": s.media_type,
                        "segmentType": g.segment_type, "segmentStart": g.segment_start,
                        "segmentEnd": g.segment_end, "wrapUpCode": g.wrap_up_code, "wrapUpNote": g.wrap_up_note,
                    })
    return pd.DataFrame(rows)


def main():
    base = os.environ.get("WRAPUP_URL", "http://127.0.0.1:8080").rstrip("/")
    client_id = os.environ.get("WRAPUP_CLIENT_ID", DEMO_CLIENT_ID)
    secret = os.environ.get("WRAPUP_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    print(f"pandas {pd.__version__}, purecloudplatformclientv2 against {base}")
    api = sdk(base, client_id, secret)
    analytics = G.AnalyticsApi(api)
    w = Wrapup(base, api.access_token)

    print("\n== setup: two fresh divisions, three codes, interactions with known wrap-ups (wrapup's API)")
    run = uuid.uuid4().hex[:8]
    div_a = w.call("POST", "/api/v2/authorization/divisions", {"name": f"Analytics A {run}"})["id"]
    div_b = w.call("POST", "/api/v2/authorization/divisions", {"name": f"Analytics B {run}"})["id"]
    codes = [w.call("POST", "/api/v2/routing/wrapupcodes", {"name": n, "divisionId": div_a})["id"]
             for n in ("Sale", "Refund", "Question")]
    code_b = w.call("POST", "/api/v2/routing/wrapupcodes", {"name": "Sale", "divisionId": div_b})["id"]
    plan = [(div_a, codes[i % 3]) for i in range(12)] + [(div_b, code_b)] * 2
    channels = ["voice", "email", "message", "callback"]
    ids = []
    for n, (div, _) in enumerate(plan):
        ids.append(w.call("POST", "/api/v2/interactions", {"divisionId": div, "channel": channels[n % 4]})["id"])
    for i in ids:
        w.call("POST", f"/api/v2/interactions/{i}/state", {"state": "active"})
    for i in ids:
        w.call("POST", f"/api/v2/interactions/{i}/state", {"state": "closed"})
    deadline = time.monotonic() + 30
    for (div, code), i in zip(plan, ids):
        while not w.call("GET", f"/api/v2/interactions/{i}").get("finalized"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"interaction {i} was not finalized within 30 s")
            time.sleep(0.2)
        w.call("PUT", f"/api/v2/interactions/{i}/wrap-up", {"codeId": code, "durationMs": 1000, "notes": f"run {run}"})
    expected = []
    for (div, code), i in zip(plan, ids):
        it = w.call("GET", f"/api/v2/interactions/{i}")
        closed = datetime.datetime.fromisoformat(it["closedAt"].replace("Z", "+00:00"))
        applied = datetime.datetime.fromisoformat(it["wrapUp"]["appliedAt"].replace("Z", "+00:00"))
        expected.append({"conversationId": i, "divisionId": div, "wrapUpCode": code,
                         "tAcw": round((applied - closed).total_seconds() * 1000)})
    expected = pd.DataFrame(expected)
    print(f"  {len(ids)} interactions: 12 in A over 3 codes, 2 in B")
    now = datetime.datetime.now(datetime.timezone.utc)
    interval = f"{(now - datetime.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}/{(now + datetime.timedelta(minutes=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"

    print("\n== details of division A, paged, as a DataFrame (post_analytics_conversations_details_query)")
    conversations, total, pages = details(analytics, interval, [conversation_filter("divisionId", div_a)])
    df = flatten(conversations)
    want_a = expected[expected.divisionId == div_a]
    check(total == 12 and pages == 3, "totalHits is 12, over 3 pages of 5", f"totalHits {total}, pages {pages}")
    check(sorted(df.conversationId.unique()) == sorted(want_a.conversationId), "exactly the 12 conversations of A")
    wrap = df[df.segmentType == "wrapup"][["conversationId", "wrapUpCode", "wrapUpNote"]]
    merged = want_a.merge(wrap, on="conversationId", how="outer", suffixes=("", "_got"))
    check(len(wrap) == 12 and (merged.wrapUpCode == merged.wrapUpCode_got).all(),
          "each conversation's wrapup segment has its code", f"{len(wrap)} wrapup segments")
    check((wrap.wrapUpNote == f"run {run}").all(), "each wrapup segment has its note")
    kinds = df[df.purpose == "agent"].groupby("conversationId").segmentType.apply(list)
    check(all(k == ["alert", "interact", "wrapup"] for k in kinds), "the agent's segments are alert, interact, wrapup")
    check(set(df.mediaType) == {"voice", "email", "message", "callback"}, "media types in lower case",
          ", ".join(sorted(set(df.mediaType))))

    print("\n== aggregates of division A by wrapUpCode (post_analytics_conversations_aggregates_query)")
    q = G.ConversationAggregationQuery()
    q.interval = interval
    q.granularity = "P1D"
    q.time_zone = "UTC"
    q.group_by = ["wrapUpCode"]
    q.metrics = ["tAcw", "nConnected"]
    pred = G.ConversationAggregateQueryPredicate()
    pred.type, pred.dimension, pred.operator, pred.value = "dimension", "divisionId", "matches", div_a
    q.filter = G.ConversationAggregateQueryFilter()
    q.filter.type = "and"
    q.filter.predicates = [pred]
    r = analytics.post_analytics_conversations_aggregates_query(q)
    rows = [{"wrapUpCode": res.group.get("wrapUpCode"), "interval": d.interval, "metric": m.metric,
             "count": m.stats.count, "sum": m.stats.sum}
            for res in r.results or [] for d in res.data or [] for m in d.metrics or []]
    agg = pd.DataFrame(rows)
    acw = agg[agg.metric == "tAcw"].groupby("wrapUpCode").agg(count=("count", "sum"), sum=("sum", "sum"))
    want = want_a.groupby("wrapUpCode").agg(count=("tAcw", "size"), sum=("tAcw", "sum"))
    check(sorted(acw.index) == sorted(want.index), "one group per code", f"{len(acw)} groups")
    joined = want.join(acw.add_suffix("_got"))
    check((joined["count"] == joined["count_got"]).all(), "tAcw count per code", joined["count_got"].tolist())
    check((joined["sum"] == joined["sum_got"]).all(), "tAcw sum per code (ms)",
          f"{joined['sum'].tolist()} == {joined['sum_got'].tolist()}")
    connected = agg[agg.metric == "nConnected"]["count"].sum()
    check(connected == 12, "nConnected counts the 12 conversations", connected)

    print("\n== a wrapUpCode segment filter selects exactly that code's conversations")
    f = G.SegmentDetailQueryFilter()
    f.type = "and"
    f.predicates = [predicate("wrapUpCode", codes[1])]
    got, total, _ = details(analytics, interval, segment_filters=[f], page_size=100)
    want_ids = sorted(want_a[want_a.wrapUpCode == codes[1]].conversationId)
    check(sorted(c.conversation_id for c in got) == want_ids and total == len(want_ids),
          f"wrapUpCode {codes[1][:8]}… selects its {len(want_ids)} conversations", f"totalHits {total}")

    print("\n== a client of division B sees only B")
    client = w.call("POST", "/api/v2/oauth/clients", {"name": f"analytics B {run}", "divisions": [div_b],
                                                       "scopes": ["analytics:conversationDetail:view",
                                                                  "analytics:conversationAggregate:view"]})
    b = G.AnalyticsApi(sdk(base, client["clientId"], client["clientSecret"]))
    got, total, _ = details(b, interval, page_size=100)
    want_b = sorted(expected[expected.divisionId == div_b].conversationId)
    check(sorted(c.conversation_id for c in got) == want_b, "its details query answers B's 2 conversations only",
          f"totalHits {total}")
    _, hidden, _ = details(b, interval, [conversation_filter("divisionId", div_a)])
    _, nowhere, _ = details(b, interval, [conversation_filter("divisionId", str(uuid.uuid4()))])
    check(hidden == 0 and nowhere == 0, "a divisionId filter on A answers as one on no division",
          f"{hidden} and {nowhere}")

    print("\n== a metric wrapup does not compute is refused, naming it")
    q.metrics = ["tAcw", "nBlindTransferred"]
    try:
        analytics.post_analytics_conversations_aggregates_query(q)
        check(False, "nBlindTransferred is refused")
    except ApiException as e:
        body = json.loads(e.body)
        check(e.status == 400 and body.get("code") == "request.field.unsupported"
              and "nBlindTransferred" in body.get("message", "") and "tAcw" in body.get("message", ""),
              "400 request.field.unsupported names nBlindTransferred and what is computed", body.get("message"))

    print(f"\n{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - a crash is a failure of the step
        detail = f"HTTP {e.status}: {e.body}" if isinstance(e, ApiException) else f"{type(e).__name__}: {e}"
        print(f"  ✗ the analytics flow crashed: {detail}")
        print(f"\n{passed} passed, {failed + 1} failed")
        sys.exit(2)
