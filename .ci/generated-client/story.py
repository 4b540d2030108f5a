"""The seed's story, told with a client generated from the served OpenAPI document by
openapi-python-client (.ci/generated-client/run generates it as `wrapup_api`, never
committed): a token, an interaction created, activated and closed, a wrap-up refused while
the interaction is not finalized (the 400 body parsed into the generated `ErrorBody`),
then accepted, and the history read back. Any step that does not go as the API reference
says ends the script with an error.

Usage: python story.py BASE_URL (with the generated package importable).
"""

import sys
import time
from uuid import UUID

from wrapup_api import AuthenticatedClient, Client
from wrapup_api.api.interactions import (
    create_interaction,
    get_interaction,
    get_interaction_wrap_up,
    get_interaction_wrap_up_history,
    put_interaction_wrap_up,
    set_interaction_state,
)
from wrapup_api.api.oauth import issue_token
from wrapup_api.models import (
    Channel,
    CreateInteraction,
    ErrorBody,
    ErrorCode,
    GrantType,
    Interaction,
    SetState,
    TargetState,
    TokenForm,
    TokenResponse,
    WrapUp,
    WrapUpRequest,
)

DEMO_CLIENT_ID = "00000000-0000-4000-8000-00000000d001"
DEMO_CLIENT_SECRET = "demo-secret-not-for-production"
SALES = UUID("00000000-0000-4000-8000-0000000000a1")
SALE = UUID("00000000-0000-4000-8000-0000000000c1")


def check(condition: bool, what: str) -> None:
    if not condition:
        sys.exit(f"story failed: {what}")
    print(f"  ok: {what}")


def main() -> None:
    base_url = sys.argv[1]
    token = issue_token.sync(
        client=Client(base_url=base_url),
        body=TokenForm(
            grant_type=GrantType.CLIENT_CREDENTIALS,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
        ),
    )
    check(isinstance(token, TokenResponse) and token.token_type == "bearer", "issueToken gives a bearer token")
    api = AuthenticatedClient(base_url=base_url, token=token.access_token)

    created = create_interaction.sync(
        client=api, body=CreateInteraction(division_id=SALES, channel=Channel.VOICE)
    )
    check(isinstance(created, Interaction) and created.state == "queued", "createInteraction: queued")
    for state in (TargetState.ACTIVE, TargetState.CLOSED):
        moved = set_interaction_state.sync(id=created.id, client=api, body=SetState(state=state))
        check(isinstance(moved, Interaction) and moved.state == state.value, f"setInteractionState: {state.value}")

    body = WrapUpRequest(code_id=SALE, duration_ms=120_000, notes="Upgraded to premium")
    refused = put_interaction_wrap_up.sync_detailed(id=created.id, client=api, body=body)
    check(refused.status_code == 400, f"putInteractionWrapUp before finalization: 400 (got {refused.status_code})")
    error = refused.parsed
    check(isinstance(error, ErrorBody), "the 400 body parses into the generated ErrorBody")
    check(error.code == ErrorCode.INTERACTION_NOT_FINALIZED, f"its code is interaction.not.finalized ({error.code})")
    check(error.details[0].retry_after_ms > 0, f"it says when to retry ({error.details[0].retry_after_ms} ms)")
    check("retry-after" in refused.headers, "with a Retry-After header")

    # Wait as the error says, then until the interaction reads finalized (bounded).
    time.sleep(error.details[0].retry_after_ms / 1000)
    deadline = time.monotonic() + 10
    while not get_interaction.sync(id=created.id, client=api).finalized:
        if time.monotonic() > deadline:
            sys.exit("story failed: the interaction was not finalized 10 s after Retry-After")
        time.sleep(0.05)

    accepted = put_interaction_wrap_up.sync_detailed(id=created.id, client=api, body=body)
    check(accepted.status_code == 204, f"putInteractionWrapUp once finalized: 204 (got {accepted.status_code})")
    applied = get_interaction_wrap_up.sync(id=created.id, client=api)
    check(isinstance(applied, WrapUp) and applied.code_name == "Sale", "getInteractionWrapUp: Sale")
    history = get_interaction_wrap_up_history.sync(id=created.id, client=api)
    check(
        isinstance(history, list) and [w.code_id for w in history] == [SALE] and history[0].duration_ms == 120_000,
        "getInteractionWrapUpHistory: the one wrap-up, as applied",
    )
    print("the generated client told the story")


if __name__ == "__main__":
    main()
