//! The Notifications API's rules (docs/genesys.md#notifications): what a topic name means,
//! which topics a change to an interaction produces, and the Genesys body of each. Pure:
//! the server's dispatch, its replay from the event log and the availability checks all
//! call these.

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;
use wrapup_types::genesys::DetailEvent;
use wrapup_types::{Channel, EventKind, Interaction, InteractionState, Scope, TIMEOUT_CODE};

use super::conversation::conversation;
use super::ids::{ConversationIds, Role};

/// The Genesys permission every topic needs, and the wrapup scope that grants it.
pub const TOPIC_PERMISSION: (&str, Scope) =
    ("conversation:communication:view", Scope::InteractionView);

/// Which detail event of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetailKind {
    /// After-call work started: the interaction closed.
    Acw,
    /// A (final) wrap-up was set, the system's `ININ-WRAP-UP-TIMEOUT` included.
    Wrapup,
    /// The customer's side ended: the close.
    CustomerEnd,
    /// The agent's side ended: the close.
    UserEnd,
}

impl DetailKind {
    pub const ALL: [DetailKind; 4] = [Self::Acw, Self::Wrapup, Self::CustomerEnd, Self::UserEnd];

    /// The topic's last part: `acw`, `wrapup`, `customer.end`, `user.end`.
    pub const fn suffix(self) -> &'static str {
        match self {
            Self::Acw => "acw",
            Self::Wrapup => "wrapup",
            Self::CustomerEnd => "customer.end",
            Self::UserEnd => "user.end",
        }
    }
}

/// A topic a channel can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `v2.detail.events.conversation.{conversationId}.{kind}`.
    Detail {
        conversation: Uuid,
        kind: DetailKind,
    },
    /// `v2.users.{userId}.conversations`: every change to the agent's conversations.
    UserConversations(Uuid),
    /// `v2.routing.queues.{queueId}.conversations`: every change to the queue's
    /// conversations.
    QueueConversations(Uuid),
}

const DETAIL_PREFIX: &str = "v2.detail.events.conversation.";

impl Topic {
    /// Parses a topic name exactly as written (ids in lower-case hyphenated form, as
    /// Genesys writes them); `None` for anything else.
    pub fn parse(name: &str) -> Option<Topic> {
        let id = |s: &str| {
            Uuid::parse_str(s)
                .ok()
                .filter(|u| u.hyphenated().to_string() == s)
        };
        if let Some(rest) = name.strip_prefix(DETAIL_PREFIX) {
            let (raw, suffix) = rest.split_once('.')?;
            let kind = DetailKind::ALL.into_iter().find(|k| k.suffix() == suffix)?;
            return Some(Topic::Detail {
                conversation: id(raw)?,
                kind,
            });
        }
        if let Some(rest) = name.strip_prefix("v2.users.") {
            return Some(Topic::UserConversations(id(
                rest.strip_suffix(".conversations")?
            )?));
        }
        let rest = name.strip_prefix("v2.routing.queues.")?;
        Some(Topic::QueueConversations(id(
            rest.strip_suffix(".conversations")?
        )?))
    }

    /// The topic's name.
    pub fn name(&self) -> String {
        match self {
            Topic::Detail { conversation, kind } => {
                format!("{DETAIL_PREFIX}{conversation}.{}", kind.suffix())
            }
            Topic::UserConversations(id) => format!("v2.users.{id}.conversations"),
            Topic::QueueConversations(id) => format!("v2.routing.queues.{id}.conversations"),
        }
    }
}

/// The topics a change to an interaction produces, in the order they are sent: the close
/// (an `interaction.state` event to `closed`) gives `.acw`, `.customer.end` and
/// `.user.end`; a final wrap-up (`interaction.wrapup` whose wrap-up is not provisional)
/// gives `.wrapup`; every change gives the agent's and the queue's conversation topics
/// (when the interaction has them). A skip, a provisional wrap-up and the end of a forced
/// timeout's after-call work reach only the conversation topics.
pub fn topics_of(kind: EventKind, i: &Interaction) -> Vec<Topic> {
    let mut topics = Vec::with_capacity(5);
    let detail = |kind| Topic::Detail {
        conversation: i.id,
        kind,
    };
    if kind == EventKind::State && i.state == InteractionState::Closed {
        topics.extend([
            detail(DetailKind::Acw),
            detail(DetailKind::CustomerEnd),
            detail(DetailKind::UserEnd),
        ]);
    }
    if kind == EventKind::WrapUp && i.wrap_up.as_ref().is_some_and(|w| !w.provisional) {
        topics.push(detail(DetailKind::Wrapup));
    }
    if let Some(routing) = &i.routing {
        if let Some(agent) = routing.agent_id {
            topics.push(Topic::UserConversations(agent));
        }
        if let Some(queue) = routing.queue_id {
            topics.push(Topic::QueueConversations(queue));
        }
    }
    topics
}

