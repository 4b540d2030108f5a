//! One client shared by many concurrent requests never deadlocks, including in the pattern
//! `wrapup batch` uses: a `buffered` stream of requests whose loop body awaits another
//! request of the same client. The body stops polling the buffered futures while it
//! awaits; when one of them held (or was next in line for) the client's token lock, the
//! body's request waited for it forever. Before the token cache was read without an async
//! lock, this test stalled within about twenty rounds.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use wrapup_server::testkit::*;
use wrapup_types::TargetState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_requests_with_requests_in_the_loop_body_never_deadlock() {
    let server = TestServer::start().await;
    let client = Arc::new(server.admin().await);
    let division = server.division(&client, "Sales").await;
    let id = server
        .interaction(&client, division, &[TargetState::Active])
        .await;
    for round in 0..200 {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    let mut reads = futures::stream::iter(0..16)
                        .map(|_| client.get_interaction(id))
                        .buffered(8);
                    while let Some(read) = reads.next().await {
                        read.unwrap();
                        client.get_interaction(id).await.unwrap();
                    }
                })
            })
            .collect();
        // A bound, not a timing guess: a round takes milliseconds; a deadlock never ends.
        let round_done = futures::future::join_all(tasks);
        match tokio::time::timeout(Duration::from_secs(30), round_done).await {
            Ok(done) => done.into_iter().for_each(|task| task.unwrap()),
            Err(_) => panic!("round {round}: the requests deadlocked"),
        }
    }
}
