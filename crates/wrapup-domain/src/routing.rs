//! The rules of queues and after-call work (docs/api.md#queues-and-agents), written once
//! for both dialects: which codes a wrap-up of a queue's interaction may use, when the agent
//! may skip the wrap-up, and the checks of a queue's settings and of an agent.

use uuid::Uuid;
use wrapup_types::{AcwPrompt, AcwSettings, ErrorCode, ErrorDetail, WrapupPrompt};

/// The longest timeout of a time-boxed prompt: a day.
pub const MAX_TIMEOUT_MS: u32 = 86_400_000;
/// The shortest timeout of a time-boxed prompt: a second.
pub const MIN_TIMEOUT_MS: u32 = 1_000;

/// What a wrap-up check needs to know of an interaction's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCodes {
    pub queue_id: Uuid,
    pub queue_name: String,
    /// The queue's codes that can be applied (not archived), with their names.
    pub codes: Vec<(Uuid, String)>,
}

/// The problem of a wrap-up with `code_id` (named `code_name`) on an interaction of `queue`,
/// when the code is not one of the queue's (step 6 of docs/api.md#order-of-checks, after
/// the division's checks): the message names the queue and its codes.
pub fn check_queue_code(code_id: Uuid, code_name: &str, queue: &QueueCodes) -> Option<ErrorDetail> {
    if queue.codes.iter().any(|(id, _)| *id == code_id) {
        return None;
    }
    let listed = if queue.codes.is_empty() {
        "it has no codes".to_string()
    } else {
        let names: Vec<String> = queue
            .codes
            .iter()
            .map(|(id, name)| format!("{name} ({id})"))
            .collect();
        format!("its codes are {}", names.join(", "))
    };
    Some(
        ErrorDetail::new(
            ErrorCode::WrapupCodeNotInQueue,
            format!(
                "Wrap-up code {code_id} ({code_name}) is not a code of queue \"{}\" ({}), which the interaction came through; {listed}.",
                queue.queue_name, queue.queue_id
            ),
        )
        .field("codeId")
        .hint(format!(
            "Use one of the queue's codes (GET /api/v2/routing/queues/{}/wrapupcodes), or add this one to the queue (POST /api/v2/routing/queues/{}/wrapupcodes).",
            queue.queue_id, queue.queue_id
        )),
    )
}

/// The problem of skipping the wrap-up of an interaction whose prompt is `prompt`, and
/// which has a final wrap-up already if `wrapped_up`; `None` when the skip is allowed.
pub fn check_skip(prompt: WrapupPrompt, wrapped_up: bool) -> Option<ErrorDetail> {
    if !matches!(
        prompt,
        WrapupPrompt::Optional | WrapupPrompt::AgentRequested
    ) {
        return Some(
            ErrorDetail::new(
                ErrorCode::WrapupSkipNotAllowed,
                format!("The interaction's wrap-up prompt is {prompt}: the agent must wrap up, and cannot skip it."),
            )
            .field("wrapupSkipped")
            .hint("Apply a wrap-up with one of the participant's codes (GET …/participants/{participantId}/wrapupcodes); only an optional or agentRequested prompt can be skipped."),
        );
    }
    if wrapped_up {
        return Some(
            ErrorDetail::new(
                ErrorCode::WrapupSkipNotAllowed,
                "The interaction already has a wrap-up; there is nothing left to skip.",
            )
            .field("wrapupSkipped")
            .hint("Read the wrap-up in place with GET …/participants/{participantId}/wrapup."),
        );
    }
    None
}

