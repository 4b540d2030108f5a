//! An interaction seen as a Genesys Cloud conversation: the lifecycle mapped onto Genesys
//! states (docs/genesys.md#states, the table this module implements), and the bodies of
//! the conversation reads. Pure functions of the interaction and its division's name.

use time::OffsetDateTime;
use wrapup_types::genesys::{
    AfterCallWork, AfterCallWorkState, AssignedWrapupCode, Communication, CommunicationState,
    Conversation, ConversationParticipant, Direction, DivisionMembership, DivisionRef, Media,
    MediaConversation, MediaParticipant, ParticipantWrapup, WrapupPrompt,
};
use wrapup_types::{Interaction, InteractionState, WrapUp, TIMEOUT_CODE};

use super::ids::{ConversationIds, Role};

/// The state of the agent's communication: queued → `alerting`, active → `connected`,
/// closed → `disconnected`, completed → `terminated` for calls and callbacks. An email or
/// message stays `disconnected` once wrapped up (the SDKs' `Email` and `Message` models
/// have no `terminated`), and so does any interaction whose wrap-up is provisional
/// (after-call work is not complete: `acw_done` is false, see [`acw_end`]). The customer's
/// communication is `connected` until the interaction closes, then `disconnected`.
pub fn communication_state(
    media: Media,
    role: Role,
    state: InteractionState,
    acw_done: bool,
) -> CommunicationState {
    use InteractionState::*;
    match (role, state) {
        (Role::Customer, Queued | Active) => CommunicationState::Connected,
        (Role::Customer, Closed | Completed) => CommunicationState::Disconnected,
        (Role::Agent, Queued) => CommunicationState::Alerting,
        (Role::Agent, Active) => CommunicationState::Connected,
        (Role::Agent, Closed) => CommunicationState::Disconnected,
        (Role::Agent, Completed) => {
            if acw_done && media.can_terminate() {
                CommunicationState::Terminated
            } else {
                CommunicationState::Disconnected
            }
        }
    }
}

/// When the agent's after-call work ended, if it has: for an interaction with a queue or an
/// agent, the time stored when it ended (a final wrap-up, a skip, the system's wrap-up at a
/// timeout, or a forced timeout's deadline); for any other, its final (not provisional)
/// wrap-up.
pub fn acw_end(i: &Interaction) -> Option<OffsetDateTime> {
    match &i.routing {
        Some(r) => r.after_call_work_ended_at,
        None => i
            .wrap_up
            .as_ref()
            .filter(|w| !w.provisional)
            .map(|w| w.applied_at),
    }
}

/// The agent's after-call work: none before the interaction closes; `pending` from the
/// close until it ends ([`acw_end`]), then `complete` (`skipped` when the agent skipped).
fn after_call_work(i: &Interaction) -> Option<AfterCallWork> {
    let start_time = i.closed_at?;
    let end_time = acw_end(i);
    let skipped = i.routing.as_ref().is_some_and(|r| r.wrapup_skipped);
    Some(AfterCallWork {
        state: match (end_time, skipped) {
            (Some(_), true) => AfterCallWorkState::Skipped,
            (Some(_), false) => AfterCallWorkState::Complete,
            (None, _) => AfterCallWorkState::Pending,
        },
        start_time,
        end_time,
    })
}

/// A wrap-up's code as the Genesys dialect shows it: the code's id, or the system code
/// `ININ-WRAP-UP-TIMEOUT`.
fn code_of(w: &WrapUp) -> String {
    if w.system {
        TIMEOUT_CODE.to_string()
    } else {
        w.code_id.to_string()
    }
}

/// The wrap-up as a participant or communication shows it.
pub fn participant_wrapup(w: &WrapUp) -> ParticipantWrapup {
    ParticipantWrapup {
        code: code_of(w),
        name: w.code_name.clone(),
        notes: w.notes.clone(),
        tags: w.tags.clone(),
        duration_seconds: seconds(w.duration_ms),
        end_time: w.applied_at,
        provisional: w.provisional,
    }
}

