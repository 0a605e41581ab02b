//! Business calendars and ISO 8601 timers, pure.
#![forbid(unsafe_code)]
