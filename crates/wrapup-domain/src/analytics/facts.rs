//! An interaction as Genesys analytics sees it (docs/genesys.md#analytics): its
//! participants, sessions and segments, its metrics, and the value of each dimension on
//! each segment (what filters test and aggregates group by). Pure functions of the
//! interaction.
//!
//! - The **customer** participant (`purpose` `customer`) has one session with one
//!   `interact` segment, from the creation to the close.
//! - The **agent** participant (`purpose` `agent`, `userId` the agent's) has one session
//!   with an `alert` segment from the creation (queued) until it was answered (or closed
//!   unanswered), an `interact` segment from the answer to the close, and a `wrapup`
//!   segment from the close to the end of after-call work (the wrap-up, the skip, the
//!   system's `ININ-WRAP-UP-TIMEOUT`), carrying `wrapUpCode`, `wrapUpNote` and
//!   `wrapUpTags`. Each has the queue's `queueId`; an open segment has no `segmentEnd`.

use time::OffsetDateTime;
use wrapup_types::genesys::{
    AnalyticsConversation, AnalyticsConversationSegment, AnalyticsParticipant, AnalyticsSession,
    AnalyticsSessionMetric, Media,
};
use wrapup_types::timestamp::to_millis;
use wrapup_types::{Interaction, InteractionState, TIMEOUT_CODE};

use super::{Dimension, Metric};
use crate::genesys::{acw_end, ConversationIds, Role};

/// The analytics media type of an interaction: `voice`, `callback`, `email`, `message`
/// (a chat is a message, as in the conversation reads).
pub fn media_type(i: &Interaction) -> &'static str {
    match Media::of(i.channel) {
        Media::Calls => "voice",
        Media::Callbacks => "callback",
        Media::Emails => "email",
        Media::Messages => "message",
    }
}

/// The wrap-up code as analytics shows it: the code's id, or `ININ-WRAP-UP-TIMEOUT`.
pub fn wrapup_code(i: &Interaction) -> Option<String> {
    i.wrap_up.as_ref().map(|w| {
        if w.system {
            TIMEOUT_CODE.to_string()
        } else {
            w.code_id.to_string()
        }
    })
}

fn ended(i: &Interaction) -> Option<OffsetDateTime> {
    i.closed_at.filter(|_| {
        matches!(
            i.state,
            InteractionState::Closed | InteractionState::Completed
        )
    })
}

fn ms_between(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<i64> {
    Some((to_millis(b?) - to_millis(a?)).max(0))
}

/// The value of `metric` for the interaction, with the time it became known, if it has one:
/// - `nOffered` 1, at the creation (every interaction is offered to the contact center);
/// - `nConnected` 1 once answered (it became active), at the answer;
/// - `tTalk` the answer to the close, in ms, at the close;
/// - `tAcw` the close to the end of after-call work (the wrap-up, the skip, the system's
///   timeout wrap-up), in ms, at that end;
/// - `tHandle` `tTalk` + `tAcw`, once both are known (an interaction never answered is not
///   handled).
pub fn metric(i: &Interaction, metric: Metric) -> Option<(i64, OffsetDateTime)> {
    let closed = ended(i);
    let acw = acw_end(i).filter(|_| closed.is_some());
    let talk = ms_between(i.active_at, closed);
    let after = ms_between(closed, acw);
    match metric {
        Metric::NOffered => Some((1, i.created_at)),
        Metric::NConnected => i.active_at.map(|t| (1, t)),
        Metric::TTalk => talk.zip(closed),
        Metric::TAcw => after.zip(acw),
        Metric::THandle => Some((talk? + after?, acw?)),
    }
}

/// The interaction as an `AnalyticsConversation`. `agent_name` is its agent's name, if it
/// has one the caller may see.
pub fn conversation(i: &Interaction, agent_name: Option<&str>) -> AnalyticsConversation {
    let ids = ConversationIds::of(i.id);
    let media = media_type(i).to_string();
    let routing = i.routing.clone().unwrap_or_default();
    let closed = ended(i);
    let segment = |kind: &str, start: OffsetDateTime, end: Option<OffsetDateTime>| {
        AnalyticsConversationSegment {
            segment_start: start,
            segment_end: end,
            segment_type: kind.to_string(),
            queue_id: routing.queue_id,
            wrap_up_code: None,
            wrap_up_note: None,
            wrap_up_tags: Vec::new(),
            disconnect_type: None,
        }
    };
    let mut customer = segment("interact", i.created_at, closed);
    customer.queue_id = None;
    customer.disconnect_type = closed.map(|_| "client".to_string());
    let mut agent = vec![segment("alert", i.created_at, i.active_at.or(closed))];
    if let Some(answered) = i.active_at {
        let mut talk = segment("interact", answered, closed);
        talk.disconnect_type = closed.map(|_| "client".to_string());
        agent.push(talk);
    }
    if let Some(closed_at) = closed {
        let mut wrap = segment("wrapup", closed_at, acw_end(i));
        if let Some(w) = &i.wrap_up {
            wrap.wrap_up_code = wrapup_code(i);
            wrap.wrap_up_note = w.notes.clone();
            wrap.wrap_up_tags = w.tags.clone();
        }
        agent.push(wrap);
    }
    let metrics = Metric::ALL
        .into_iter()
        .filter_map(|m| {
            metric(i, m).map(|(value, emit_date)| AnalyticsSessionMetric {
                name: m.name().to_string(),
                value,
                emit_date,
            })
        })
        .collect();
    let session = |role: Role, metrics: Vec<AnalyticsSessionMetric>, segments| AnalyticsSession {
        session_id: ids.communication(role),
        media_type: media.clone(),
        direction: "inbound".to_string(),
        acw_skipped: role == Role::Agent && routing.wrapup_skipped,
        metrics,
        segments,
    };
    AnalyticsConversation {
        conversation_id: i.id,
        conversation_start: i.created_at,
        conversation_end: closed,
        division_ids: vec![i.division_id],
        originating_direction: "inbound".to_string(),
        participants: vec![
            AnalyticsParticipant {
                participant_id: ids.customer,
                participant_name: None,
                purpose: "customer".to_string(),
                user_id: None,
                sessions: vec![session(Role::Customer, Vec::new(), vec![customer])],
            },
            AnalyticsParticipant {
                participant_id: ids.agent,
                participant_name: agent_name.map(str::to_string),
                purpose: "agent".to_string(),
                user_id: routing.agent_id,
                sessions: vec![session(Role::Agent, metrics, agent)],
            },
        ],
    }
}

/// One segment with everything a filter can test on it: its conversation's, participant's,
/// session's and its own dimensions.
pub struct SegmentRow<'a> {
    conversation: &'a AnalyticsConversation,
    participant: &'a AnalyticsParticipant,
    session: &'a AnalyticsSession,
    segment: &'a AnalyticsConversationSegment,
}