/// The wrap-up as the wrap-up reads answer it.
pub fn assigned_wrapup(w: &WrapUp) -> AssignedWrapupCode {
    AssignedWrapupCode {
        code: code_of(w),
        notes: w.notes.clone(),
        tags: w.tags.clone(),
        duration_seconds: seconds(w.duration_ms),
        end_time: w.applied_at,
    }
}

/// Milliseconds as whole seconds, rounded to the nearest.
fn seconds(ms: u32) -> u32 {
    ms.saturating_add(500) / 1000
}

fn closed(i: &Interaction) -> bool {
    matches!(
        i.state,
        InteractionState::Closed | InteractionState::Completed
    )
}

fn divisions(i: &Interaction, division_name: &str) -> Vec<DivisionMembership> {
    vec![DivisionMembership {
        division: DivisionRef::new(i.division_id, division_name),
        entities: Vec::new(),
    }]
}

/// What a participant shows in both views.
struct ParticipantFacts {
    name: Option<String>,
    user_id: Option<uuid::Uuid>,
    queue_id: Option<uuid::Uuid>,
    wrapup_timeout_ms: Option<u32>,
    wrapup_skipped: bool,
    start_time: OffsetDateTime,
    connected_time: Option<OffsetDateTime>,
    end_time: Option<OffsetDateTime>,
    wrapup_required: bool,
    wrapup_prompt: Option<WrapupPrompt>,
    wrapup: Option<ParticipantWrapup>,
    start_acw_time: Option<OffsetDateTime>,
    end_acw_time: Option<OffsetDateTime>,
    communication: Communication,
}

fn facts(i: &Interaction, role: Role, agent_name: Option<&str>) -> ParticipantFacts {
    let media = Media::of(i.channel);
    let ids = ConversationIds::of(i.id);
    let closed = closed(i);
    let end_time = i.closed_at.filter(|_| closed);
    let state = communication_state(media, role, i.state, acw_end(i).is_some());
    let routing = i.routing.clone().unwrap_or_default();
    match role {
        // The customer is there from the start: connected when the interaction is created.
        Role::Customer => ParticipantFacts {
            name: None,
            user_id: None,
            queue_id: None,
            wrapup_timeout_ms: None,
            wrapup_skipped: false,
            start_time: i.created_at,
            connected_time: Some(i.created_at),
            end_time,
            wrapup_required: false,
            wrapup_prompt: None,
            wrapup: None,
            start_acw_time: None,
            end_acw_time: None,
            communication: Communication {
                id: ids.customer_communication,
                state,
                direction: Direction::Inbound,
                start_alerting_time: None,
                connected_time: Some(i.created_at),
                disconnected_time: end_time,
                wrapup: None,
                after_call_work: None,
            },
        },
        Role::Agent => {
            let wrapup = i.wrap_up.as_ref().map(participant_wrapup);
            let acw = after_call_work(i);
            let prompt = routing.prompt();
            ParticipantFacts {
                name: agent_name.map(str::to_string),
                user_id: routing.agent_id,
                queue_id: routing.queue_id,
                wrapup_timeout_ms: routing.wrapup_timeout_ms,
                wrapup_skipped: routing.wrapup_skipped,
                start_time: i.created_at,
                connected_time: i.active_at,
                end_time,
                wrapup_required: closed && prompt.requires_wrapup(),
                wrapup_prompt: Some(prompt),
                start_acw_time: acw.as_ref().map(|a| a.start_time),
                end_acw_time: acw.as_ref().and_then(|a| a.end_time),
                communication: Communication {
                    id: ids.agent_communication,
                    state,
                    direction: Direction::Inbound,
                    start_alerting_time: Some(i.created_at),
                    connected_time: i.active_at,
                    disconnected_time: end_time,
                    wrapup: wrapup.clone(),
                    after_call_work: acw,
                },
                wrapup,
            }
        }
    }
}

