//! Genesys Cloud's wire shapes, as the official SDKs (Python `PureCloudPlatformClientV2`,
//! JavaScript `purecloud-platform-client-v2`) read and write them: the conversation view of
//! an interaction, and the wrap-up operations of the Genesys dialect (docs/genesys.md).
//!
//! Every optional field is left out when absent, never sent as `null`: the Python SDK's
//! models crash on a `null` enum value (`'NoneType' object has no attribute 'lower'`) and
//! turn any value they do not know into `"outdated_sdk_version"`.

mod conversation;
mod notifications;
mod wrapup;

pub use conversation::*;
pub use notifications::*;
pub use wrapup::*;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ErrorBody;

/// The error body of the Genesys dialect's operations (docs/genesys.md#errors): wrapup's
/// [`ErrorBody`], whose `message` also says what to do (the Python SDK shows a caller only
/// the raw body text, the JavaScript SDK only the parsed body, and neither reads
/// `details`), and Genesys's `messageWithParams` and `messageParams` with the two parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenesysErrorBody {
    #[serde(flatten)]
    pub body: ErrorBody,
    /// `message` as a template: `{diagnosis} {hint}`, or `{diagnosis}`.
    pub message_with_params: String,
    /// `diagnosis` (what is wrong) and, when there is one, `hint` (what to do).
    pub message_params: BTreeMap<String, String>,
}

impl GenesysErrorBody {
    /// The body in the Genesys dialect: `hint` is the first problem's.
    pub fn new(mut body: ErrorBody, hint: Option<String>) -> GenesysErrorBody {
        let diagnosis = std::mem::take(&mut body.message);
        let mut params = BTreeMap::new();
        let template = match hint {
            Some(hint) => {
                body.message = format!("{diagnosis} {hint}");
                params.insert("hint".to_string(), hint);
                "{diagnosis} {hint}"
            }
            None => {
                body.message = diagnosis.clone();
                "{diagnosis}"
            }
        };
        params.insert("diagnosis".to_string(), diagnosis);
        GenesysErrorBody {
            body,
            message_with_params: template.to_string(),
            message_params: params,
        }
    }
}
