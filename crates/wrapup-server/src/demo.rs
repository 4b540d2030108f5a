//! The demo organisation `wrapup serve --demo` seeds: two divisions, codes in each (one
//! archived), interactions in every state and of every channel, so that every Genesys
//! conversation state shows too (alerting, connected, disconnected with after-call work
//! pending, disconnected or terminated with it complete: docs/genesys.md#states), a demo
//! client with every scope and a viewer client limited to one division. Ids and secrets
//! are fixed so the README's walkthrough can be pasted as is. Seeding is idempotent.

use serde::Serialize;
use uuid::{uuid, Uuid};
use wrapup_store::{NewInteraction, QueueRecord, Store, StoreError, UserRecord};
use wrapup_types::{
    Channel, DivisionGrant, InteractionState, ScopeSet, UserState, WrapUpCode, WrapUpRequest,
    WrapupPrompt,
};

use crate::auth::new_client;

pub const SALES: Uuid = uuid!("00000000-0000-4000-8000-0000000000a1");
pub const SUPPORT: Uuid = uuid!("00000000-0000-4000-8000-0000000000a2");
pub const CODE_SALE: Uuid = uuid!("00000000-0000-4000-8000-0000000000c1");
pub const CODE_CALLBACK: Uuid = uuid!("00000000-0000-4000-8000-0000000000c2");
pub const CODE_NO_SALE: Uuid = uuid!("00000000-0000-4000-8000-0000000000c3");
pub const CODE_LEGACY: Uuid = uuid!("00000000-0000-4000-8000-0000000000c4");
pub const CODE_RESOLVED: Uuid = uuid!("00000000-0000-4000-8000-0000000000c5");
pub const CODE_ESCALATED: Uuid = uuid!("00000000-0000-4000-8000-0000000000c6");
pub const INTERACTION_QUEUED: Uuid = uuid!("00000000-0000-4000-8000-0000000000e1");
pub const INTERACTION_ACTIVE: Uuid = uuid!("00000000-0000-4000-8000-0000000000e2");
pub const INTERACTION_CLOSED: Uuid = uuid!("00000000-0000-4000-8000-0000000000e3");
pub const INTERACTION_COMPLETED: Uuid = uuid!("00000000-0000-4000-8000-0000000000e4");
pub const INTERACTION_SUPPORT_CLOSED: Uuid = uuid!("00000000-0000-4000-8000-0000000000e5");
/// A voice interaction wrapped up: a `terminated` call for the Genesys SDKs.
pub const INTERACTION_CALL_COMPLETED: Uuid = uuid!("00000000-0000-4000-8000-0000000000e6");
/// A callback closed and waiting for its wrap-up.
pub const INTERACTION_CALLBACK_CLOSED: Uuid = uuid!("00000000-0000-4000-8000-0000000000e7");
/// A message still queued: an `alerting` message for the Genesys SDKs.
pub const INTERACTION_MESSAGE_QUEUED: Uuid = uuid!("00000000-0000-4000-8000-0000000000e8");
/// Agents: Ada and Bob in Sales, Carol in Support.
pub const USER_ADA: Uuid = uuid!("00000000-0000-4000-8000-0000000001a1");
pub const USER_BOB: Uuid = uuid!("00000000-0000-4000-8000-0000000001a2");
pub const USER_CAROL: Uuid = uuid!("00000000-0000-4000-8000-0000000001a3");
/// Sales queues, one of each wrap-up prompt.
pub const QUEUE_MANDATORY: Uuid = uuid!("00000000-0000-4000-8000-0000000001b1");
pub const QUEUE_OPTIONAL: Uuid = uuid!("00000000-0000-4000-8000-0000000001b2");
pub const QUEUE_TIMEOUT: Uuid = uuid!("00000000-0000-4000-8000-0000000001b3");
pub const QUEUE_FORCED_TIMEOUT: Uuid = uuid!("00000000-0000-4000-8000-0000000001b4");
pub const QUEUE_AGENT_REQUESTED: Uuid = uuid!("00000000-0000-4000-8000-0000000001b5");
/// Voice interactions in after-call work under each queue, answered by Ada or Bob.
pub const INTERACTION_QUEUE_MANDATORY: Uuid = uuid!("00000000-0000-4000-8000-0000000001e1");
pub const INTERACTION_QUEUE_OPTIONAL: Uuid = uuid!("00000000-0000-4000-8000-0000000001e2");
pub const INTERACTION_QUEUE_TIMEOUT: Uuid = uuid!("00000000-0000-4000-8000-0000000001e3");
pub const INTERACTION_QUEUE_FORCED_TIMEOUT: Uuid = uuid!("00000000-0000-4000-8000-0000000001e4");
pub const INTERACTION_QUEUE_AGENT_REQUESTED: Uuid = uuid!("00000000-0000-4000-8000-0000000001e5");
/// The timeout of the demo's time-boxed queues: 15 minutes.
pub const DEMO_TIMEOUT_MS: u32 = 900_000;
pub const DEMO_CLIENT_ID: Uuid = uuid!("00000000-0000-4000-8000-00000000d001");
pub const DEMO_CLIENT_SECRET: &str = "demo-secret-not-for-production";
pub const VIEWER_CLIENT_ID: Uuid = uuid!("00000000-0000-4000-8000-00000000d002");
pub const VIEWER_CLIENT_SECRET: &str = "viewer-secret-not-for-production";