/// `GET /api/v2/conversations/{id}`: the customer, then the agent, each with one
/// communication of the interaction's media. `agent_name` is the name of the interaction's
/// agent, if it has one.
pub fn conversation(
    i: &Interaction,
    division_name: &str,
    agent_name: Option<&str>,
) -> Conversation {
    let media = Media::of(i.channel);
    let ids = ConversationIds::of(i.id);
    let participants = [Role::Customer, Role::Agent]
        .into_iter()
        .map(|role| {
            let f = facts(i, role, agent_name);
            let list = Some(vec![f.communication]);
            let (mut calls, mut callbacks, mut emails, mut messages) = (None, None, None, None);
            match media {
                Media::Calls => calls = list,
                Media::Callbacks => callbacks = list,
                Media::Emails => emails = list,
                Media::Messages => messages = list,
            }
            ConversationParticipant {
                id: ids.participant(role),
                start_time: f.start_time,
                connected_time: f.connected_time,
                end_time: f.end_time,
                purpose: role.purpose(),
                name: f.name,
                user_id: f.user_id,
                queue_id: f.queue_id,
                wrapup_required: f.wrapup_required,
                wrapup_prompt: f.wrapup_prompt,
                wrapup_timeout_ms: f.wrapup_timeout_ms,
                wrapup_skipped: f.wrapup_skipped,
                wrapup: f.wrapup,
                start_acw_time: f.start_acw_time,
                end_acw_time: f.end_acw_time,
                calls,
                callbacks,
                emails,
                messages,
            }
        })
        .collect();
    Conversation {
        id: i.id,
        start_time: i.created_at,
        end_time: i.closed_at.filter(|_| closed(i)),
        participants,
        divisions: divisions(i, division_name),
        self_uri: format!("/api/v2/conversations/{}", i.id),
    }
}

