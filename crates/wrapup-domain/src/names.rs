//! Names of divisions and wrap-up codes.

use wrapup_types::{ErrorCode, ErrorDetail};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// A name is 1 to 100 characters once trimmed of surrounding whitespace. Returns the
/// trimmed name.
pub fn check_name(field: &str, name: &str) -> Result<String, ErrorDetail> {
    let trimmed = name.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(ErrorDetail::new(
            ErrorCode::RequestFieldInvalid,
            format!("{field} must be 1 to {MAX_NAME_CHARS} characters; got {chars}."),
        )
        .field(field));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ErrorDetail::new(
            ErrorCode::RequestFieldInvalid,
            format!("{field} must not contain control characters."),
        )
        .field(field));
    }
    Ok(trimmed.to_string())
}

/// A description is at most 1024 characters.
pub fn check_description(description: &str) -> Result<(), ErrorDetail> {
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(ErrorDetail::new(
            ErrorCode::RequestFieldInvalid,
            format!("description must be at most {MAX_DESCRIPTION_CHARS} characters; got {chars}."),
        )
        .field("description"));
    }
    Ok(())
}

/// The key under which names are unique: names compare ignoring case.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}