const SEEDED: &str = "demo.seeded";
/// The viewer's scopes: it reads, and can change nothing.
const VIEWER_SCOPES: &str = "interaction:view wrapup-code:view";

/// A demo OAuth client with its fixed, public secret, as the console's configuration lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoClient {
    pub name: String,
    pub client_id: Uuid,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub divisions: DivisionGrant,
    /// What the client is for, in words.
    pub description: String,
}

/// The demo clients with their credentials.
pub fn clients() -> Vec<DemoClient> {
    let words = |set: ScopeSet| set.iter().map(|s| s.as_str().to_string()).collect();
    vec![
        DemoClient {
            name: "demo".into(),
            client_id: DEMO_CLIENT_ID,
            client_secret: DEMO_CLIENT_SECRET.into(),
            scopes: words(ScopeSet::all()),
            divisions: DivisionGrant::All,
            description: "Every scope, every division.".into(),
        },
        DemoClient {
            name: "demo-viewer".into(),
            client_id: VIEWER_CLIENT_ID,
            client_secret: VIEWER_CLIENT_SECRET.into(),
            scopes: words(ScopeSet::parse(VIEWER_SCOPES).expect("known scopes")),
            divisions: DivisionGrant::Only(vec![SALES]),
            description: "Read-only, Sales only.".into(),
        },
    ]
}

