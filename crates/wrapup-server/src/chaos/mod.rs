//! Fault injection for the sandbox (off unless asked for): `wrapup serve --chaos
//! "503=5%,429=5%,reset=1%,after-commit-reset=2%,delay=20ms..200ms"`, or at runtime with
//! `PUT /api/v2/admin/chaos`.
//!
//! Every fault but one is decided *before* the request is handled, so it never
//! half-applies a change: `503` answers `service.unavailable`, `429` answers
//! `request.rate.limited` with `Retry-After`, `reset` drops the connection without an
//! answer, `delay` waits first. `after-commit-reset` is the exception on purpose: the
//! request is handled (and committed), then the connection is dropped, so the client cannot
//! know whether its change was made: the case that tests idempotency.
//!
//! This module holds what the faults are ([`ChaosSpec`]) and the switch holding those in
//! force; `inject.rs` injects them (a step of the `timeout` layer), `routes.rs` is
//! `GET`/`PUT /api/v2/admin/chaos`, which turns the switch.

pub mod inject;
pub mod routes;

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;

/// The wait an injected 429 asks for (short, so chaos tests run quickly; the header says
/// 1 s, as `Retry-After` has whole seconds).
pub const CHAOS_RETRY_AFTER_MS: u64 = 50;

/// What to inject, as probabilities in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChaosSpec {
    pub unavailable: f64,
    pub rate_limited: f64,
    pub reset: f64,
    pub after_commit_reset: f64,
    /// A delay drawn uniformly from this range before each request.
    pub delay: Option<(Duration, Duration)>,
}

impl ChaosSpec {
    pub fn is_off(&self) -> bool {
        *self == ChaosSpec::default()
    }
}

fn percent(key: &str, value: &str) -> Result<f64, String> {
    let number = value
        .strip_suffix('%')
        .ok_or_else(|| format!("{key}={value}: write a percentage, e.g. {key}=5%"))?;
    let p: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{key}={value}: `{number}` is not a number"))?;
    if !(0.0..=100.0).contains(&p) {
        return Err(format!("{key}={value}: a percentage is from 0% to 100%"));
    }
    Ok(p / 100.0)
}

fn millis(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (n, unit) = match s.strip_suffix("ms") {
        Some(n) => (n, 1),
        None => match s.strip_suffix('s') {
            Some(n) => (n, 1000),
            None => return Err(format!("`{s}` is not a delay; write e.g. 20ms or 1s")),
        },
    };
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a delay; write e.g. 20ms or 1s"))?;
    Ok(Duration::from_millis(n * unit))
}

impl FromStr for ChaosSpec {
    type Err = String;

    /// `503=5%,429=5%,reset=1%,after-commit-reset=2%,delay=20ms..200ms`; `off` or an empty
    /// string for none.
    fn from_str(s: &str) -> Result<ChaosSpec, String> {
        let mut spec = ChaosSpec::default();
        let s = s.trim();
        if s.is_empty() || s == "off" {
            return Ok(spec);
        }
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                format!(
                    "`{part}` is not a fault; write kind=value, e.g. 503=5% or delay=20ms..200ms"
                )
            })?;
            let (key, value) = (key.trim(), value.trim());
            match key {
                "503" => spec.unavailable = percent(key, value)?,
                "429" => spec.rate_limited = percent(key, value)?,
                "reset" => spec.reset = percent(key, value)?,
                "after-commit-reset" => spec.after_commit_reset = percent(key, value)?,
                "delay" => {
                    let (lo, hi) = match value.split_once("..") {
                        Some((lo, hi)) => (millis(lo)?, millis(hi)?),
                        None => (millis(value)?, millis(value)?),
                    };
                    if lo > hi {
                        return Err(format!("delay={value}: the range is backwards"));
                    }
                    spec.delay = Some((lo, hi));
                }
                other => {
                    return Err(format!(
                        "`{other}` is not a fault; use 503, 429, reset, after-commit-reset or delay"
                    ))
                }
            }
        }
        if spec.unavailable + spec.rate_limited + spec.reset > 1.0 {
            return Err("503, 429 and reset together exceed 100%".into());
        }
        Ok(spec)
    }
}

impl fmt::Display for ChaosSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_off() {
            return f.write_str("off");
        }
        let mut parts = Vec::new();
        for (key, p) in [
            ("503", self.unavailable),
            ("429", self.rate_limited),
            ("reset", self.reset),
            ("after-commit-reset", self.after_commit_reset),
        ] {
            if p > 0.0 {
                parts.push(format!("{key}={}%", (p * 1e4).round() / 1e2));
            }
        }
        if let Some((lo, hi)) = self.delay {
            parts.push(format!("delay={}ms..{}ms", lo.as_millis(), hi.as_millis()));
        }
        f.write_str(&parts.join(","))
    }
}

/// The faults in force (changed at runtime by the admin endpoint).
#[derive(Debug, Default)]
pub struct ChaosSwitch {
    /// Whether any fault is in force: what every request reads. Reading the lock instead
    /// would write its reader count, a cache line every HTTP worker would then pass around.
    on: AtomicBool,
    spec: RwLock<ChaosSpec>,
}

impl ChaosSwitch {
    pub fn new(spec: ChaosSpec) -> ChaosSwitch {
        ChaosSwitch {
            on: AtomicBool::new(!spec.is_off()),
            spec: RwLock::new(spec),
        }
    }

    pub fn get(&self) -> ChaosSpec {
        if !self.on.load(Ordering::Acquire) {
            return ChaosSpec::default();
        }
        *self.spec.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, spec: ChaosSpec) {
        let mut current = self.spec.write().unwrap_or_else(|e| e.into_inner());
        *current = spec;
        self.on.store(!spec.is_off(), Ordering::Release);
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FaultLabels {
    pub fault: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_gives_what_was_set_last() {
        let on: ChaosSpec = "503=10%".parse().unwrap();
        let switch = ChaosSwitch::new(on);
        assert_eq!(switch.get(), on);
        switch.set(ChaosSpec::default());
        assert!(switch.get().is_off());
        let other: ChaosSpec = "delay=5ms..10ms".parse().unwrap();
        switch.set(other);
        assert_eq!(switch.get(), other);
        assert!(ChaosSwitch::default().get().is_off());
    }

    #[test]
    fn specs_parse_and_print() {
        let spec: ChaosSpec = "503=10%, 429=5%,reset=2%,after-commit-reset=2%,delay=20ms..200ms"
            .parse()
            .unwrap();
        assert_eq!(spec.unavailable, 0.10);
        assert_eq!(spec.rate_limited, 0.05);
        assert_eq!(
            spec.delay,
            Some((Duration::from_millis(20), Duration::from_millis(200)))
        );
        assert_eq!(
            spec.to_string(),
            "503=10%,429=5%,reset=2%,after-commit-reset=2%,delay=20ms..200ms"
        );
        assert_eq!(spec.to_string().parse::<ChaosSpec>().unwrap(), spec);
        assert!("off".parse::<ChaosSpec>().unwrap().is_off());
        assert_eq!(
            "delay=1s".parse::<ChaosSpec>().unwrap().delay.unwrap().0,
            Duration::from_secs(1)
        );
        for bad in [
            "503=5",
            "503=x%",
            "503=120%",
            "teapot=5%",
            "delay=9ms..1ms",
            "503",
            "503=60%,429=50%",
        ] {
            assert!(bad.parse::<ChaosSpec>().is_err(), "{bad}");
        }
    }
}
