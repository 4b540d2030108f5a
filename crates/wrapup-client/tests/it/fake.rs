//! A scripted HTTP server for fault injection: each request is answered by a function of
//! (method, path, how many times this method and path were requested before), and every
//! request is recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: String::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// An API error envelope.
    pub fn error(status: u16, code: &str, retry_after_ms: Option<u64>) -> Reply {
        let mut detail =
            serde_json::json!({"errorCode": code, "message": format!("injected {code}")});
        if let Some(ms) = retry_after_ms {
            detail["retryAfterMs"] = ms.into();
        }
        Reply::json(
            status,
            serde_json::json!({"status": status, "code": code, "message": format!("injected {code}"),
                "contextId": "fake", "details": [detail], "errors": []}),
        )
    }
}

type Handler = dyn Fn(&str, &str, usize) -> Reply + Send + Sync;

pub struct FakeServer {
    pub url: String,
    requests: Arc<Mutex<Vec<(String, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    pub async fn start(
        handler: impl Fn(&str, &str, usize) -> Reply + Send + Sync + 'static,
    ) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            let counts = Arc::new(Mutex::new(HashMap::<(String, String), usize>::new()));
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                let (handler, seen, counts) = (handler.clone(), seen.clone(), counts.clone());
                tokio::spawn(async move {
                    let mut reader = BufReader::new(socket);
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or("").to_string();
                    let target = parts.next().unwrap_or("").to_string();
                    let path = target.split('?').next().unwrap_or("").to_string();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).await.unwrap();
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = header.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    let n = {
                        let mut counts = counts.lock().unwrap();
                        let n = counts.entry((method.clone(), path.clone())).or_insert(0);
                        *n += 1;
                        *n - 1
                    };
                    seen.lock().unwrap().push((method.clone(), target.clone()));
                    let reply = handler(&method, &path, n);
                    let mut out = format!(
                        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    for (k, v) in &reply.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    out.push_str(&reply.body);
                    let mut socket = reader.into_inner();
                    let _ = socket.write_all(out.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        FakeServer {
            url,
            requests,
            task,
        }
    }

    /// Every request so far: (method, path and query).
    pub fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }

    pub fn count(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|(m, p)| m == method && p.split('?').next() == Some(path))
            .count()
    }
}

/// A token response, for `POST /oauth/token`.
pub fn token() -> Reply {
    Reply::json(
        200,
        serde_json::json!({"access_token": "wu_fake", "token_type": "bearer", "expires_in": 86400,
            "scope": "interaction:view interaction:write interaction:manage wrapup-code:view"}),
    )
}

/// An interaction as the API returns it, in `state` (`queued`, `closed`, …), in the nil
/// division, without a wrap-up.
pub fn interaction_json(id: uuid::Uuid, state: &str, finalized: bool) -> serde_json::Value {
    serde_json::json!({"id": id, "divisionId": uuid::Uuid::nil(), "channel": "voice", "state": state,
        "finalized": finalized, "createdAt": "2026-11-24T21:27:42.123Z", "activeAt": null,
        "closedAt": null, "finalizedAt": null, "wrapUp": null, "version": 1})
}
