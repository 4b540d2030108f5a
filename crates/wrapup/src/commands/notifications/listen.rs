//! `wrapup notifications listen`: a notification channel followed from the terminal, like
//! `wrapup webhooks listen` for webhooks. It creates a channel, subscribes it through REST,
//! prints each rejected topic with its reason, then prints every event of the permitted
//! ones; on a drop it reconnects with `?after=<last sequence>` so that nothing is lost
//! (the listener of `wrapup_client`).

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use serde_json::Value;
use uuid::Uuid;
use wrapup_client::{
    conversation_topics, queue_topic, user_topic, ListenError, ListenerItem, NotificationEvent,
    NotificationListener,
};
use wrapup_types::duration::parse_duration;

use crate::exit;
use crate::global::{Global, Sources};
use crate::help::examples;

pub const HELP: &str = examples!(
    "wrapup notifications listen --conversation 00000000-0000-4000-8000-0000000000e3",
    "wrapup notifications listen --queue 00000000-0000-4000-8000-0000000000b1 --user 00000000-0000-4000-8000-0000000000c1",
    "wrapup notifications listen --topic v2.detail.events.conversation.00000000-0000-4000-8000-0000000000e3.wrapup --json",
    "wrapup notifications listen --conversation 00000000-0000-4000-8000-0000000000e3 --count 2 --after 46",
);

pub const AFTER_HELP: &str = "Each event is one line: when it happened (the event's eventTime), its sequence number \
(#N, the event log's), its topic and what it says (after-call work started, the wrap-up code and duration, \
who ended). --json prints each message as the server sent it, one object per line: \
{topicName, version, eventBody, metadata: {CorrelationId, sequence}}. Rejected topics and the \
connection's news (reconnecting, a fresh channel) go to stderr.\n\n\
The socket is followed across drops: the listener reconnects within --reconnect-for with \
?after=<the last sequence it printed>, and the server replays what it missed (each event printed \
once). Before the server closes a socket (the channel expires, or the server shuts down) it sends \
v2.system.socket_closing; the listener then moves to a fresh channel with the same topics.\n\n\
Exit status: 0 on Ctrl-C or after --count events; 3 when no topic is permitted (each rejected topic \
is printed with its reason and the permissions it lacks); 5 when no socket could be reopened within \
--reconnect-for (events after the last printed one may then be missing: run it again with --after).";

#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true)))]
pub struct ListenArgs {
    /// A topic, e.g. v2.detail.events.conversation.{id}.acw (repeatable; `wrapup
    /// notifications topics` lists them).
    #[arg(long = "topic", value_name = "TOPIC", group = "what")]
    topics: Vec<String>,
    /// A conversation's (interaction's) detail events: its .acw, .wrapup, .customer.end and
    /// .user.end topics (repeatable).
    #[arg(long = "conversation", value_name = "ID", group = "what")]
    conversations: Vec<Uuid>,
    /// A queue's conversations: v2.routing.queues.{id}.conversations (repeatable).
    #[arg(long = "queue", value_name = "ID", group = "what")]
    queues: Vec<Uuid>,
    /// An agent's conversations: v2.users.{id}.conversations (repeatable).
    #[arg(long = "user", value_name = "ID", group = "what")]
    users: Vec<Uuid>,
    /// Stop after this many events.
    #[arg(long)]
    count: Option<u64>,
    /// Start with the events after this sequence number (replayed by the server if within
    /// its replay window), instead of the next one.
    #[arg(long, value_name = "SEQUENCE")]
    after: Option<i64>,
    /// How long to keep trying to reopen a dropped socket (ms, s or m): the server's
    /// replay window, beyond which events could be missed.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    reconnect_for: Duration,
}

impl ListenArgs {
    /// Every topic asked for, in order, each once.
    fn all_topics(&self) -> Vec<String> {
        let mut topics = self.topics.clone();
        for id in &self.conversations {
            topics.extend(conversation_topics(&id.to_string()));
        }
        topics.extend(self.queues.iter().map(|id| queue_topic(&id.to_string())));
        topics.extend(self.users.iter().map(|id| user_topic(&id.to_string())));
        let mut seen = std::collections::HashSet::new();
        topics.retain(|t| seen.insert(t.clone()));
        topics
    }
}

