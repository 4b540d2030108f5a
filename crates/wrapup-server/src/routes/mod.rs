pub mod clients;
pub mod codes;
pub mod divisions;
pub mod events;
pub mod interactions;
pub mod ops;
