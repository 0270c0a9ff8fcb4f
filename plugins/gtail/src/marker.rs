//! The offset marker.