/// `GET /api/v2/conversations/{media}/{id}`: the same participants, each carrying the state
/// of its communication.
pub fn media_conversation(
    i: &Interaction,
    division_name: &str,
    agent_name: Option<&str>,
) -> MediaConversation {
    let media = Media::of(i.channel);
    let ids = ConversationIds::of(i.id);
    let participants = [Role::Customer, Role::Agent]
        .into_iter()
        .map(|role| {
            let f = facts(i, role, agent_name);
            MediaParticipant {
                id: ids.participant(role),
                start_time: f.start_time,
                start_alerting_time: f.communication.start_alerting_time,
                connected_time: f.connected_time,
                end_time: f.end_time,
                purpose: role.purpose(),
                name: f.name,
                user_id: f.user_id,
                queue_id: f.queue_id,
                state: f.communication.state,
                direction: f.communication.direction,
                wrapup_required: f.wrapup_required,
                wrapup_prompt: f.wrapup_prompt,
                wrapup_timeout_ms: f.wrapup_timeout_ms,
                wrapup_skipped: f.wrapup_skipped,
                wrapup: f.wrapup,
                start_acw_time: f.start_acw_time,
                end_acw_time: f.end_acw_time,
            }
        })
        .collect();
    MediaConversation {
        id: i.id,
        participants,
        divisions: divisions(i, division_name),
        self_uri: format!("/api/v2/conversations/{}/{}", media.segment(), i.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;
    use wrapup_types::timestamp::from_millis;
    use wrapup_types::Channel;
    use CommunicationState::*;
    use InteractionState::*;

    fn wrap_up(provisional: bool) -> WrapUp {
        WrapUp {
            code_id: Uuid::nil(),
            code_name: "Sale".into(),
            duration_ms: 119_600,
            notes: None,
            applied_at: from_millis(9_000),
            applied_by: Uuid::nil(),
            tags: vec![],
            provisional,
            system: false,
        }
    }

    #[test]
    fn the_state_table() {
        let w = wrap_up(false);
        let p = wrap_up(true);
        for media in Media::ALL {
            let done = if media.can_terminate() {
                Terminated
            } else {
                Disconnected
            };
            let done_of = |w: Option<&WrapUp>| w.is_some_and(|w| !w.provisional);
            let agent = |s, w| communication_state(media, Role::Agent, s, done_of(w));
            let customer = |s, w| communication_state(media, Role::Customer, s, done_of(w));
            assert_eq!(
                [
                    agent(Queued, None),
                    agent(Active, None),
                    agent(Closed, None),
                    agent(Completed, Some(&w)),
                    agent(Completed, Some(&p))
                ],
                [Alerting, Connected, Disconnected, done, Disconnected],
                "{media:?}"
            );
            assert_eq!(
                [
                    customer(Queued, None),
                    customer(Active, None),
                    customer(Closed, None),
                    customer(Completed, Some(&w))
                ],
                [Connected, Connected, Disconnected, Disconnected]
            );
        }
    }

    fn interaction(
        channel: Channel,
        state: InteractionState,
        wrap_up: Option<WrapUp>,
    ) -> Interaction {
        let closed = matches!(state, Closed | Completed);
        Interaction {
            id: Uuid::nil(),
            division_id: Uuid::nil(),
            channel,
            state,
            finalized: closed,
            created_at: from_millis(1_000),
            active_at: (state != Queued).then(|| from_millis(2_000)),
            closed_at: closed.then(|| from_millis(5_000)),
            finalizes_at: closed.then(|| from_millis(6_000)),
            finalized_at: closed.then(|| from_millis(6_000)),
            wrap_up,
            routing: None,
            version: 1,
        }
    }

    #[test]
    fn after_call_work_follows_the_close_and_the_final_wrap_up() {
        let queued = conversation(&interaction(Channel::Voice, Queued, None), "Sales", None);
        let agent = &queued.participants[1];
        assert_eq!(agent.purpose, wrapup_types::genesys::Purpose::Agent);
        assert!(!agent.wrapup_required && agent.connected_time.is_none());
        assert!(agent.calls.as_ref().unwrap()[0].after_call_work.is_none());
        assert!(queued.end_time.is_none());

        let closed = conversation(&interaction(Channel::Email, Closed, None), "Sales", None);
        let agent = &closed.participants[1];
        let acw = agent.emails.as_ref().unwrap()[0]
            .after_call_work
            .clone()
            .unwrap();
        assert_eq!(
            (acw.state, acw.end_time),
            (AfterCallWorkState::Pending, None)
        );
        assert!(
            agent.wrapup_required && agent.start_acw_time.is_some() && agent.end_acw_time.is_none()
        );
        assert!(agent.calls.is_none());

        let done = conversation(
            &interaction(Channel::Chat, Completed, Some(wrap_up(false))),
            "Sales",
            None,
        );
        let agent = &done.participants[1];
        let comm = &agent.messages.as_ref().unwrap()[0];
        assert_eq!(
            comm.after_call_work.as_ref().unwrap().state,
            AfterCallWorkState::Complete
        );
        assert_eq!(agent.end_acw_time, Some(from_millis(9_000)));
        assert_eq!(agent.wrapup.as_ref().unwrap().duration_seconds, 120);

        let provisional = conversation(
            &interaction(Channel::Voice, Completed, Some(wrap_up(true))),
            "Sales",
            None,
        );
        let comm = &provisional.participants[1].calls.as_ref().unwrap()[0];
        assert_eq!(
            comm.after_call_work.as_ref().unwrap().state,
            AfterCallWorkState::Pending
        );
        assert_eq!(comm.state, Disconnected);
        assert!(comm.wrapup.as_ref().unwrap().provisional);
    }

    #[test]
    fn nothing_absent_is_written_as_null() {
        for state in [Queued, Active, Closed] {
            let i = interaction(Channel::Callback, state, None);
            for text in [
                serde_json::to_string(&conversation(&i, "Sales", None)).unwrap(),
                serde_json::to_string(&media_conversation(&i, "Sales", None)).unwrap(),
            ] {
                assert!(!text.contains("null"), "{text}");
            }
        }
    }
}
