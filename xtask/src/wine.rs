//! `cargo xtask test-windows`: the Windows build, tested under Wine 8 on this Linux machine.
//!
//! 1. Builds the Windows bundles, `cadenza-cli.exe` and the Wine test host
//!    (`tests/windows/host`) with [`crate::windows`], the Linux CLI, and a stand-in
//!    `bcryptprimitives.dll` (`tests/windows/bcryptprimitives.c`; Wine 8 lacks the DLL every Rust
//!    binary imports `ProcessPrng` from).
//! 2. One Wine prefix, `target/wine/prefix`, made once. Its graphics driver is switched per phase
//!    (the driver is fixed for a wineserver session, so the server is restarted in between):
//!    - **null driver** (headless): the Windows builds of clap-validator (`validate`) and the VST3
//!      validator (`-e`) on both bundles; the CLAP and VST3 host runs (activate, transport,
//!      Continue from input notes, Generate drums, note events out, state saved and restored,
//!      the bundle's own `onnxruntime.dll` loaded); the drag-out data object; the CLI: every
//!      tool's output byte-identical to the Linux CLI's for the same seed, and a missing Visual
//!      C++ runtime (`WINEDLLOVERRIDES=vcruntime140_1=d`) reported in plain words;
//!    - **X11 driver, no display**: the VST3 validator and a bare `createInstance` must get a
//!      reported failure, never an abort (the nice-plug patch in vendor/README.md, change 4);
//!      clap-validator still passes;
//!    - **X11 driver on a private Xvfb**: the editor opens in a host window and is
//!      screenshotted (`target/wine/editor-wine.png`), and a real OLE drag of a written clip onto
//!      a drop target window carries the file (`SendInput` moves the mouse).
//! 3. A summary table, `target/wine/report.json`, and failure if any required step failed.
//!
//! Needs `wine`, `wine64`, `gcc-mingw-w64-x86-64` and `xvfb` (`.ci/run` installs them) and the
//! Windows validators in `$CADENZA_VALIDATORS/windows` or `../shared/tools/validators/windows`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::windows::{self, WindowsBuild};
use crate::{ort, xcapture};

const WINE_DIR: &str = "target/wine";
const APT_LINE: &str = "apt-get install -y --no-install-recommends wine wine64 gcc-mingw-w64-x86-64 xvfb";

/// One checked thing.
struct Step {
    name: String,
    ok: bool,
    /// A failure of an informational step is reported, not fatal.
    required: bool,
    detail: String,
    seconds: f64,
}

/// Wine's graphics driver for a phase.
#[derive(Clone, Copy, PartialEq)]
enum Driver {
    Null,
    X11,
}

struct Wine {
    prefix: PathBuf,
    /// The driver and display of the running phase.
    phase: Option<(Driver, Option<String>)>,
    display: Option<String>,
}

/// What a finished (or killed) process said.
struct Output {
    status: Option<i32>,
    text: String,
    timed_out: bool,
}

impl Output {
    fn line_after(&self, prefix: &str) -> Option<&str> {
        self.text.lines().find_map(|l| l.trim_end_matches('\r').strip_prefix(prefix))
    }
}

/// `Z:\abs\path` for Wine (its default drive Z: is the Unix root).
pub fn windows_path(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("Z:{}", abs.display()).replace('/', "\\")
}

/// Runs `command` with a time limit, stdout and stderr merged.
fn run_limited(mut command: Command, limit: Duration) -> Result<Output> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().with_context(|| format!("could not start {command:?}"))?;
    let readers = [read_all(child.stdout.take()), read_all(child.stderr.take())];
    let started = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            timed_out = true;
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = readers.into_iter().map(|r| r.join().unwrap_or_default()).collect::<Vec<_>>().join("\n");
    Ok(Output { status, text, timed_out })
}

