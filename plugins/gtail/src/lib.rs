//! `gtail`: Fluent Bit's file tail input as a proxy plugin.

pub mod db;
pub mod marker;
