//! The error type plugin callbacks return. The boundary logs it through the host and maps it to the
//! callback's return code, so a plugin never deals with `FLB_ERROR` or `-1` itself.

use core::fmt;

/// An error a plugin callback reports: one line, logged by the SDK with the plugin's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Error { message: message.into() }
    }

    /// A configuration error naming the key, the value and what is allowed, the one log line a user
    /// needs to fix the config.
    pub fn config(key: &str, value: &str, allowed: &str) -> Self {
        Error { message: format!("invalid value for '{key}': '{value}' ({allowed})") }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<crate::events::EncodeError> for Error {
    fn from(e: crate::events::EncodeError) -> Self {
        Error::new(format!("encoding records: {e}"))
    }
}

impl From<crate::events::DecodeError> for Error {
    fn from(e: crate::events::DecodeError) -> Self {
        Error::new(format!("decoding records: {e}"))
    }
}

impl From<crate::events::AllocError> for Error {
    fn from(e: crate::events::AllocError) -> Self {
        Error::new(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(e.to_string())
    }
}

/// The result of a plugin callback.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why a flush did not succeed, which decides what Fluent Bit does with the chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlushError {
    /// A passing problem (e.g. stdout full): `FLB_RETRY`, the engine retries the chunk later.
    Retry(Error),
    /// The chunk cannot be delivered (e.g. malformed): `FLB_ERROR`, the engine drops it.
    Drop(Error),
}

impl From<Error> for FlushError {
    fn from(e: Error) -> Self {
        FlushError::Drop(e)
    }
}

impl From<crate::events::DecodeError> for FlushError {
    fn from(e: crate::events::DecodeError) -> Self {
        FlushError::Drop(e.into())
    }
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlushError::Retry(e) => write!(f, "{e} (will retry)"),
            FlushError::Drop(e) => write!(f, "{e} (chunk dropped)"),
        }
    }
}