fn read_all(stream: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stream {
            let mut bytes = Vec::new();
            let _ = s.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

impl Wine {
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("WINEPREFIX", &self.prefix).env("WINEDEBUG", "-all").env_remove("WINEDLLOVERRIDES");
        match &self.display {
            Some(display) => c.env("DISPLAY", display),
            None => c.env_remove("DISPLAY"),
        };
        c
    }

    fn wine(&self, args: &[&str]) -> Command {
        let mut c = self.command("wine");
        c.args(args);
        c
    }

    fn server_down(&self) {
        let _ = self.command("wineserver").arg("-k").output();
        let _ = self.command("wineserver").arg("-w").output();
    }

    /// Switches the graphics driver and display (restarting the wineserver so they take effect).
    fn set_driver(&mut self, driver: Driver, display: Option<&str>) -> Result<()> {
        let phase = (driver, display.map(str::to_string));
        if self.phase.as_ref() == Some(&phase) {
            return Ok(());
        }
        self.server_down();
        self.display = None;
        let key = r"HKCU\Software\Wine\Drivers";
        let status = match driver {
            Driver::Null => self.wine(&["reg", "add", key, "/v", "Graphics", "/d", "null", "/f"]).output()?.status,
            Driver::X11 => {
                // Deleting a value that is not there fails harmlessly.
                let _ = self.wine(&["reg", "delete", key, "/v", "Graphics", "/f"]).output()?;
                std::process::ExitStatus::default()
            }
        };
        if !status.success() {
            bail!("could not set the Wine graphics driver");
        }
        self.server_down();
        self.display = phase.1.clone();
        self.phase = Some(phase);
        Ok(())
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        self.server_down();
    }
}

/// Finds what is missing on this machine, naming the apt line.
fn check_tools() -> Result<()> {
    let missing: Vec<&str> = ["wine", "wineserver", "wineboot", crate::cross::WINDOWS_LINKER, "Xvfb"]
        .into_iter()
        .filter(|tool| {
            Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {tool}"))
                .output()
                .map(|o| !o.status.success())
                .unwrap_or(true)
        })
        .collect();
    if !missing.is_empty() {
        bail!("the Windows tests need {} (not found); install them with `{APT_LINE}`", missing.join(", "));
    }
    Ok(())
}

/// The Windows validators, or `None` when they are missing and CADENZA_SKIP_VALIDATORS is set.
fn windows_validators() -> Result<Option<(PathBuf, PathBuf)>> {
    let dir = match std::env::var_os(crate::validate::VALIDATORS_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("windows"),
        None => PathBuf::from("../shared/tools/validators/windows"),
    };
    let clap = dir.join("clap-validator.exe");
    let vst3 = dir.join("vst3-validator.exe");
    if clap.is_file() && vst3.is_file() {
        return Ok(Some((clap.canonicalize()?, vst3.canonicalize()?)));
    }
    let message = format!(
        "the Windows validators are missing: {} and {} (see ../shared/tools/validators/windows/README.md; \
         ${} names the folder that holds `windows/`)",
        clap.display(),
        vst3.display(),
        crate::validate::VALIDATORS_ENV
    );
    if std::env::var_os(crate::validate::SKIP_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
        eprintln!("\n!!!! SKIPPING THE WINDOWS VALIDATORS ({} is set): {message}\n", crate::validate::SKIP_ENV);
        return Ok(None);
    }
    bail!("{message}")
}

/// `target/wine/bcryptprimitives.dll`, built from `tests/windows/bcryptprimitives.c`.
fn build_standin() -> Result<PathBuf> {
    let dll = Path::new(WINE_DIR).join("bcryptprimitives.dll");
    std::fs::create_dir_all(WINE_DIR)?;
    let status = Command::new(crate::cross::WINDOWS_LINKER)
        .args(["-O2", "-shared", "-o"])
        .arg(&dll)
        .arg("tests/windows/bcryptprimitives.c")
        .args(["-ladvapi32", "-s"])
        .status()?;
    if !status.success() {
        bail!("could not build the bcryptprimitives.dll stand-in");
    }
    Ok(dll.canonicalize()?)
}

/// The prefix, made once (`wineboot --init`, ~15 s) with the stand-in in its `system32`.
fn prefix(standin: &Path) -> Result<Wine> {
    let prefix = std::env::current_dir()?.join(WINE_DIR).join("prefix");
    let ready = prefix.join(".cadenza-ready");
    let wine = Wine { prefix: prefix.clone(), phase: None, display: None };
    wine.server_down();
    if !ready.is_file() {
        if prefix.exists() {
            std::fs::remove_dir_all(&prefix)?;
        }
        std::fs::create_dir_all(&prefix)?;
        eprintln!("Creating the Wine prefix {} ...", prefix.display());
        let mut init = wine.command("wineboot");
        init.arg("--init");
        let out = run_limited(init, Duration::from_secs(300))?;
        wine.server_down();
        if !prefix.join("drive_c/windows/system32").is_dir() {
            bail!("wineboot --init made no prefix:\n{}", out.text);
        }
    }
    std::fs::copy(standin, prefix.join("drive_c/windows/system32/bcryptprimitives.dll"))?;
    std::fs::write(&ready, "made by cargo xtask test-windows\n")?;
    Ok(wine)
}

fn step(name: &str, required: bool, f: impl FnOnce() -> Result<String>) -> Step {
    let started = Instant::now();
    eprintln!("== {name}");
    let (ok, detail) = match f() {
        Ok(detail) => (true, detail),
        Err(e) => (false, format!("{e:#}")),
    };
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "   {} ({seconds:.1} s): {}",
        if ok {
            "ok"
        } else if required {
            "FAILED"
        } else {
            "not carried"
        },
        first_lines(&detail, 6)
    );
    Step { name: name.into(), ok, required, detail, seconds }
}

fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= n {
        text.to_string()
    } else {
        format!("{}\n   … ({} more lines)", lines[..n].join("\n"), lines.len() - n)
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// clap-validator's `N tests run, N passed, N failed, N warnings, N skipped`.
fn clap_summary(text: &str) -> Option<(u32, u32, u32)> {
    let line = text.lines().map(|l| l.trim_end_matches('\r')).rev().find(|l| l.contains(" tests run, "))?;
    let numbers: Vec<u32> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    (numbers.len() == 5).then(|| (numbers[1], numbers[2], numbers[3]))
}

/// The VST3 validator's `Result: N tests passed, N tests failed`.
fn vst3_summary(text: &str) -> Option<(u32, u32)> {
    let line = text.lines().map(|l| l.trim_end_matches('\r')).rev().find(|l| l.starts_with("Result: "))?;
    let numbers: Vec<u32> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    (numbers.len() == 2).then(|| (numbers[0], numbers[1]))
}

fn clap_validate(wine: &Wine, validator: &Path, clap: &Path) -> Result<String> {
    let out =
        run_limited(wine.wine(&[&windows_path(validator), "validate", &windows_path(clap)]), Duration::from_secs(300))?;
    let Some((passed, failed, warnings)) = clap_summary(&out.text) else {
        bail!("no summary from clap-validator (exit {:?}):\n{}", out.status, tail(&out.text, 30));
    };
    if failed > 0 {
        bail!("{failed} failed, {passed} passed:\n{}", tail(&out.text, 60));
    }
    Ok(format!("{passed} passed, 0 failed, {warnings} warnings"))
}

fn vst3_validate(wine: &Wine, validator: &Path, vst3: &Path) -> Result<String> {
    let out = run_limited(wine.wine(&[&windows_path(validator), "-e", &windows_path(vst3)]), Duration::from_secs(300))?;
    let Some((passed, failed)) = vst3_summary(&out.text) else {
        bail!("no summary from the VST3 validator (exit {:?}):\n{}", out.status, tail(&out.text, 30));
    };
    if failed > 0 || passed == 0 {
        bail!("{passed} passed, {failed} failed:\n{}", tail(&out.text, 60));
    }
    Ok(format!("{passed} passed, 0 failed"))
}

/// Runs the test host; its `RESULT {json}` line is the detail.
fn host(wine: &Wine, exe: &Path, args: &[String], limit: Duration) -> Result<String> {
    let mut all = vec![windows_path(exe)];
    all.extend(args.iter().cloned());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = run_limited(wine.wine(&refs), limit)?;
    if let Some(json) = out.line_after("RESULT ") {
        if out.status == Some(0) {
            return Ok(format!("{}\n{json}", summarize(json)));
        }
    }
    if out.timed_out {
        bail!("timed out after {limit:?}:\n{}", tail(&out.text, 20));
    }
    match out.line_after("FAILED ") {
        Some(why) => bail!("{why}"),
        None => bail!("no result (exit {:?}):\n{}", out.status, tail(&out.text, 30)),
    }
}

/// One line from a host `RESULT` (the full JSON is in report.json).
fn summarize(json: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else { return json.to_string() };
    if let Some(format) = v["format"].as_str() {
        return format!(
            "{format}: Continue {} note-ons, Generate (drums) {} note-ons, state restored ({} bytes), runtime {}",
            v["continue"]["note_ons"],
            v["generate_drums"]["note_ons"],
            v["state_bytes"],
            v["runtime"].as_str().unwrap_or("?")
        );
    }
    if let Some(path) = v["data_object"]["cf_hdrop"].as_str() {
        return format!("CF_HDROP/TYMED_HGLOBAL names {path}");
    }
    if let Some(dropped) = v["drop"]["dropped"].as_array() {
        return format!("the drop target got {dropped:?} ({})", v["drop"]["outcome"].as_str().unwrap_or("?"));
    }
    json.to_string()
}

/// The tools, with arguments relative to the CLI folder (`in/` holds the inputs).
fn cli_cases() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("generate-melody", vec!["generate", "--mode", "melody", "-n", "2", "-b", "4", "--seed", "7"]),
        ("generate-drums", vec!["generate", "--mode", "drums", "-n", "2", "-b", "4", "--seed", "7"]),
        ("continue", vec!["continue", "--input", "in/melody/generate_01.mid", "-n", "2", "-b", "2", "--seed", "7"]),
        (
            "interpolate",
            vec![
                "interpolate",
                "--input",
                "in/melody/generate_01.mid",
                "--input",
                "in/melody/generate_02.mid",
                "--steps",
                "3",
                "--seed",
                "7",
            ],
        ),
        ("drumify", vec!["drumify", "--input", "in/melody/generate_01.mid", "-n", "2", "--seed", "7"]),
        ("groove", vec!["groove", "--input", "in/drums/generate_01.mid", "-n", "2", "--seed", "7"]),
    ]
}

