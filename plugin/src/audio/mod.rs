//! The real-time half of Cadenza. Everything here runs inside `process()`.
//!
//! Call graph of `Cadenza::process` (the audit for real-time safety):
//! - [`crate::channels::AudioEnd`]: `ArrayQueue::pop`/`push` and atomics only (wait-free, no
//!   allocation).
//! - [`player::Player::render`]: arithmetic over a preallocated event list, writes into the
//!   preallocated [`events::EventList`].
//! - [`capture::Capture`]: writes into fixed arrays; snapshots copy into a pooled `NoteBuffer`
//!   that never grows.
//! - [`jam::Jam`]: arithmetic over fixed arrays; answers arrive as boxes built off the thread
//!   and leave through the retired queue.
//! - `ProcessContext::next_event` / `try_send_event` (nice-plug, allocation-free); the block's
//!   host events are copied into a preallocated list.
//!
//! No locks, no logging, no allocation, no ONNX Runtime. `tests/tests/realtime.rs` proves the
//! "no allocation" part by counting allocations while every path runs.

pub mod capture;
pub mod events;
pub mod jam;
pub mod player;
pub mod preview;
pub mod transport;
