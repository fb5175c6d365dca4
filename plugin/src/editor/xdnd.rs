//! The XDND (X drag-and-drop, version 5) *source* protocol as a pure state machine: the X11
//! driver ([`super::x11_drag`]) feeds it what it sees (the pointer moved over a window that is or
//! is not XDND-aware, the target's `XdndStatus`, the button went up, `XdndFinished`, a timeout)
//! and sends the client messages it returns. Kept free of X so the rules are unit-tested.
//!
//! Rules followed (freedesktop.org XDND spec): `XdndEnter` before the first `XdndPosition` to a
//! window, at most one `XdndPosition` in flight (wait for `XdndStatus`, remember the newest
//! position meanwhile), `XdndLeave` when leaving a window or when the button goes up over a
//! window that did not accept, `XdndDrop` only after an accepting status, then wait for
//! `XdndFinished` (or time out: some targets never send it).

/// Our protocol version (the newest).
pub const XDND_VERSION: u8 = 5;

pub type Window = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The pointer is at (`x`, `y`) in root coordinates, over `target` (an XDND-aware window and
    /// its protocol version), or over nothing that takes drops.
    Moved { target: Option<(Window, u8)>, x: i16, y: i16, time: u32 },
    /// The target's `XdndStatus`.
    Status { window: Window, accept: bool },
    /// The mouse button went up.
    Released { time: u32 },
    /// The target's `XdndFinished`.
    Finished { window: Window },
    /// Nothing happened for too long in the current state.
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Enter { window: Window, version: u8 },
    Position { window: Window, x: i16, y: i16, time: u32 },
    Leave { window: Window },
    Drop { window: Window, time: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Dropped on `window`, which said it finished (or never answered after the drop).
    Dropped { window: Window, confirmed: bool },
    /// Released over nothing that accepts the file.
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    window: Window,
    version: u8,
    accepted: bool,
    /// An `XdndPosition` is in flight (no status yet).
    awaiting_status: bool,
    /// The newest position not yet sent because one was in flight.
    pending: Option<(i16, i16, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Dragging { target: Option<Target>, released_at: Option<u32> },
    AwaitingFinished { window: Window },
    Done(Outcome),
}

/// The source side of one drag.
#[derive(Debug, Clone)]
pub struct Source {
    state: State,
}

impl Default for Source {
    fn default() -> Self {
        Self::new()
    }
}

impl Source {
    pub fn new() -> Self {
        Self { state: State::Dragging { target: None, released_at: None } }
    }

    pub fn outcome(&self) -> Option<Outcome> {
        match self.state {
            State::Done(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// The window the drag is over (or dropped on), if any.
    pub fn target(&self) -> Option<Window> {
        match self.state {
            State::Dragging { target, .. } => target.map(|t| t.window),
            State::AwaitingFinished { window } => Some(window),
            State::Done(_) => None,
        }
    }

    /// Whether the source waits for the target (a status for a position in flight, or the
    /// finish after the drop): the driver times out only then.
    /// True once the drop was sent and the target's XdndFinished is due.
    pub fn awaiting_finished(&self) -> bool {
        matches!(self.state, State::AwaitingFinished { .. })
    }

    pub fn awaiting_answer(&self) -> bool {
        match self.state {
            State::Dragging { target: Some(t), .. } => t.awaiting_status,
            State::AwaitingFinished { .. } => true,
            _ => false,
        }
    }

    /// Feeds one input; returns the messages to send, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        self.state = match (self.state, input) {
            (State::Done(outcome), _) => State::Done(outcome),
            (State::Dragging { target, released_at }, Input::Moved { target: over, x, y, time }) => {
                if released_at.is_some() {
                    // After the release only the pending status matters.
                    State::Dragging { target, released_at }
                } else {
                    let target = match (target, over) {
                        (Some(mut current), Some((window, _))) if current.window == window => {
                            if current.awaiting_status {
                                current.pending = Some((x, y, time));
                            } else {
                                out.push(Output::Position { window, x, y, time });
                                current.awaiting_status = true;
                            }
                            Some(current)
                        }
                        (current, over) => {
                            if let Some(old) = current {
                                out.push(Output::Leave { window: old.window });
                            }
                            over.map(|(window, their_version)| {
                                let version = their_version.min(XDND_VERSION);
                                out.push(Output::Enter { window, version });
                                out.push(Output::Position { window, x, y, time });
                                Target { window, version, accepted: false, awaiting_status: true, pending: None }
                            })
                        }
                    };
                    State::Dragging { target, released_at: None }
                }
            }
            (State::Dragging { target: Some(mut t), released_at }, Input::Status { window, accept })
                if t.window == window =>
            {
                t.accepted = accept;
                t.awaiting_status = false;
                match released_at {
                    Some(time) => Self::finish_release(t, time, &mut out),
                    None => {
                        if let Some((x, y, time)) = t.pending.take() {
                            out.push(Output::Position { window, x, y, time });
                            t.awaiting_status = true;
                        }
                        State::Dragging { target: Some(t), released_at: None }
                    }
                }
            }
            (State::Dragging { target, .. }, Input::Released { time }) => match target {
                None => State::Done(Outcome::Cancelled),
                // Wait for the answer to the position in flight before deciding.
                Some(t) if t.awaiting_status => State::Dragging { target: Some(t), released_at: Some(time) },
                Some(t) => Self::finish_release(t, time, &mut out),
            },
            (State::Dragging { target, .. }, Input::Timeout) => {
                if let Some(t) = target {
                    out.push(Output::Leave { window: t.window });
                }
                State::Done(Outcome::Cancelled)
            }
            (State::AwaitingFinished { window }, Input::Finished { window: from }) if from == window => {
                State::Done(Outcome::Dropped { window, confirmed: true })
            }
            (State::AwaitingFinished { window }, Input::Timeout) => {
                State::Done(Outcome::Dropped { window, confirmed: false })
            }
            (state, _) => state,
        };
        out
    }

    fn finish_release(t: Target, time: u32, out: &mut Vec<Output>) -> State {
        if t.accepted {
            out.push(Output::Drop { window: t.window, time });
            State::AwaitingFinished { window: t.window }
        } else {
            out.push(Output::Leave { window: t.window });
            State::Done(Outcome::Cancelled)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(target: Option<(Window, u8)>, x: i16) -> Input {
        Input::Moved { target, x, y: 10, time: x as u32 }
    }

    #[test]
    fn full_drop() {
        let mut s = Source::new();
        assert!(s.handle(moved(None, 1)).is_empty());
        assert_eq!(
            s.handle(moved(Some((7, 5)), 2)),
            vec![Output::Enter { window: 7, version: 5 }, Output::Position { window: 7, x: 2, y: 10, time: 2 }]
        );
        // One position in flight: the next ones wait and collapse to the newest.
        assert!(s.handle(moved(Some((7, 5)), 3)).is_empty());
        assert!(s.handle(moved(Some((7, 5)), 4)).is_empty());
        assert_eq!(
            s.handle(Input::Status { window: 7, accept: true }),
            vec![Output::Position { window: 7, x: 4, y: 10, time: 4 }]
        );
        assert!(s.handle(Input::Status { window: 7, accept: true }).is_empty());
        assert_eq!(s.handle(Input::Released { time: 9 }), vec![Output::Drop { window: 7, time: 9 }]);
        assert_eq!(s.outcome(), None);
        assert!(s.handle(Input::Finished { window: 8 }).is_empty(), "only the target finishes");
        s.handle(Input::Finished { window: 7 });
        assert_eq!(s.outcome(), Some(Outcome::Dropped { window: 7, confirmed: true }));
    }

    #[test]
    fn switching_targets_leaves_the_old_one() {
        let mut s = Source::new();
        s.handle(moved(Some((7, 3)), 1));
        assert_eq!(
            s.handle(moved(Some((8, 5)), 2)),
            vec![
                Output::Leave { window: 7 },
                Output::Enter { window: 8, version: 5 },
                Output::Position { window: 8, x: 2, y: 10, time: 2 }
            ]
        );
        assert_eq!(s.handle(moved(None, 3)), vec![Output::Leave { window: 8 }]);
        assert_eq!(s.handle(Input::Released { time: 4 }), vec![]);
        assert_eq!(s.outcome(), Some(Outcome::Cancelled));
    }

    #[test]
    fn version_is_the_lower_one_and_stale_status_ignored() {
        let mut s = Source::new();
        assert_eq!(s.handle(moved(Some((7, 9)), 1))[0], Output::Enter { window: 7, version: 5 });
        assert!(s.handle(Input::Status { window: 99, accept: true }).is_empty());
        assert_eq!(s.target(), Some(7));
    }

    #[test]
    fn release_while_waiting_for_status_decides_on_the_status() {
        let mut s = Source::new();
        s.handle(moved(Some((7, 5)), 1));
        assert!(s.handle(Input::Released { time: 5 }).is_empty());
        assert_eq!(s.handle(Input::Status { window: 7, accept: false }), vec![Output::Leave { window: 7 }]);
        assert_eq!(s.outcome(), Some(Outcome::Cancelled));

        let mut s = Source::new();
        s.handle(moved(Some((7, 5)), 1));
        s.handle(Input::Released { time: 5 });
        assert_eq!(s.handle(Input::Status { window: 7, accept: true }), vec![Output::Drop { window: 7, time: 5 }]);
        s.handle(Input::Timeout);
        assert_eq!(s.outcome(), Some(Outcome::Dropped { window: 7, confirmed: false }));
    }

    #[test]
    fn refused_drop_and_timeout() {
        let mut s = Source::new();
        s.handle(moved(Some((7, 5)), 1));
        s.handle(Input::Status { window: 7, accept: false });
        assert_eq!(s.handle(Input::Released { time: 2 }), vec![Output::Leave { window: 7 }]);
        assert_eq!(s.outcome(), Some(Outcome::Cancelled));

        let mut s = Source::new();
        s.handle(moved(Some((7, 5)), 1));
        assert_eq!(s.handle(Input::Timeout), vec![Output::Leave { window: 7 }]);
        assert_eq!(s.outcome(), Some(Outcome::Cancelled));
    }
}