/// Every tool on both CLIs with the same seed: the same files, byte for byte (MIDI and PNG).
fn cli_identity(wine: &Wine, linux_cli: &Path, windows_cli: &Path) -> Result<String> {
    let dir = std::env::current_dir()?.join(WINE_DIR).join("cli");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let linux = |args: &[&str]| -> Result<()> {
        let out = Command::new(linux_cli).args(args).args(["-q", "--png"]).current_dir(&dir).output()?;
        if !out.status.success() {
            bail!("Linux cadenza-cli {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    };
    // Inputs, made by the Linux CLI.
    linux(&["generate", "--mode", "melody", "-n", "2", "-b", "4", "--seed", "11", "--out", "in/melody"])?;
    linux(&["generate", "--mode", "drums", "-n", "1", "-b", "2", "--seed", "12", "--out", "in/drums"])?;
    let mut compared = Vec::new();
    for (name, args) in cli_cases() {
        let linux_out = format!("linux/{name}");
        let windows_out = format!("windows/{name}");
        let mut linux_args = args.clone();
        linux_args.extend(["--out", &linux_out]);
        linux(&linux_args)?;
        let exe = windows_path(windows_cli);
        let mut win_args = vec![exe.as_str()];
        win_args.extend(args.iter());
        win_args.extend(["-q", "--png", "--out", &windows_out]);
        let mut command = wine.wine(&win_args);
        command.current_dir(&dir);
        let out = run_limited(command, Duration::from_secs(180))?;
        if out.status != Some(0) {
            bail!("Windows cadenza-cli.exe {name} (exit {:?}):\n{}", out.status, tail(&out.text, 20));
        }
        let files = |sub: &str| -> Result<Vec<(String, Vec<u8>)>> {
            let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join(sub))?
                .filter_map(|e| e.ok())
                .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default()))
                .collect();
            v.sort();
            Ok(v)
        };
        let (a, b) = (files(&linux_out)?, files(&windows_out)?);
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        if names(&a) != names(&b) {
            bail!("{name}: Linux wrote {:?}, Windows {:?}", names(&a), names(&b));
        }
        if a.is_empty() {
            bail!("{name}: no files written");
        }
        for ((file, x), (_, y)) in a.iter().zip(&b) {
            if x != y {
                bail!("{name}: {file} differs (Linux {} bytes, Windows {} bytes)", x.len(), y.len());
            }
        }
        compared.push(format!("{name} ({} files)", a.len()));
    }
    Ok(format!("byte-identical: {}", compared.join(", ")))
}