fn millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The detail events' `mediaType`.
pub const fn media_type(channel: Channel) -> &'static str {
    match channel {
        Channel::Voice => "VOICE",
        Channel::Chat => "CHAT",
        Channel::Email => "EMAIL",
        Channel::Message => "MESSAGE",
        Channel::Callback => "CALLBACK",
    }
}

/// The flat body of a detail event of `i` (after the change that produced it); `at_ms` is
/// the change's time, used when the interaction has no time of its own for it.
pub fn detail_event(kind: DetailKind, i: &Interaction, at_ms: i64) -> DetailEvent {
    let ids = ConversationIds::of(i.id);
    let role = match kind {
        DetailKind::CustomerEnd => Role::Customer,
        _ => Role::Agent,
    };
    let routing = i.routing.as_ref();
    let closed_ms = i.closed_at.map(millis).unwrap_or(at_ms);
    let mut event = DetailEvent {
        event_time: closed_ms,
        conversation_id: i.id.to_string(),
        participant_id: ids.participant(role).to_string(),
        session_id: ids.communication(role).to_string(),
        media_type: media_type(i.channel).to_string(),
        provider: "wrapup".to_string(),
        direction: "INBOUND".to_string(),
        user_id: None,
        queue_id: routing.and_then(|r| r.queue_id).map(|q| q.to_string()),
        division_id: None,
        disconnect_type: None,
        interacting_duration_ms: None,
        wrapup_code: None,
        wrapup_notes: None,
        wrapup_duration_ms: None,
    };
    if role == Role::Agent && kind != DetailKind::Wrapup {
        event.user_id = routing.and_then(|r| r.agent_id).map(|a| a.to_string());
    }
    match kind {
        DetailKind::Acw => {}
        DetailKind::Wrapup => {
            if let Some(w) = &i.wrap_up {
                event.event_time = millis(w.applied_at);
                event.wrapup_code = Some(if w.system {
                    TIMEOUT_CODE.to_string()
                } else {
                    w.code_id.to_string()
                });
                event.wrapup_notes = w.notes.clone();
                event.wrapup_duration_ms = Some(i64::from(w.duration_ms));
            }
        }
        DetailKind::CustomerEnd | DetailKind::UserEnd => {
            event.division_id = Some(i.division_id.to_string());
            event.disconnect_type = Some(
                if role == Role::Customer {
                    "PEER"
                } else {
                    "CLIENT"
                }
                .into(),
            );
            event.interacting_duration_ms = i
                .active_at
                .zip(i.closed_at)
                .map(|(a, c)| millis(c) - millis(a));
        }
    }
    event
}

/// The conversation as the users' and queues' conversation topics show it
/// (`ConversationEventTopicConversation`): the conversation read's participants, each with
/// its communication, `wrapupRequired`, `wrapupPrompt`, `afterCallWork`, …, and the
/// division by id.
pub fn conversation_event(i: &Interaction) -> Value {
    let mut body =
        serde_json::to_value(conversation(i, "", None)).expect("a conversation serialises");
    if let Some(map) = body.as_object_mut() {
        for key in ["selfUri", "startTime", "endTime"] {
            map.remove(key);
        }
        if let Some(Value::Array(divisions)) = map.get_mut("divisions") {
            for d in divisions {
                if let Some(Value::Object(division)) = d.get_mut("division") {
                    division.retain(|k, _| k == "id");
                }
            }
        }
    }
    body
}

/// The event body of `topic` for a change to `i` at `at_ms`.
pub fn event_body(topic: &Topic, i: &Interaction, at_ms: i64) -> Value {
    match topic {
        Topic::Detail { kind, .. } => {
            serde_json::to_value(detail_event(*kind, i, at_ms)).expect("an event serialises")
        }
        Topic::UserConversations(_) | Topic::QueueConversations(_) => conversation_event(i),
    }
}

#[cfg(test)]
mod tests {
    use wrapup_types::timestamp::from_millis;
    use wrapup_types::{Routing, WrapUp};

    use super::*;

    const ID: &str = "3d5e7f90-1a2b-4c3d-8e4f-5a6b7c8d9e0f";
    const AGENT: &str = "00000000-0000-4000-8000-0000000000f1";
    const QUEUE: &str = "00000000-0000-4000-8000-0000000000b3";

    fn closed() -> Interaction {
        Interaction {
            id: Uuid::parse_str(ID).unwrap(),
            division_id: Uuid::nil(),
            channel: Channel::Voice,
            state: InteractionState::Closed,
            finalized: false,
            created_at: from_millis(1_000),
            active_at: Some(from_millis(2_000)),
            closed_at: Some(from_millis(9_000)),
            finalizes_at: None,
            finalized_at: None,
            wrap_up: None,
            routing: Some(Routing {
                queue_id: Some(Uuid::parse_str(QUEUE).unwrap()),
                agent_id: Some(Uuid::parse_str(AGENT).unwrap()),
                ..Routing::default()
            }),
            version: 3,
        }
    }

