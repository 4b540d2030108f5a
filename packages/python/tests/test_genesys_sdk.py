"""The wrapup_server fixture with the official Genesys Cloud Python SDK
(PureCloudPlatformClientV2), as a project's own test suite would use it: a token, a wrap-up
refused while the conversation is connected, and one accepted after the close, the settle
time passed by advancing the test clock rather than sleeping.

Run by .ci/packages in a fresh virtualenv where only the built wheel, pytest and the SDK are
installed (no Rust, no checkout).
"""

import time

import pytest
import PureCloudPlatformClientV2 as G
from PureCloudPlatformClientV2.rest import ApiException

from wrapup_sandbox import DEMO


def agent_call(conversations, conversation_id):
    conversation = conversations.get_conversation(conversation_id)
    agent = next(p for p in conversation.participants if p.purpose == "agent")
    return agent, agent.calls[0]


def wrapup(code_id, notes):
    body = G.WrapupInput()
    body.code = code_id
    body.notes = notes
    return body


def test_token(wrapup_genesys_client):
    assert wrapup_genesys_client.access_token


def test_wrapup_refused_while_connected_accepted_after_close(wrapup_server, wrapup_genesys_client):
    conversations = G.ConversationsApi(wrapup_genesys_client)
    interaction = wrapup_server.create_interaction(DEMO.SALES, "voice")
    wrapup_server.activate(interaction["id"])
    agent, call = agent_call(conversations, interaction["id"])
    assert call.state == "connected"

    with pytest.raises(ApiException) as refused:
        conversations.post_conversations_call_participant_communication_wrapup(
            interaction["id"], agent.id, call.id, body=wrapup(DEMO.CODE_SALE, "too early"))
    assert refused.value.status == 400
    assert "closed" in refused.value.body.lower()

    wrapup_server.close(interaction["id"])
    assert wrapup_server.get_interaction(interaction["id"])["finalized"] is False
    started = time.monotonic()
    settled = wrapup_server.settle(interaction["id"])  # advances the clock by settle_ms
    assert settled["finalized"] is True
    assert time.monotonic() - started < wrapup_server.settle_ms / 1000, "the settle time passed without waiting"

    conversations.post_conversations_call_participant_communication_wrapup(
        interaction["id"], agent.id, call.id, body=wrapup(DEMO.CODE_SALE, "after close"))
    applied = conversations.get_conversation_participant_wrapup(interaction["id"], agent.id)
    assert applied.code == DEMO.CODE_SALE
    assert applied.notes == "after close"