/// Without the Visual C++ runtime the CLI fails with its installation exit code (4) and says so.
fn vc_runtime_missing(wine: &Wine, windows_cli: &Path) -> Result<String> {
    let out_dir = std::env::current_dir()?.join(WINE_DIR).join("cli/vc-missing");
    let exe = windows_path(windows_cli);
    let out = windows_path(&out_dir);
    let mut command = wine.wine(&[&exe, "generate", "--mode", "drums", "-n", "1", "--seed", "1", "-q", "--out", &out]);
    command.env("WINEDLLOVERRIDES", "vcruntime140_1=d;msvcp140_1=d");
    let result = run_limited(command, Duration::from_secs(120))?;
    let message = result.text.lines().find(|l| l.contains("cadenza-cli:")).unwrap_or("").trim().to_string();
    if result.status != Some(4)
        || !message.contains("Visual C++ Redistributable")
        || !message.contains("VCRUNTIME140_1.dll")
    {
        bail!(
            "expected exit 4 naming the Visual C++ Redistributable, got exit {:?}: {}",
            result.status,
            tail(&result.text, 10)
        );
    }
    Ok(message)
}

/// No display, X11 driver: the VST3 wrapper cannot make its message window. The validator must
/// finish and report it; a bare createInstance must fail cleanly.
fn no_display(wine: &Wine, validator: Option<&Path>, host_exe: &Path, vst3: &Path) -> Result<String> {
    let mut detail = Vec::new();
    if let Some(validator) = validator {
        let out =
            run_limited(wine.wine(&[&windows_path(validator), "-e", &windows_path(vst3)]), Duration::from_secs(300))?;
        let reported = out.text.contains("could not create the plugin's hidden message window");
        let finished = vst3_summary(&out.text).is_some();
        if !reported || !finished {
            bail!(
                "the VST3 validator did not finish with a reported error (exit {:?}, summary {}, error reported {reported}):\n{}",
                out.status,
                finished,
                tail(&out.text, 25)
            );
        }
        detail.push(format!(
            "VST3 validator finished (exit {:?}) with \"Could not create the plugin instance: could not create the plugin's hidden message window\"",
            out.status
        ));
    }
    let json = host(wine, host_exe, &["vst3-create".into(), windows_path(vst3)], Duration::from_secs(60))?;
    let json = json.lines().last().unwrap_or_default().to_string();
    if !json.contains("\"created\":false") {
        bail!("createInstance succeeded without a display? {json}");
    }
    detail.push(format!("createInstance answered: {json}"));
    Ok(detail.join("; "))
}

/// A private Xvfb, stopped on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Result<Xvfb> {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("could not start Xvfb")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line)?;
        let number = line.trim();
        if number.is_empty() {
            let _ = child.kill();
            bail!("Xvfb did not say which display it took");
        }
        Ok(Xvfb { child, display: format!(":{number}") })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The editor in a host window; the screenshot comes from its GL X window.
