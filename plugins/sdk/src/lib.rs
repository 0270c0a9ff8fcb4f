//! Write Fluent Bit proxy plugins in Rust.
#![deny(missing_docs)]

pub mod abi;
pub mod events;
