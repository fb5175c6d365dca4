#!/usr/bin/env bash
# Runs only the editor's tests and lists the screenshots they leave in target/editor-artifacts/.
# `cargo test --workspace` (and so `cargo xtask test`) runs the same tests; this is a shortcut.
#
# The X11 tests (editor_dragout, editor_window) start their own private Xvfb; they need the
# Debian packages xvfb, libgl1, libglx-mesa0 and libgl1-mesa-dri. Set CADENZA_SKIP_X11_TESTS=1
# to let them pass without Xvfb (the headless tests still run).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test -p cadenza --lib editor
cargo test -p cadenza-tests \
    --test editor_views --test editor_temperature --test editor_frames \
    --test editor_dragout --test editor_window -- --nocapture
echo
cat target/editor-artifacts/frame-times.txt
ls -l target/editor-artifacts/*.png