fn editor_screenshot(wine: &Wine, host_exe: &Path, clap: &Path, display: &str) -> Result<String> {
    // A host process that exits at once without a line on stdout never reached the plugin (seen
    // once in a clean-clone CI run, 0.0 s, right after the no-display steps): start it once more
    // and say so in the result, with what the first start wrote to stderr.
    let (mut child, rx, size, mut lines, note) = match start_editor_host(wine, host_exe, clap)? {
        EditorStart::Ready(c, rx, size, lines) => (c, rx, size, lines, String::new()),
        EditorStart::Failed(first) if first.iter().all(|l| l.starts_with("stderr: ")) => {
            std::thread::sleep(Duration::from_secs(2));
            match start_editor_host(wine, host_exe, clap)? {
                EditorStart::Ready(c, rx, size, lines) => {
                    let why = tail(&first.join("\n"), 5).replace('\r', "");
                    (c, rx, size, lines, format!(" (second start: the first host exited without output: {why})"))
                }
                EditorStart::Failed(lines) => {
                    bail!("the editor did not open (twice):\n{}", tail(&lines.join("\n"), 20))
                }
            }
        }
        EditorStart::Failed(lines) => bail!("the editor did not open:\n{}", tail(&lines.join("\n"), 20)),
    };
    let (width, height) = size;
    let shots = xcapture::capture_all(display, 100)?;
    let best = shots.into_iter().find(|s| s.width == width && s.height == height);
    let waited = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status.code();
        }
        if waited.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    lines.extend(rx.try_iter());
    let Some(shot) = best else { bail!("no {width}x{height} window to capture") };
    let path = Path::new(WINE_DIR).join("editor-wine.png");
    shot.save(&path)?;
    if shot.colours() < 50 {
        bail!("the editor window is blank ({} colours), saved as {}", shot.colours(), path.display());
    }
    if status != Some(0) {
        bail!("the editor host did not close cleanly (exit {status:?}):\n{}", tail(&lines.join("\n"), 10));
    }
    Ok(format!("{width}x{height}, {} colours, saved as {}{note}", shot.colours(), path.display()))
}

/// How a start of the editor host went.
enum EditorStart {
    /// Its stdout, the editor's size and the lines so far.
    Ready(std::process::Child, std::sync::mpsc::Receiver<String>, (u16, u16), Vec<String>),
    /// It exited or timed out before `EDITOR-READY`; its stdout and stderr (`stderr: ` lines).
    Failed(Vec<String>),
}

