//! Wire types of the wrapup HTTP API (`docs/api.md`): the resources, request bodies and
//! the error envelope, serialised exactly as the API writes them. The server and the client
//! both use these types, so they cannot drift apart.

pub mod bulk;
pub mod diagnosis;
pub mod duration;
pub mod error;
pub mod genesys;
pub mod listing;
pub mod model;
pub mod overview;
pub mod routing;
pub mod scope;
pub mod timestamp;
pub mod webhooks;
pub mod whole_number;

pub use bulk::{BulkOutcome, BulkWrapUp, BulkWrapUpResponse, BulkWrapUpResult};
pub use diagnosis::{RequestDiagnosis, SuggestedBody, WrapUpValidation};
pub use error::{ErrorBody, ErrorCode, ErrorDetail, OAuthErrorBody};
pub use listing::*;
pub use model::*;
pub use overview::{ActivityMinute, DivisionCounts, InteractionCounts, WrapUpActivity};
pub use routing::*;
pub use scope::{Scope, ScopeSet};
pub use webhooks::*;
