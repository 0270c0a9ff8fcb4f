//! The offset database.