fn start_editor_host(wine: &Wine, host_exe: &Path, clap: &Path) -> Result<EditorStart> {
    let mut command = wine.wine(&[&windows_path(host_exe), "editor", &windows_path(clap), "4"]);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(format!("stderr: {line}"));
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if let Some(rest) = line.trim_end_matches('\r').strip_prefix("EDITOR-READY ") {
                    let n: Vec<u16> = rest.split(' ').filter_map(|x| x.parse().ok()).collect();
                    if n.len() == 2 {
                        lines.push(line);
                        return Ok(EditorStart::Ready(child, rx, (n[0], n[1]), lines));
                    }
                }
                lines.push(line);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if child.try_wait()?.is_some() {
                    // what is still in the pipes
                    std::thread::sleep(Duration::from_millis(300));
                    lines.extend(rx.try_iter());
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(EditorStart::Failed(lines))
}

/// `cargo xtask test-windows`
pub fn run(args: &[String]) -> Result<()> {
    if let Some(other) = args.first() {
        bail!("unknown option {other:?} (usage: cargo xtask test-windows)");
    }
    let started = Instant::now();
    check_tools()?;
    let validators = windows_validators()?;

    let build_started = Instant::now();
    let build: WindowsBuild = windows::build(&["--release".into()])?;
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--release", "-p", windows::CLI_PACKAGE])
        .status()?;
    if !status.success() {
        bail!("the Linux CLI did not build");
    }
    let linux_cli = std::env::current_dir()?.join("target/release/cadenza-cli");
    ort::fetch()?;
    let standin = build_standin()?;
    let build_seconds = build_started.elapsed().as_secs_f64();

    let mut wine = prefix(&standin)?;
    let (clap, vst3, cli, host_exe) = (build.clap(), build.vst3(), build.cli(), build.host());
    let mut steps = Vec::new();

    wine.set_driver(Driver::Null, None)?;
    if let Some((clap_validator, vst3_validator)) = &validators {
        steps.push(step("clap-validator validate (Windows build, Wine)", true, || {
            clap_validate(&wine, clap_validator, &clap)
        }));
        steps.push(step("vst3-validator -e (Windows build, Wine)", true, || {
            vst3_validate(&wine, vst3_validator, &vst3)
        }));
    }
    let limit = Duration::from_secs(180);
    // One retry, the first failure kept in the report: one VST3 run in three failed once under
    // Wine on the loaded 2-core VM and passed when run again (cause not yet found; see the
    // session notes). A plugin fault that repeats still fails the step.
    let host_run = |format: &str, bundle: &Path| {
        let args = [format.to_string(), windows_path(bundle)];
        host(&wine, &host_exe, &args, limit).or_else(|first| {
            eprintln!("   {format} host run failed once, retrying: {first:#}");
            host(&wine, &host_exe, &args, limit).map_err(|e| e.context(format!("first try: {first:#}")))
        })
    };
    steps.push(step("CLAP host run", true, || host_run("clap", &clap)));
    steps.push(step("VST3 host run", true, || host_run("vst3", &vst3)));
    steps.push(step("drag-out data object", true, || host(&wine, &host_exe, &["dataobject".into()], limit)));
    steps.push(step("CLI: every tool byte-identical to Linux", true, || cli_identity(&wine, &linux_cli, &cli)));
    steps.push(step("CLI: missing Visual C++ runtime", true, || vc_runtime_missing(&wine, &cli)));

    wine.set_driver(Driver::X11, None)?;
    steps.push(step("no display: a reported error, no abort", true, || {
        no_display(&wine, validators.as_ref().map(|v| v.1.as_path()), &host_exe, &vst3)
    }));
    if let Some((clap_validator, _)) = &validators {
        steps.push(step("no display: clap-validator validate", true, || clap_validate(&wine, clap_validator, &clap)));
    }

    let xvfb = Xvfb::start()?;
    wine.set_driver(Driver::X11, Some(&xvfb.display))?;
    steps.push(step("editor opens (screenshot)", true, || editor_screenshot(&wine, &host_exe, &clap, &xvfb.display)));
    // One retry: the drag is driven by synthetic mouse input with fixed pauses.
    steps.push(step("drag-out: a real OLE drop under Wine", true, || {
        host(&wine, &host_exe, &["drop".into()], Duration::from_secs(60)).or_else(|first| {
            host(&wine, &host_exe, &["drop".into()], Duration::from_secs(60))
                .map_err(|e| e.context(format!("{first:#}")))
        })
    }));
    drop(wine);
    drop(xvfb);

    let failed: Vec<&Step> = steps.iter().filter(|s| s.required && !s.ok).collect();
    let sizes = [
        ("Cadenza.clap", windows::size(&build.clap())),
        ("Cadenza/ (onnxruntime.dll, models)", windows::size(&build.bundled.join("Cadenza"))),
        ("Cadenza.vst3", windows::size(&build.vst3())),
        ("cadenza-cli/", windows::size(&build.cli().with_file_name(""))),
    ];
    eprintln!("\nWindows under Wine ({:.0} s in all, build {build_seconds:.0} s):", started.elapsed().as_secs_f64());
    for s in &steps {
        let mark = if s.ok {
            "ok    "
        } else if s.required {
            "FAILED"
        } else {
            "no    "
        };
        eprintln!("  {mark} {:<48} {:>6.1} s  {}", s.name, s.seconds, s.detail.lines().next().unwrap_or(""));
    }
    for (name, bytes) in sizes {
        eprintln!("  {:>8.1} MB  {name}", bytes as f64 / 1e6);
    }
    let report = serde_json::json!({
        "seconds": started.elapsed().as_secs_f64(),
        "build_seconds": build_seconds,
        "steps": steps.iter().map(|s| serde_json::json!({
            "name": s.name, "ok": s.ok, "required": s.required, "seconds": s.seconds, "detail": s.detail,
        })).collect::<Vec<_>>(),
        "sizes_bytes": sizes.iter().map(|(n, b)| (n.to_string(), serde_json::json!(b))).collect::<serde_json::Map<_, _>>(),
    });
    std::fs::write(Path::new(WINE_DIR).join("report.json"), serde_json::to_string_pretty(&report)?)?;
    if !failed.is_empty() {
        bail!(
            "{} Windows step(s) failed: {}",
            failed.len(),
            failed.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}