/// Seeds the demo organisation unless it is already there.
pub async fn seed(store: &dyn Store, now_ms: i64) -> Result<(), StoreError> {
    if store.get_meta(SEEDED).await?.is_some() {
        return Ok(());
    }
    for (id, name) in [(SALES, "Sales"), (SUPPORT, "Support")] {
        ignore_conflict(store.create_division(id, name, now_ms).await.map(drop))?;
    }
    let now = wrapup_types::timestamp::from_millis(now_ms);
    for (id, division, name, description, archived) in [
        (
            CODE_SALE,
            SALES,
            "Sale",
            "The customer bought something.",
            false,
        ),
        (
            CODE_CALLBACK,
            SALES,
            "Callback",
            "The customer asked to be called back.",
            false,
        ),
        (
            CODE_NO_SALE,
            SALES,
            "No sale",
            "The customer did not buy.",
            false,
        ),
        (
            CODE_LEGACY,
            SALES,
            "Legacy sale",
            "Replaced by Sale; archived.",
            true,
        ),
        (
            CODE_RESOLVED,
            SUPPORT,
            "Resolved",
            "The problem was solved on the call.",
            false,
        ),
        (
            CODE_ESCALATED,
            SUPPORT,
            "Escalated",
            "Handed to the second line.",
            false,
        ),
    ] {
        let code = WrapUpCode {
            id,
            name: name.into(),
            division_id: division,
            description: Some(description.into()),
            archived,
            date_created: now,
            date_modified: now,
            created_by: Some(DEMO_CLIENT_ID),
        };
        ignore_conflict(store.create_code(&code).await.map(drop))?;
    }
    let lifecycle: [(Uuid, Uuid, Channel, &[InteractionState]); 8] = [
        (INTERACTION_QUEUED, SALES, Channel::Voice, &[]),
        (
            INTERACTION_ACTIVE,
            SALES,
            Channel::Voice,
            &[InteractionState::Active],
        ),
        (
            INTERACTION_CLOSED,
            SALES,
            Channel::Chat,
            &[InteractionState::Active, InteractionState::Closed],
        ),
        (
            INTERACTION_COMPLETED,
            SALES,
            Channel::Email,
            &[InteractionState::Active, InteractionState::Closed],
        ),
        (
            INTERACTION_SUPPORT_CLOSED,
            SUPPORT,
            Channel::Voice,
            &[InteractionState::Active, InteractionState::Closed],
        ),
        (
            INTERACTION_CALL_COMPLETED,
            SALES,
            Channel::Voice,
            &[InteractionState::Active, InteractionState::Closed],
        ),
        (
            INTERACTION_CALLBACK_CLOSED,
            SALES,
            Channel::Callback,
            &[InteractionState::Active, InteractionState::Closed],
        ),
        (INTERACTION_MESSAGE_QUEUED, SALES, Channel::Message, &[]),
    ];
    for (id, division_id, channel, states) in lifecycle {
        let created = store
            .create_interaction(&NewInteraction::new(id, division_id, channel, now_ms))
            .await;
        if matches!(created, Err(StoreError::Conflict(_))) {
            continue;
        }
        created?;
        for state in states {
            store.set_state(id, *state, now_ms, 0).await?;
        }
    }
    for interaction_id in [INTERACTION_COMPLETED, INTERACTION_CALL_COMPLETED] {
        let demo_wrapup = wrapup_store::ApplyWrapUp {
            interaction_id,
            request: WrapUpRequest {
                code_id: CODE_SALE,
                duration_ms: 90_000,
                notes: Some("Seeded by --demo.".into()),
            }
            .into(),
            client_id: DEMO_CLIENT_ID,
            divisions: DivisionGrant::All,
            now_ms,
        };
        store.apply_wrapup(&demo_wrapup).await?;
    }
    seed_routing(store, now_ms).await?;
    let (demo, _) = new_client(
        DEMO_CLIENT_ID,
        "demo",
        ScopeSet::all(),
        DivisionGrant::All,
        now_ms,
        Some(DEMO_CLIENT_SECRET),
    );
    store.create_client(&demo).await?;
    let viewer_scopes = ScopeSet::parse(VIEWER_SCOPES).expect("known scopes");
    let (viewer, _) = new_client(
        VIEWER_CLIENT_ID,
        "demo-viewer",
        viewer_scopes,
        DivisionGrant::Only(vec![SALES]),
        now_ms,
        Some(VIEWER_CLIENT_SECRET),
    );
    store.create_client(&viewer).await?;
    store.set_meta(SEEDED, "1").await
}

/// A demo queue: id, name, prompt, codes, the interaction under it, its agent.
type DemoQueue = (
    Uuid,
    &'static str,
    WrapupPrompt,
    &'static [Uuid],
    Uuid,
    Uuid,
);