pub async fn run(args: ListenArgs, global: &Global, sources: &Sources) -> anyhow::Result<u8> {
    let client = Arc::new(global.client(sources)?);
    let topics = args.all_topics();
    let (listener, answers) =
        NotificationListener::start(client, &topics, args.reconnect_for).await?;
    let mut listener = listener.with_after(args.after);
    let permitted = answers.iter().filter(|a| a.permitted()).count();
    for rejected in answers.iter().filter(|a| !a.permitted()) {
        let missing = if rejected.missing_permissions.is_empty() {
            String::new()
        } else {
            format!(" (missing {})", rejected.missing_permissions.join(", "))
        };
        eprintln!(
            "rejected {}: {}{missing}",
            rejected.id,
            rejected
                .rejection_reason
                .as_deref()
                .unwrap_or("no reason given")
        );
    }
    if permitted == 0 {
        eprintln!("error: no topic was permitted; nothing to listen to");
        return Ok(exit::REJECTED);
    }
    eprintln!(
        "channel {}: {permitted} topic{} permitted; listening on {} (Ctrl-C stops)",
        listener.channel().id,
        if permitted == 1 { "" } else { "s" },
        listener.channel().connect_uri
    );
    let mut seen = 0u64;
    let mut connections = 0u64;
    loop {
        let item = tokio::select! {
            item = listener.next() => item,
            _ = tokio::signal::ctrl_c() => {
                listener.close().await;
                return Ok(exit::OK);
            }
        };
        let item = match item {
            Ok(item) => item,
            Err(e @ ListenError::Api(_)) => return Err(anyhow::Error::new(e)),
            Err(e @ ListenError::Refused { .. }) => {
                eprintln!("error: {e}");
                return Ok(exit::REJECTED);
            }
            Err(e @ ListenError::GaveUp { .. }) => {
                eprintln!("error: {e}");
                return Ok(exit::UNREACHABLE);
            }
        };
        match item {
            ListenerItem::Event(event) => {
                print_event(&event, global.json);
                seen += 1;
                if args.count.is_some_and(|n| seen >= n) {
                    listener.close().await;
                    return Ok(exit::OK);
                }
            }
            ListenerItem::Connected {
                channel_id,
                after,
                fresh_channel,
            } => {
                connections += 1;
                let after = after
                    .map(|s| format!(" with the events after #{s}"))
                    .unwrap_or_default();
                if fresh_channel {
                    eprintln!("moved to a fresh channel {channel_id}{after}");
                } else if connections > 1 {
                    eprintln!("reconnected{after}");
                } else if global.verbose {
                    eprintln!("connected{after}");
                }
            }
            ListenerItem::Dropped { reason } => {
                eprintln!("socket dropped ({reason}); reconnecting");
            }
            ListenerItem::Closing => {
                eprintln!("the server will close this socket (v2.system.socket_closing); a fresh channel follows");
            }
            ListenerItem::Heartbeat => {
                if global.verbose {
                    eprintln!("heartbeat");
                }
            }
            ListenerItem::Other(message) => {
                if global.verbose {
                    eprintln!("{message}");
                }
            }
        }
    }
}

fn print_event(event: &NotificationEvent, json: bool) {
    if json {
        println!("{}", event.raw);
        return;
    }
    let body = &event.event_body;
    let when = body["eventTime"]
        .as_i64()
        .map(wrapup_types::timestamp::from_millis)
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    println!(
        "{}  #{:<6} {}  {}",
        wrapup_types::timestamp::format(when),
        event.sequence.map_or("-".to_string(), |s| s.to_string()),
        event.topic_name,
        summary(&event.topic_name, body)
    );
}

/// What an event says, in a few words: the fields that matter for its topic.
fn summary(topic: &str, body: &Value) -> String {
    let field = |name: &str| match &body[name] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let mut parts = Vec::new();
    let kind = topic.rsplit_once(".conversation.").map(|(_, rest)| rest);
    let what = kind
        .and_then(|rest| rest.split_once('.'))
        .map(|(_, what)| what);
    match what {
        Some("acw") => parts.push("after-call work started".to_string()),
        Some("wrapup") => {
            parts.push(format!(
                "wrap-up {}",
                field("wrapupCode").unwrap_or_else(|| "?".into())
            ));
            if let Some(ms) = body["wrapupDurationMs"].as_i64() {
                parts.push(format!("{} s", ms / 1000));
            }
            if let Some(notes) = field("wrapupNotes").filter(|n| !n.is_empty()) {
                parts.push(format!("notes {notes:?}"));
            }
        }
        Some("customer.end") => parts.push(format!(
            "customer ended ({})",
            field("disconnectType").unwrap_or_else(|| "?".into())
        )),
        Some("user.end") => parts.push(format!(
            "agent ended ({})",
            field("disconnectType").unwrap_or_else(|| "?".into())
        )),
        _ => {}
    }
    if let Some(participants) = body["participants"].as_array() {
        // v2.users.{id}.conversations, v2.routing.queues.{id}.conversations: the agent.
        parts.push(format!(
            "conversation {}",
            field("id").unwrap_or_else(|| "?".into())
        ));
        for p in participants.iter().filter(|p| p["purpose"] == "agent") {
            let mut agent = format!("agent {}", p["userId"].as_str().unwrap_or("?"));
            if let Some(code) = p["wrapup"]["code"].as_str() {
                agent.push_str(&format!(" wrap-up {code}"));
            } else if p["wrapupRequired"] == true {
                agent.push_str(" wrap-up required");
            }
            parts.push(agent);
        }
        return parts.join("  ");
    }
    for (name, label) in [
        ("conversationId", "conversation"),
        ("mediaType", ""),
        ("userId", "agent"),
        ("queueId", "queue"),
    ] {
        if let Some(value) = field(name) {
            parts.push(if label.is_empty() {
                value
            } else {
                format!("{label} {value}")
            });
        }
    }
    parts.join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_line_says_what_matters_for_each_topic() {
        let acw = summary(
            "v2.detail.events.conversation.c1.acw",
            &json!({"eventTime": 1, "conversationId": "c1", "mediaType": "VOICE", "userId": "u1", "queueId": "q1"}),
        );
        assert_eq!(
            acw,
            "after-call work started  conversation c1  VOICE  agent u1  queue q1"
        );
        let wrapup = summary(
            "v2.detail.events.conversation.c1.wrapup",
            &json!({"conversationId": "c1", "wrapupCode": "k1", "wrapupDurationMs": 120000}),
        );
        assert_eq!(wrapup, "wrap-up k1  120 s  conversation c1");
        let end = summary(
            "v2.detail.events.conversation.c1.customer.end",
            &json!({"conversationId": "c1", "disconnectType": "CLIENT"}),
        );
        assert_eq!(end, "customer ended (CLIENT)  conversation c1");
        let queue = summary(
            "v2.routing.queues.q1.conversations",
            &json!({"id": "c1", "participants": [{"purpose": "customer"}, {"purpose": "agent", "userId": "u1", "wrapupRequired": true}]}),
        );
        assert_eq!(queue, "conversation c1  agent u1 wrap-up required");
    }
}
