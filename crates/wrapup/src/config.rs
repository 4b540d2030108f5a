//! Where the client commands get the server URL and credentials: flags, then the
//! environment (`WRAPUP_URL`, `WRAPUP_CLIENT_ID`, `WRAPUP_CLIENT_SECRET`, `WRAPUP_TOKEN`),
//! then a profile of the config file (`~/.config/wrapup/config.toml`), then defaults.
//!
//! ```toml
//! default_profile = "sandbox"
//!
//! [profiles.sandbox]
//! url = "http://127.0.0.1:8080"
//! client_id = "00000000-0000-4000-8000-00000000d001"
//! client_secret = "demo-secret-not-for-production"
//!
//! [profiles.prod]
//! url = "https://wrapup.example.com"
//! client_id = "…"
//! client_secret = "…"
//! scope = "interaction:view interaction:write wrapup-code:view"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub token: Option<String>,
    pub scope: Option<String>,
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    Flag,
    Env(&'static str),
    Profile(String),
    Default,
    Unset,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("flag"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::Profile(p) => write!(f, "profile {p}"),
            Source::Default => f.write_str("default"),
            Source::Unset => f.write_str("not set"),
        }
    }
}

/// A setting and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub value: Option<String>,
    pub source: Source,
}

/// The settings the client commands use.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolved {
    pub config_file: Option<PathBuf>,
    pub profile: Option<String>,
    pub url: Setting,
    pub client_id: Setting,
    pub client_secret: Setting,
    pub token: Setting,
    pub scope: Setting,
}

/// A value given on the command line or in the environment (clap knows which).
#[derive(Debug, Clone)]
pub struct Given {
    pub value: Option<String>,
    pub from_env: Option<&'static str>,
}

pub struct Inputs {
    pub config_path: Option<PathBuf>,
    pub profile: Option<String>,
    pub url: Given,
    pub client_id: Given,
    pub client_secret: Given,
    pub token: Given,
    pub scope: Given,
}

/// `$WRAPUP_CONFIG`, else `$XDG_CONFIG_HOME/wrapup/config.toml`, else
/// `~/.config/wrapup/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("wrapup/config.toml"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config/wrapup/config.toml"))
}

fn load(path: &Path, explicit: bool) -> anyhow::Result<Option<File>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let file: File = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid wrapup config", path.display()))?;
    warn_if_readable_by_others(path, &file);
    Ok(Some(file))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path, file: &File) {
    use std::os::unix::fs::PermissionsExt;
    let has_secret = file
        .profiles
        .values()
        .any(|p| p.client_secret.is_some() || p.token.is_some());
    if let Ok(meta) = std::fs::metadata(path) {
        if has_secret && meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} holds secrets but other users can read it; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path, _: &File) {}

pub fn resolve(inputs: Inputs) -> anyhow::Result<Resolved> {
    let explicit = inputs.config_path.is_some();
    let path = inputs.config_path.or_else(default_path);
    let file = match &path {
        Some(p) => load(p, explicit)?,
        None => None,
    };
    let profile_name = inputs
        .profile
        .clone()
        .or_else(|| file.as_ref().and_then(|f| f.default_profile.clone()))
        .or_else(|| {
            file.as_ref()
                .filter(|f| f.profiles.contains_key("default"))
                .map(|_| "default".to_string())
        });
    let profile = match (&profile_name, &file) {
        (Some(name), Some(f)) => match f.profiles.get(name) {
            Some(p) => p.clone(),
            None => {
                let known: Vec<&str> = f.profiles.keys().map(String::as_str).collect();
                bail!(
                    "no profile \"{name}\" in {}; it has: {}",
                    path.as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                )
            }
        },
        (Some(name), None) if inputs.profile.is_some() => {
            bail!(
                "profile \"{name}\" was asked for, but there is no config file at {}",
                path.as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "~/.config/wrapup/config.toml".into())
            )
        }
        _ => Profile::default(),
    };
    let pick = |given: Given, from_profile: Option<String>, default: Option<&str>| match given {
        Given {
            value: Some(v),
            from_env: Some(env),
        } => Setting {
            value: Some(v),
            source: Source::Env(env),
        },
        Given { value: Some(v), .. } => Setting {
            value: Some(v),
            source: Source::Flag,
        },
        _ => match (from_profile, default) {
            (Some(v), _) => Setting {
                value: Some(v),
                source: Source::Profile(profile_name.clone().unwrap_or_default()),
            },
            (None, Some(d)) => Setting {
                value: Some(d.to_string()),
                source: Source::Default,
            },
            (None, None) => Setting {
                value: None,
                source: Source::Unset,
            },
        },
    };
    Ok(Resolved {
        config_file: path.filter(|_| file.is_some()),
        url: pick(inputs.url, profile.url.clone(), Some(DEFAULT_URL)),
        client_id: pick(inputs.client_id, profile.client_id.clone(), None),
        client_secret: pick(inputs.client_secret, profile.client_secret.clone(), None),
        token: pick(inputs.token, profile.token.clone(), None),
        scope: pick(inputs.scope, profile.scope.clone(), None),
        profile: profile_name.filter(|_| file.is_some()),
    })
}

