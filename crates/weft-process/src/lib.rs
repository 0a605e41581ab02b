//! BPMN 2.0 processes, pure: definitions parsed from XML and validated, and the engine's
//! state machine (no I/O; the façade persists what it decides).
#![forbid(unsafe_code)]
