//! Notification channels (`Store::notifications`), on both backends: a client's channels
//! beyond the limit go least recently used first (unconnected ones before connected ones),
//! changes keep their topics, cursor and use time, expired channels answer `NotFound` and
//! are pruned.

use uuid::Uuid;
use wrapup_store::testing::TestDb;
use wrapup_store::*;

use super::{open_db, NOW};

conformance!(notification_channels_keep_their_limit_topics_and_cursor);

fn channel(n: u32, client_id: Uuid) -> ChannelRecord {
    ChannelRecord {
        id: format!("streaming-0-{n:04}"),
        client_id,
        token_hash: "ab".repeat(32),
        scopes: "interaction:view".into(),
        created_ms: NOW + 100 * i64::from(n),
        expires_ms: NOW + 86_400_000,
        last_used_ms: NOW + 100 * i64::from(n),
        socket: None,
        topics: vec![],
        cursor: None,
        disconnected_ms: None,
    }
}

async fn notification_channels_keep_their_limit_topics_and_cursor(db: TestDb) {
    let store = open_db(&db).await;
    let channels = store.notifications();
    let (client, other) = (Uuid::new_v4(), Uuid::new_v4());
    for n in 0..3 {
        assert!(channels
            .create_channel(&channel(n, client), 3)
            .await
            .unwrap()
            .is_empty());
    }
    channels
        .create_channel(&channel(50, other), 3)
        .await
        .unwrap();
    // Channel 0 is connected and channel 1 used since: a fourth removes channel 2.
    channels
        .change_channel(
            "streaming-0-0000",
            &ChannelChange::Connected {
                socket: "socket-a".into(),
            },
            NOW + 210,
        )
        .await
        .unwrap();
    let topics = vec!["v2.users.x.conversations".to_string(), "b".to_string()];
    let changed = channels
        .change_channel(
            "streaming-0-0001",
            &ChannelChange::Topics {
                topics: topics.clone(),
                expires_ms: NOW + 2 * 86_400_000,
            },
            NOW + 211,
        )
        .await
        .unwrap();
    assert_eq!(changed.topics, topics);
    assert_eq!(changed.last_used_ms, NOW + 211);
    let removed = channels
        .create_channel(&channel(3, client), 3)
        .await
        .unwrap();
    assert_eq!(removed, ["streaming-0-0002"]);
    // Then channel 1 (used at +211) before the connected channel 0, used less recently
    // (+210), and channel 3 before channel 0.
    let removed = channels
        .create_channel(&channel(4, client), 3)
        .await
        .unwrap();
    assert_eq!(removed, ["streaming-0-0001"]);
    let removed = channels
        .create_channel(&channel(5, client), 3)
        .await
        .unwrap();
    assert_eq!(removed, ["streaming-0-0003"]);
    let listed: Vec<String> = channels
        .list_channels(client)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        listed,
        ["streaming-0-0000", "streaming-0-0004", "streaming-0-0005"]
    );
    assert_eq!(channels.list_channels(other).await.unwrap().len(), 1);

    // A socket's close keeps where it stopped.
    let closed = channels
        .change_channel(
            "streaming-0-0000",
            &ChannelChange::Disconnected {
                socket: "socket-a".into(),
                cursor: 42,
            },
            NOW + 620,
        )
        .await
        .unwrap();
    let read = channels
        .get_channel("streaming-0-0000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, closed);
    assert_eq!(read.socket, None);
    assert_eq!(
        (read.cursor, read.disconnected_ms),
        (Some(42), Some(NOW + 620))
    );

    // One socket per channel: a socket connecting (on any node) replaces the one before,
    // whose close then changes nothing.
    for socket in ["socket-b", "socket-c"] {
        let connected = ChannelChange::Connected {
            socket: socket.into(),
        };
        channels
            .change_channel("streaming-0-0000", &connected, NOW + 630)
            .await
            .unwrap();
    }
    let late = ChannelChange::Disconnected {
        socket: "socket-b".into(),
        cursor: 99,
    };
    let read = channels
        .change_channel("streaming-0-0000", &late, NOW + 640)
        .await
        .unwrap();
    assert_eq!(
        (read.socket.as_deref(), read.cursor),
        (Some("socket-c"), Some(42))
    );

    // Expired: not changed, then pruned.
    let later = NOW + 86_400_000 + 100;
    let expired = channels
        .change_channel(
            "streaming-0-0004",
            &ChannelChange::Connected { socket: "s".into() },
            later,
        )
        .await;
    assert!(matches!(expired, Err(StoreError::NotFound)), "{expired:?}");
    assert!(matches!(
        channels
            .change_channel(
                "streaming-0-nope",
                &ChannelChange::Connected { socket: "s".into() },
                NOW
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(channels.prune_channels(later).await.unwrap(), 4);
    assert!(channels
        .get_channel("streaming-0-0004")
        .await
        .unwrap()
        .is_none());
    assert_eq!(channels.list_channels(client).await.unwrap().len(), 0);
    store.close().await;
}