/// Secrets shorter than this show none of their characters (four of a short secret are
/// too much of it).
const SHOWN_FROM: usize = 16;

/// A secret as `config show` prints it: its first four characters (of a long one) and its
/// length, and a warning when it looks like a placeholder copied from an example (`…`,
/// `<secret>`, `changeme`) rather than a real secret.
pub fn mask(secret: &str) -> String {
    let chars = secret.chars().count();
    let length = format!(
        "{chars} character{}, hidden",
        if chars == 1 { "" } else { "s" }
    );
    let lower = secret.to_lowercase();
    let placeholder = chars < 8
        || [
            "…",
            "...",
            "<",
            ">",
            "changeme",
            "change-me",
            "xxx",
            "todo",
            "your",
        ]
        .iter()
        .any(|p| lower.contains(p));
    let warning = if placeholder {
        "; this looks like a placeholder, not a real secret"
    } else {
        ""
    };
    if chars >= SHOWN_FROM {
        let shown: String = secret.chars().take(4).collect();
        format!("{shown}… ({length}{warning})")
    } else {
        format!("(set, {length}{warning})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_placeholders_flagged() {
        assert_eq!(mask("super-secret-value"), "supe… (18 characters, hidden)");
        assert_eq!(
            mask("…"),
            "(set, 1 character, hidden; this looks like a placeholder, not a real secret)"
        );
        assert_eq!(mask("s3cr3t-value"), "(set, 12 characters, hidden)");
        assert!(mask("<your client secret here>").contains("placeholder"));
        assert!(!mask("demo-secret-not-for-production").contains("placeholder"));
    }

    fn none() -> Given {
        Given {
            value: None,
            from_env: None,
        }
    }

    #[test]
    fn flags_then_env_then_profile_then_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "default_profile = \"a\"\n[profiles.a]\nurl = \"http://a\"\nclient_id = \"id-a\"\nclient_secret = \"secret-a\"\n[profiles.b]\nurl = \"http://b\"\n",
        )
        .unwrap();
        let inputs = |profile: Option<&str>, url: Given| Inputs {
            config_path: Some(path.clone()),
            profile: profile.map(str::to_string),
            url,
            client_id: Given {
                value: Some("id-env".into()),
                from_env: Some("WRAPUP_CLIENT_ID"),
            },
            client_secret: none(),
            token: none(),
            scope: none(),
        };
        let r = resolve(inputs(None, none())).unwrap();
        assert_eq!(r.profile.as_deref(), Some("a"));
        assert_eq!(r.url.value.as_deref(), Some("http://a"));
        assert_eq!(r.url.source, Source::Profile("a".into()));
        assert_eq!(r.client_id.source, Source::Env("WRAPUP_CLIENT_ID"));
        assert_eq!(r.client_secret.value.as_deref(), Some("secret-a"));
        assert_eq!(r.scope.source, Source::Unset);

        let flag = Given {
            value: Some("http://flag".into()),
            from_env: None,
        };
        let r = resolve(inputs(Some("b"), flag)).unwrap();
        assert_eq!(
            (r.url.value.as_deref(), r.url.source),
            (Some("http://flag"), Source::Flag)
        );
        assert_eq!(r.client_secret.source, Source::Unset);

        let err = resolve(inputs(Some("c"), none())).unwrap_err().to_string();
        assert!(
            err.contains("no profile \"c\"") && err.contains("a, b"),
            "{err}"
        );
    }

    #[test]
    fn without_a_file_the_defaults_apply() {
        let dir = tempfile::tempdir().unwrap();
        let r = resolve(Inputs {
            config_path: None,
            profile: None,
            url: none(),
            client_id: none(),
            client_secret: none(),
            token: none(),
            scope: none(),
        });
        // The default path may or may not exist on the machine running the tests; with an
        // explicit missing file, it is an error.
        drop(r);
        let err = resolve(Inputs {
            config_path: Some(dir.path().join("missing.toml")),
            profile: None,
            url: none(),
            client_id: none(),
            client_secret: none(),
            token: none(),
            scope: none(),
        })
        .unwrap_err();
        assert!(err.to_string().contains("missing.toml"));
        assert_eq!(
            mask("demo-secret-not-for-production"),
            "demo… (30 characters, hidden)"
        );
    }
}
