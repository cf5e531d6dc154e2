//! Mustache templates (being written).
