//! The options every command accepts, where each setting came from, and the API client
//! they describe.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, bail};
use clap::Args;
use wrapup_client::{check_base_url, Client};

use crate::config::{self, Given, Inputs, Resolved};
use crate::output::{RetryNotice, StderrTrace};

/// Options every command accepts.
///
/// The connection settings are also read from the environment (`WRAPUP_URL`, …), but by
/// [`Sources`], not by clap: clap counts a value from the environment as a flag that was
/// given, and then prints it in the usage line of any usage error, as if the client secret
/// had to be passed as `--client-secret`.
#[derive(Args, Clone)]
pub struct Global {
    /// Server URL, e.g. http://127.0.0.1:8080 [env: WRAPUP_URL; default: the profile's, or
    /// http://127.0.0.1:8080].
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// OAuth client id [env: WRAPUP_CLIENT_ID, or the profile's].
    #[arg(long, global = true)]
    pub client_id: Option<String>,
    /// OAuth client secret [env: WRAPUP_CLIENT_SECRET, or the profile's]; prefer those to
    /// this flag, which other users can see in the process list.
    #[arg(long, global = true)]
    pub client_secret: Option<String>,
    /// A ready access token instead of client credentials [env: WRAPUP_TOKEN].
    #[arg(long, global = true)]
    pub token: Option<String>,
    /// Narrow the token to these space-separated scopes [env: WRAPUP_SCOPE].
    #[arg(long, global = true)]
    pub scope: Option<String>,
    /// Profile of the config file to use [env: WRAPUP_PROFILE].
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Config file [env: WRAPUP_CONFIG; default: ~/.config/wrapup/config.toml].
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Print JSON (one document on stdout) instead of text, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// Show every HTTP request and response on stderr (the token masked).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// The connection settings of the environment (`WRAPUP_URL`, `WRAPUP_CLIENT_ID`, …), read
/// once; an empty variable counts as unset.
pub struct Sources {
    env: Vec<(&'static str, String)>,
}

impl Sources {
    pub fn from_env() -> Sources {
        let env = [
            "WRAPUP_URL",
            "WRAPUP_CLIENT_ID",
            "WRAPUP_CLIENT_SECRET",
            "WRAPUP_TOKEN",
            "WRAPUP_SCOPE",
            "WRAPUP_PROFILE",
            "WRAPUP_CONFIG",
        ]
        .into_iter()
        .filter_map(|var| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (var, v))
        })
        .collect();
        Sources { env }
    }

    /// The value of an environment variable, if set.
    pub fn var(&self, var: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(name, _)| *name == var)
            .map(|(_, v)| v.as_str())
    }
}

impl Global {
    /// The settings in effect: flags, environment, profile, defaults (see `config.rs`).
    pub fn settings(&self, sources: &Sources) -> anyhow::Result<Resolved> {
        // A flag wins over the environment.
        let given = |value: &Option<String>, var: &'static str| match (value, sources.var(var)) {
            (Some(flag), _) => Given {
                value: Some(flag.clone()),
                from_env: None,
            },
            (None, Some(env)) => Given {
                value: Some(env.to_string()),
                from_env: Some(var),
            },
            (None, None) => Given {
                value: None,
                from_env: None,
            },
        };
        config::resolve(Inputs {
            config_path: self
                .config
                .clone()
                .or_else(|| sources.var("WRAPUP_CONFIG").map(PathBuf::from)),
            profile: self
                .profile
                .clone()
                .or_else(|| sources.var("WRAPUP_PROFILE").map(str::to_string)),
            url: given(&self.url, "WRAPUP_URL"),
            client_id: given(&self.client_id, "WRAPUP_CLIENT_ID"),
            client_secret: given(&self.client_secret, "WRAPUP_CLIENT_SECRET"),
            token: given(&self.token, "WRAPUP_TOKEN"),
            scope: given(&self.scope, "WRAPUP_SCOPE"),
        })
    }

    /// The API client the settings describe; without any credentials, the error that says
    /// so (nothing is sent: every client command needs them).
    pub fn client(&self, sources: &Sources) -> anyhow::Result<Client> {
        self.client_maybe_anonymous(sources, false)
    }

    /// The API client the settings describe, even without credentials (`doctor` reports
    /// them missing as one of its checks).
    pub fn client_without_credentials(&self, sources: &Sources) -> anyhow::Result<Client> {
        self.client_maybe_anonymous(sources, true)
    }

    fn client_maybe_anonymous(&self, sources: &Sources, anonymous: bool) -> anyhow::Result<Client> {
        let settings = self.settings(sources)?;
        let url = settings
            .url
            .value
            .clone()
            .unwrap_or_else(|| config::DEFAULT_URL.into());
        let url = check_base_url(&url).map_err(|why| {
            let from = match &settings.url.source {
                config::Source::Flag => "--url".to_string(),
                config::Source::Env(var) => var.to_string(),
                config::Source::Profile(p) => format!("the profile {p}"),
                config::Source::Default | config::Source::Unset => "the default".to_string(),
            };
            anyhow!("{why}\n  hint: the URL is set by {from} (`wrapup config show` lists every setting and where it comes from)")
        })?;
        let mut client = Client::new(&url);
        match (&settings.token.value, &settings.client_id.value, &settings.client_secret.value) {
            (Some(token), _, _) => client = client.with_token(token),
            (None, Some(id), Some(secret)) => {
                client = client.with_credentials(id, secret);
                if let Some(scope) = &settings.scope.value {
                    client = client.with_scope(scope);
                }
            }
            (None, Some(_), None) => bail!("a client id is set but no secret: set WRAPUP_CLIENT_SECRET or --client-secret (see `wrapup config show`)"),
            (None, None, Some(_)) => bail!("a client secret is set but no client id: set WRAPUP_CLIENT_ID or --client-id (see `wrapup config show`)"),
            (None, None, None) if anonymous => {}
            (None, None, None) => bail!(wrapup_client::Error::NoCredentials),
        }
        if self.verbose {
            client = client.with_trace(Arc::new(StderrTrace));
        } else if !self.json {
            client = client.with_trace(Arc::new(RetryNotice));
        }
        Ok(client)
    }
}