    fn wrap_up(system: bool, provisional: bool) -> WrapUp {
        WrapUp {
            code_id: if system {
                Uuid::nil()
            } else {
                Uuid::from_u128(7)
            },
            code_name: "Sale".into(),
            duration_ms: 1_500,
            notes: Some("n".into()),
            applied_at: from_millis(12_000),
            applied_by: Uuid::nil(),
            tags: vec![],
            provisional,
            system,
        }
    }

    #[test]
    fn topic_names_round_trip_and_nothing_else_parses() {
        for name in [
            format!("v2.detail.events.conversation.{ID}.acw"),
            format!("v2.detail.events.conversation.{ID}.wrapup"),
            format!("v2.detail.events.conversation.{ID}.customer.end"),
            format!("v2.detail.events.conversation.{ID}.user.end"),
            format!("v2.users.{AGENT}.conversations"),
            format!("v2.routing.queues.{QUEUE}.conversations"),
        ] {
            assert_eq!(Topic::parse(&name).unwrap().name(), name);
        }
        for name in [
            "",
            "v2.users.x.conversations",
            &format!("v2.detail.events.conversation.{ID}.acd.end"),
            &format!("v2.detail.events.conversation.{}.acw", ID.to_uppercase()),
            &format!("v2.users.{AGENT}.presence"),
            &format!("v2.conversations.{ID}"),
        ] {
            assert_eq!(Topic::parse(name), None, "{name}");
        }
    }

    #[test]
    fn the_close_gives_acw_and_the_ends_and_a_final_wrapup_gives_wrapup() {
        let i = closed();
        let names = |kind, i: &Interaction| -> Vec<String> {
            topics_of(kind, i).iter().map(Topic::name).collect()
        };
        assert_eq!(
            names(EventKind::State, &i),
            [
                format!("v2.detail.events.conversation.{ID}.acw"),
                format!("v2.detail.events.conversation.{ID}.customer.end"),
                format!("v2.detail.events.conversation.{ID}.user.end"),
                format!("v2.users.{AGENT}.conversations"),
                format!("v2.routing.queues.{QUEUE}.conversations"),
            ]
        );
        assert_eq!(names(EventKind::Finalized, &i).len(), 2);
        let mut done = i.clone();
        done.state = InteractionState::Completed;
        done.wrap_up = Some(wrap_up(false, false));
        assert_eq!(
            names(EventKind::WrapUp, &done)[0],
            format!("v2.detail.events.conversation.{ID}.wrapup")
        );
        done.wrap_up = Some(wrap_up(false, true));
        assert_eq!(names(EventKind::WrapUp, &done).len(), 2, "provisional");
        done.routing = None;
        assert!(names(EventKind::WrapUpSkipped, &done).is_empty());
    }

    #[test]
    fn detail_bodies_are_flat_with_epoch_millis() {
        let mut i = closed();
        let acw = serde_json::to_value(detail_event(DetailKind::Acw, &i, 0)).unwrap();
        let ids = ConversationIds::of(i.id);
        assert_eq!(
            acw,
            serde_json::json!({
                "eventTime": 9_000, "conversationId": ID,
                "participantId": ids.agent.to_string(), "sessionId": ids.agent_communication.to_string(),
                "mediaType": "VOICE", "provider": "wrapup", "direction": "INBOUND",
                "userId": AGENT, "queueId": QUEUE,
            })
        );
        let end = detail_event(DetailKind::CustomerEnd, &i, 0);
        assert_eq!(end.participant_id, ids.customer.to_string());
        assert_eq!(
            (end.interacting_duration_ms, end.user_id),
            (Some(7_000), None)
        );
        assert_eq!(end.disconnect_type.as_deref(), Some("PEER"));
        i.wrap_up = Some(wrap_up(true, false));
        let w = detail_event(DetailKind::Wrapup, &i, 0);
        assert_eq!(w.event_time, 12_000);
        assert_eq!(w.wrapup_code.as_deref(), Some(TIMEOUT_CODE));
        assert_eq!((w.wrapup_duration_ms, w.user_id), (Some(1_500), None));
    }

    #[test]
    fn conversation_bodies_carry_the_participants() {
        let body = conversation_event(&closed());
        assert_eq!(body["id"], ID);
        assert!(body.get("selfUri").is_none());
        let agent = &body["participants"][1];
        assert_eq!(agent["userId"], AGENT);
        assert_eq!(agent["calls"][0]["afterCallWork"]["state"], "pending");
        assert_eq!(
            body["divisions"][0]["division"],
            serde_json::json!({"id": Uuid::nil()})
        );
    }
}