/// Checks a queue's after-call-work settings: a time-boxed prompt needs `timeoutMs` (1 000
/// to 86 400 000), the others take none.
pub fn check_acw_settings(settings: &AcwSettings) -> Result<(), ErrorDetail> {
    let timed = settings.wrapup_prompt.prompt().is_timed();
    let invalid = |message: String, hint: &str| {
        Err(ErrorDetail::new(ErrorCode::RequestFieldInvalid, message)
            .field("acwSettings.timeoutMs")
            .hint(hint))
    };
    match (timed, settings.timeout_ms) {
        (true, None) => invalid(
            format!(
                "acwSettings.timeoutMs is required with wrapupPrompt {}.",
                prompt_word(settings.wrapup_prompt)
            ),
            "Send the timeout in milliseconds, e.g. \"timeoutMs\": 30000.",
        ),
        (true, Some(ms)) if !(MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&ms) => invalid(
            format!("acwSettings.timeoutMs must be from 1000 to 86400000 milliseconds; got {ms}."),
            "Send the timeout in milliseconds, e.g. \"timeoutMs\": 30000.",
        ),
        (false, Some(_)) => invalid(
            format!(
                "acwSettings.timeoutMs applies only to MANDATORY_TIMEOUT and MANDATORY_FORCED_TIMEOUT, not {}.",
                prompt_word(settings.wrapup_prompt)
            ),
            "Leave timeoutMs out, or choose a time-boxed wrapupPrompt.",
        ),
        _ => Ok(()),
    }
}

fn prompt_word(p: AcwPrompt) -> &'static str {
    match p {
        AcwPrompt::Mandatory => "MANDATORY",
        AcwPrompt::Optional => "OPTIONAL",
        AcwPrompt::MandatoryTimeout => "MANDATORY_TIMEOUT",
        AcwPrompt::MandatoryForcedTimeout => "MANDATORY_FORCED_TIMEOUT",
        AcwPrompt::AgentRequested => "AGENT_REQUESTED",
    }
}

/// Checks an agent's email: something before and after an `@`, at most 254 characters.
pub fn check_email(email: &str) -> Result<(), ErrorDetail> {
    let ok = email.chars().count() <= 254
        && !email.chars().any(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if ok {
        return Ok(());
    }
    Err(ErrorDetail::new(
        ErrorCode::RequestFieldInvalid,
        format!("email must be an address such as ada@example.com; got \"{email}\"."),
    )
    .field("email")
    .hint("Send the agent's email address, at most 254 characters."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_outside_the_queue_is_refused_naming_the_queue_and_its_codes() {
        let sale = Uuid::from_u128(1);
        let queue = QueueCodes {
            queue_id: Uuid::from_u128(9),
            queue_name: "Sales timeout".into(),
            codes: vec![(sale, "Sale".into())],
        };
        assert_eq!(check_queue_code(sale, "Sale", &queue), None);
        let p = check_queue_code(Uuid::from_u128(2), "No sale", &queue).unwrap();
        assert_eq!(p.error_code, ErrorCode::WrapupCodeNotInQueue);
        assert!(
            p.message.contains("\"Sales timeout\"") && p.message.contains("Sale (0000"),
            "{}",
            p.message
        );
    }

    #[test]
    fn only_optional_prompts_skip() {
        assert!(check_skip(WrapupPrompt::Optional, false).is_none());
        assert!(check_skip(WrapupPrompt::AgentRequested, false).is_none());
        assert!(check_skip(WrapupPrompt::Optional, true).is_some());
        for p in [
            WrapupPrompt::Mandatory,
            WrapupPrompt::Timeout,
            WrapupPrompt::ForcedTimeout,
        ] {
            assert_eq!(
                check_skip(p, false).unwrap().error_code,
                ErrorCode::WrapupSkipNotAllowed
            );
        }
    }

    #[test]
    fn timeouts_go_with_time_boxed_prompts() {
        let s = |wrapup_prompt, timeout_ms| AcwSettings {
            wrapup_prompt,
            timeout_ms,
        };
        assert!(check_acw_settings(&s(AcwPrompt::MandatoryTimeout, Some(30_000))).is_ok());
        assert!(check_acw_settings(&s(AcwPrompt::MandatoryTimeout, None)).is_err());
        assert!(check_acw_settings(&s(AcwPrompt::MandatoryForcedTimeout, Some(10))).is_err());
        assert!(check_acw_settings(&s(AcwPrompt::Optional, Some(30_000))).is_err());
        assert!(check_acw_settings(&s(AcwPrompt::Mandatory, None)).is_ok());
        assert!(check_email("ada@example.com").is_ok() && check_email("ada").is_err());
    }
}