/// Agents, a Sales queue of each prompt with codes, and an interaction in after-call work
/// under each.
async fn seed_routing(store: &dyn Store, now_ms: i64) -> Result<(), StoreError> {
    for (id, name, email, division_id) in [
        (USER_ADA, "Ada Agent", "ada@example.com", SALES),
        (USER_BOB, "Bob Agent", "bob@example.com", SALES),
        (USER_CAROL, "Carol Agent", "carol@example.com", SUPPORT),
    ] {
        let user = UserRecord {
            seq: 0,
            id,
            name: name.into(),
            email: email.into(),
            division_id,
            state: UserState::Active,
            created_ms: now_ms,
        };
        ignore_conflict(store.create_user(&user).await.map(drop))?;
    }
    let queues: [DemoQueue; 5] = [
        (
            QUEUE_MANDATORY,
            "Sales",
            WrapupPrompt::Mandatory,
            &[CODE_SALE, CODE_NO_SALE],
            INTERACTION_QUEUE_MANDATORY,
            USER_ADA,
        ),
        (
            QUEUE_OPTIONAL,
            "Sales optional",
            WrapupPrompt::Optional,
            &[CODE_SALE, CODE_CALLBACK],
            INTERACTION_QUEUE_OPTIONAL,
            USER_BOB,
        ),
        (
            QUEUE_TIMEOUT,
            "Sales timeout",
            WrapupPrompt::Timeout,
            &[CODE_SALE, CODE_NO_SALE],
            INTERACTION_QUEUE_TIMEOUT,
            USER_ADA,
        ),
        (
            QUEUE_FORCED_TIMEOUT,
            "Sales forced timeout",
            WrapupPrompt::ForcedTimeout,
            &[CODE_SALE],
            INTERACTION_QUEUE_FORCED_TIMEOUT,
            USER_BOB,
        ),
        (
            QUEUE_AGENT_REQUESTED,
            "Sales agent requested",
            WrapupPrompt::AgentRequested,
            &[CODE_CALLBACK],
            INTERACTION_QUEUE_AGENT_REQUESTED,
            USER_ADA,
        ),
    ];
    for (id, name, prompt, codes, interaction, agent) in queues {
        let queue = QueueRecord {
            seq: 0,
            id,
            name: name.into(),
            division_id: SALES,
            description: Some(format!("Seeded by --demo: wrap-up prompt {prompt}.")),
            prompt,
            timeout_ms: prompt.is_timed().then_some(DEMO_TIMEOUT_MS),
            code_ids: codes.to_vec(),
            created_ms: now_ms,
            modified_ms: now_ms,
        };
        ignore_conflict(store.create_queue(&queue).await.map(drop))?;
        let created = store
            .create_interaction(&NewInteraction {
                queue_id: Some(id),
                ..NewInteraction::new(interaction, SALES, Channel::Voice, now_ms)
            })
            .await;
        if matches!(created, Err(StoreError::Conflict(_))) {
            continue;
        }
        created?;
        store
            .set_state_by(
                interaction,
                InteractionState::Active,
                Some(agent),
                now_ms,
                0,
            )
            .await?;
        store
            .set_state(interaction, InteractionState::Closed, now_ms, 0)
            .await?;
    }
    Ok(())
}

fn ignore_conflict(result: Result<(), StoreError>) -> Result<(), StoreError> {
    match result {
        Err(StoreError::Conflict(_)) => Ok(()),
        other => other,
    }
}

/// A Python program that wraps up the demo's closed chat through Genesys Cloud's official
/// Python SDK (`pip install purecloudplatformclientv2`), for `serve --demo` to print
/// (docs/genesys.md#a-first-run). Running it again changes nothing.
pub fn python_sdk_snippet(base_url: &str) -> String {
    format!(
        r#"import PureCloudPlatformClientV2 as G
api = G.ApiClient(host="{base_url}").get_client_credentials_token(
    "{DEMO_CLIENT_ID}", "{DEMO_CLIENT_SECRET}")
conversations = G.ConversationsApi(api)
conversation = conversations.get_conversation("{INTERACTION_CLOSED}")
agent = next(p for p in conversation.participants if p.purpose == "agent")
wrapup = G.WrapupInput()  # SDK models take no constructor arguments
wrapup.code = "{CODE_SALE}"
wrapup.notes = "Wrapped up with the Genesys Cloud Python SDK"
conversations.post_conversations_message_participant_communication_wrapup(
    conversation.id, agent.id, agent.messages[0].id, body=wrapup)
print(conversations.get_conversation_participant_wrapup(conversation.id, agent.id))
"#
    )
}
