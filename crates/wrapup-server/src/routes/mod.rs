pub mod clients;
pub mod codes;
pub mod divisions;
pub mod interactions;
pub mod ops;
