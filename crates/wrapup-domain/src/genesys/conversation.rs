//! An interaction seen as a Genesys Cloud conversation: the lifecycle mapped onto Genesys
//! states (docs/genesys.md#states, the table this module implements), and the bodies of
//! the conversation reads. Pure functions of the interaction and its division's name.

use time::OffsetDateTime;
use wrapup_types::genesys::{
    AfterCallWork, AfterCallWorkState, AssignedWrapupCode, Communication, CommunicationState,
    Conversation, ConversationParticipant, Direction, DivisionMembership, DivisionRef, Media,
    MediaConversation, MediaParticipant, ParticipantWrapup, WrapupPrompt,
};
use wrapup_types::{Interaction, InteractionState, WrapUp};

use super::ids::{ConversationIds, Role};

/// The state of the agent's communication: queued → `alerting`, active → `connected`,
/// closed → `disconnected`, completed → `terminated` for calls and callbacks. An email or
/// message stays `disconnected` once wrapped up (the SDKs' `Email` and `Message` models
/// have no `terminated`), and so does any interaction whose wrap-up is provisional
/// (after-call work is not complete). The customer's communication is `connected` until
/// the interaction closes, then `disconnected`.
pub fn communication_state(
    media: Media,
    role: Role,
    state: InteractionState,
    wrap_up: Option<&WrapUp>,
) -> CommunicationState {
    use InteractionState::*;
    match (role, state) {
        (Role::Customer, Queued | Active) => CommunicationState::Connected,
        (Role::Customer, Closed | Completed) => CommunicationState::Disconnected,
        (Role::Agent, Queued) => CommunicationState::Alerting,
        (Role::Agent, Active) => CommunicationState::Connected,
        (Role::Agent, Closed) => CommunicationState::Disconnected,
        (Role::Agent, Completed) => {
            let final_wrap_up = wrap_up.is_some_and(|w| !w.provisional);
            if final_wrap_up && media.can_terminate() {
                CommunicationState::Terminated
            } else {
                CommunicationState::Disconnected
            }
        }
    }
}

/// The agent's after-call work: none before the interaction closes; `pending` from the
/// close until a final (not provisional) wrap-up, then `complete`.
fn after_call_work(i: &Interaction) -> Option<AfterCallWork> {
    let start_time = i.closed_at?;
    let done = i.wrap_up.as_ref().filter(|w| !w.provisional);
    Some(AfterCallWork {
        state: if done.is_some() {
            AfterCallWorkState::Complete
        } else {
            AfterCallWorkState::Pending
        },
        start_time,
        end_time: done.map(|w| w.applied_at),
    })
}

/// The wrap-up as a participant or communication shows it.
pub fn participant_wrapup(w: &WrapUp) -> ParticipantWrapup {
    ParticipantWrapup {
        code: w.code_id,
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
        code: w.code_id,
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

fn facts(i: &Interaction, role: Role) -> ParticipantFacts {
    let media = Media::of(i.channel);
    let ids = ConversationIds::of(i.id);
    let closed = closed(i);
    let end_time = i.closed_at.filter(|_| closed);
    let state = communication_state(media, role, i.state, i.wrap_up.as_ref());
    match role {
        // The customer is there from the start: connected when the interaction is created.
        Role::Customer => ParticipantFacts {
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
            ParticipantFacts {
                start_time: i.created_at,
                connected_time: i.active_at,
                end_time,
                wrapup_required: closed,
                wrapup_prompt: Some(WrapupPrompt::Mandatory),
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
/// communication of the interaction's media.
pub fn conversation(i: &Interaction, division_name: &str) -> Conversation {
    let media = Media::of(i.channel);
    let ids = ConversationIds::of(i.id);
    let participants = [Role::Customer, Role::Agent]
        .into_iter()
        .map(|role| {
            let f = facts(i, role);
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
                wrapup_required: f.wrapup_required,
                wrapup_prompt: f.wrapup_prompt,
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
pub fn media_conversation(i: &Interaction, division_name: &str) -> MediaConversation {
    let media = Media::of(i.channel);
    let ids = ConversationIds::of(i.id);
    let participants = [Role::Customer, Role::Agent]
        .into_iter()
        .map(|role| {
            let f = facts(i, role);
            MediaParticipant {
                id: ids.participant(role),
                start_time: f.start_time,
                start_alerting_time: f.communication.start_alerting_time,
                connected_time: f.connected_time,
                end_time: f.end_time,
                purpose: role.purpose(),
                state: f.communication.state,
                direction: f.communication.direction,
                wrapup_required: f.wrapup_required,
                wrapup_prompt: f.wrapup_prompt,
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
            let agent = |s, w| communication_state(media, Role::Agent, s, w);
            let customer = |s, w| communication_state(media, Role::Customer, s, w);
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
            version: 1,
        }
    }

    #[test]
    fn after_call_work_follows_the_close_and_the_final_wrap_up() {
        let queued = conversation(&interaction(Channel::Voice, Queued, None), "Sales");
        let agent = &queued.participants[1];
        assert_eq!(agent.purpose, wrapup_types::genesys::Purpose::Agent);
        assert!(!agent.wrapup_required && agent.connected_time.is_none());
        assert!(agent.calls.as_ref().unwrap()[0].after_call_work.is_none());
        assert!(queued.end_time.is_none());

        let closed = conversation(&interaction(Channel::Email, Closed, None), "Sales");
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
                serde_json::to_string(&conversation(&i, "Sales")).unwrap(),
                serde_json::to_string(&media_conversation(&i, "Sales")).unwrap(),
            ] {
                assert!(!text.contains("null"), "{text}");
            }
        }
    }
}