impl SegmentRow<'_> {
    /// The segment's value of `dimension`, if it has one.
    pub fn value(&self, dimension: Dimension) -> Option<String> {
        let c = self.conversation;
        match dimension {
            Dimension::ConversationId => Some(c.conversation_id.to_string()),
            Dimension::DivisionId => c.division_ids.first().map(|d| d.to_string()),
            Dimension::OriginatingDirection => Some(c.originating_direction.clone()),
            Dimension::Purpose => Some(self.participant.purpose.clone()),
            Dimension::UserId => self.participant.user_id.map(|u| u.to_string()),
            Dimension::MediaType => Some(self.session.media_type.clone()),
            Dimension::Direction => Some(self.session.direction.clone()),
            Dimension::SegmentType => Some(self.segment.segment_type.clone()),
            Dimension::QueueId => self.segment.queue_id.map(|q| q.to_string()),
            Dimension::WrapUpCode => self.segment.wrap_up_code.clone(),
            Dimension::WrapUpNote => self.segment.wrap_up_note.clone(),
        }
    }
}

/// Every segment of the conversation, as rows.
pub fn segment_rows(c: &AnalyticsConversation) -> impl Iterator<Item = SegmentRow<'_>> {
    c.participants.iter().flat_map(move |p| {
        p.sessions.iter().flat_map(move |s| {
            s.segments.iter().map(move |g| SegmentRow {
                conversation: c,
                participant: p,
                session: s,
                segment: g,
            })
        })
    })
}

/// The interaction's value of a dimension it is grouped by (one per conversation: the
/// agent's): `None` when it has none (the key is then left out of the group).
pub fn group_value(i: &Interaction, dimension: Dimension) -> Option<String> {
    let routing = i.routing.as_ref();
    match dimension {
        Dimension::ConversationId => Some(i.id.to_string()),
        Dimension::DivisionId => Some(i.division_id.to_string()),
        Dimension::MediaType => Some(media_type(i).to_string()),
        Dimension::Direction | Dimension::OriginatingDirection => Some("inbound".to_string()),
        Dimension::WrapUpCode => wrapup_code(i),
        Dimension::QueueId => routing.and_then(|r| r.queue_id).map(|q| q.to_string()),
        Dimension::UserId => routing.and_then(|r| r.agent_id).map(|u| u.to_string()),
        Dimension::Purpose | Dimension::SegmentType | Dimension::WrapUpNote => None,
    }
}
