//! A fixed-capacity list of outgoing note events, filled by the player for one block.

/// More than any block can need: 128 note-offs plus a dense clip played very fast.
pub const MAX_EVENTS_PER_BLOCK: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutEvent {
    /// Sample offset inside the block.
    pub timing: u32,
    /// 0-based MIDI channel.
    pub channel: u8,
    pub pitch: u8,
    /// 0 means note-off.
    pub velocity: u8,
}

pub struct EventList {
    events: Vec<OutEvent>,
    /// Events that did not fit (counted so tests and diagnostics can see it ever happening).
    pub dropped: u64,
}

impl EventList {
    pub fn new() -> Self {
        Self { events: Vec::with_capacity(MAX_EVENTS_PER_BLOCK), dropped: 0 }
    }

    pub fn push(&mut self, event: OutEvent) {
        if self.events.len() < self.events.capacity() {
            self.events.push(event);
        } else {
            self.dropped += 1;
        }
    }

    pub fn clear(&mut self) {
        self.events.clear();
    }

    pub fn as_slice(&self) -> &[OutEvent] {
        &self.events
    }

    /// Sorts by sample, note-offs before note-ons at the same sample (in place, no allocation).
    pub fn sort_by_time(&mut self) {
        self.events.sort_unstable_by_key(|e| (e.timing, e.velocity > 0, e.pitch, e.channel));
    }
}

impl Default for EventList {
    fn default() -> Self {
        Self::new()
    }
}
