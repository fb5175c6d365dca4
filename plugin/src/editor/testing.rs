//! Test support for the editor (used by `tests/tests/editor_*.rs`).
