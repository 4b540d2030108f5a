//! The options every command accepts, where each setting came from, and the API client
//! they describe.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::bail;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use wrapup_client::Client;

use crate::config::{self, Given, Inputs, Resolved};
use crate::output::StderrTrace;

/// Options every command accepts.
#[derive(Args, Clone)]
pub struct Global {
    /// Server URL [env: WRAPUP_URL; default: the profile's, or http://127.0.0.1:8080].
    #[arg(long, global = true, env = "WRAPUP_URL", hide_env = true)]
    pub url: Option<String>,
    /// OAuth client id [env: WRAPUP_CLIENT_ID].
    #[arg(long, global = true, env = "WRAPUP_CLIENT_ID", hide_env = true)]
    pub client_id: Option<String>,
    /// OAuth client secret [env: WRAPUP_CLIENT_SECRET]; prefer the environment or a
    /// profile to a flag, which other users can see in the process list.
    #[arg(
        long,
        global = true,
        env = "WRAPUP_CLIENT_SECRET",
        hide_env_values = true,
        hide_env = true
    )]
    pub client_secret: Option<String>,
    /// A ready access token instead of client credentials [env: WRAPUP_TOKEN].
    #[arg(
        long,
        global = true,
        env = "WRAPUP_TOKEN",
        hide_env_values = true,
        hide_env = true
    )]
    pub token: Option<String>,
    /// Narrow the token to these space-separated scopes [env: WRAPUP_SCOPE].
    #[arg(long, global = true, env = "WRAPUP_SCOPE", hide_env = true)]
    pub scope: Option<String>,
    /// Profile of the config file to use [env: WRAPUP_PROFILE].
    #[arg(long, global = true, env = "WRAPUP_PROFILE", hide_env = true)]
    pub profile: Option<String>,
    /// Config file [env: WRAPUP_CONFIG; default: ~/.config/wrapup/config.toml].
    #[arg(long, global = true, env = "WRAPUP_CONFIG", hide_env = true)]
    pub config: Option<PathBuf>,
    /// Print JSON (one document on stdout) instead of text, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// Show every HTTP request and response on stderr (the token masked).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Log format of `serve` on stderr: text, or json (one object per line). Filter with
    /// WRAPUP_LOG, e.g. WRAPUP_LOG=debug.
    #[arg(long, global = true, env = "WRAPUP_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
}

/// How `serve` writes its log.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Which global settings came from the environment rather than a flag.
pub struct Sources {
    env: Vec<&'static str>,
}

impl Sources {
    pub fn of(matches: &ArgMatches) -> Sources {
        let from_env = |id: &str| {
            // Global arguments are recorded on the subcommand that was used.
            let mut m = matches;
            while let Some((_, sub)) = m.subcommand() {
                m = sub;
            }
            m.value_source(id) == Some(ValueSource::EnvVariable)
                || matches.value_source(id) == Some(ValueSource::EnvVariable)
        };
        let env = [
            ("url", "WRAPUP_URL"),
            ("client_id", "WRAPUP_CLIENT_ID"),
            ("client_secret", "WRAPUP_CLIENT_SECRET"),
            ("token", "WRAPUP_TOKEN"),
            ("scope", "WRAPUP_SCOPE"),
        ]
        .into_iter()
        .filter(|(id, _)| from_env(id))
        .map(|(_, var)| var)
        .collect();
        Sources { env }
    }

    pub fn env_var(&self, var: &'static str) -> Option<&'static str> {
        self.env.contains(&var).then_some(var)
    }
}

impl Global {
    /// The settings in effect: flags, environment, profile, defaults (see `config.rs`).
    pub fn settings(&self, sources: &Sources) -> anyhow::Result<Resolved> {
        let given = |value: &Option<String>, var: &'static str| Given {
            value: value.clone(),
            from_env: value.as_ref().and(sources.env_var(var)),
        };
        config::resolve(Inputs {
            config_path: self.config.clone(),
            profile: self.profile.clone(),
            url: given(&self.url, "WRAPUP_URL"),
            client_id: given(&self.client_id, "WRAPUP_CLIENT_ID"),
            client_secret: given(&self.client_secret, "WRAPUP_CLIENT_SECRET"),
            token: given(&self.token, "WRAPUP_TOKEN"),
            scope: given(&self.scope, "WRAPUP_SCOPE"),
        })
    }

    /// The API client the settings describe.
    pub fn client(&self, sources: &Sources) -> anyhow::Result<Client> {
        let settings = self.settings(sources)?;
        let url = settings
            .url
            .value
            .clone()
            .unwrap_or_else(|| config::DEFAULT_URL.into());
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
            (None, None, None) => {} // requests will say credentials are missing
        }
        if self.verbose {
            client = client.with_trace(Arc::new(StderrTrace));
        }
        Ok(client)
    }
}
