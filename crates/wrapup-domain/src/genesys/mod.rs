//! The Genesys Cloud dialect's rules (docs/genesys.md): the stable ids of an interaction's
//! participants and communications, the mapping of its lifecycle onto Genesys states, and
//! the checks of a `WrapupInput`. The wrap-up itself then goes through the same rules as
//! wrapup's own `PUT …/wrap-up` (`NewWrapUp`, `lifecycle`, `check_code`).

pub mod conversation;
pub mod ids;
pub mod notifications;
pub mod wrapup_input;

pub use conversation::{
    acw_end, assigned_wrapup, communication_state, conversation, media_conversation,
    participant_wrapup,
};
pub use ids::{ConversationIds, Role};
