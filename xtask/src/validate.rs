//! `cargo xtask validate`: runs the two standard conformance suites on the built bundles and fails
//! on anything they find.
//!
//! 1. `clap-validator validate target/bundled/Cadenza.clap` — fails on a failed test (its summary
//!    `N tests run, N passed, N failed, N warnings, N skipped`, and its exit status);
//! 2. `vst3-validator -e target/bundled/Cadenza.vst3` (extensive) — fails unless its summary
//!    `Result: N tests passed, N tests failed` says 0 failed (its exit status says little);
//! 3. `clap-validator fuzz -d 60s target/bundled/Cadenza.clap` — fails when it reports a failure
//!    or a crash, and on any `WARN` line it prints (e.g. a parameter whose text does not parse
//!    back to its value).
//!
//! The validators are prebuilt binaries found in `$CADENZA_VALIDATORS`, else in
//! `../shared/tools/validators` beside the checkout. When they are missing this fails, naming what
//! is missing; only `CADENZA_SKIP_VALIDATORS=1` turns that into a (loud) skip, for a local run
//! without the shared tools. CI (`.ci/run`) never sets it.
//!
//! Options: `--bundle-dir DIR` (default `target/bundled`), `--fuzz-duration 60s` (default
//! `$CADENZA_FUZZ_DURATION`, else 60 s), `--no-fuzz`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub const VALIDATORS_ENV: &str = "CADENZA_VALIDATORS";
pub const SKIP_ENV: &str = "CADENZA_SKIP_VALIDATORS";
const DEFAULT_VALIDATORS: &str = "../shared/tools/validators";
const CLAP_VALIDATOR: &str = "clap-validator";
const VST3_VALIDATOR: &str = "vst3-validator";
const DEFAULT_FUZZ_DURATION: &str = "60s";
const FUZZ_DURATION_ENV: &str = "CADENZA_FUZZ_DURATION";

/// Where the two validator binaries are.
pub struct Validators {
    pub clap: PathBuf,
    pub vst3: PathBuf,
}

/// Finds the validators, or explains exactly what is missing. `Ok(None)` only when they are
/// missing and `CADENZA_SKIP_VALIDATORS` asks for a skip (after printing a loud banner).
pub fn locate() -> Result<Option<Validators>> {
    let (dir, source) = match std::env::var_os(VALIDATORS_ENV) {
        Some(dir) if !dir.is_empty() => (PathBuf::from(dir), format!("${VALIDATORS_ENV}")),
        _ => (
            PathBuf::from(DEFAULT_VALIDATORS),
            format!("the default {DEFAULT_VALIDATORS} (${VALIDATORS_ENV} is not set)"),
        ),
    };
    let shown = |p: &Path| {
        std::env::current_dir().map(|cwd| cwd.join(p)).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
    };
    let clap = dir.join(CLAP_VALIDATOR);
    let vst3 = dir.join(VST3_VALIDATOR);
    let missing: Vec<String> = [&clap, &vst3]
        .into_iter()
        .filter(|p| !is_executable(p))
        .map(|p| format!("  - {} (not found or not executable)", shown(p)))
        .collect();
    if missing.is_empty() {
        return Ok(Some(Validators { clap: absolute(&clap)?, vst3: absolute(&vst3)? }));
    }
    let message = format!(
        "the plugin validators are missing. Looked in {} ({source}):\n{}\n\
         They are the prebuilt clap-validator 0.4.1 and Steinberg's VST3 validator (see \
         ../shared/tools/validators/README.md). Put them there, or point ${VALIDATORS_ENV} at the \
         folder holding `{CLAP_VALIDATOR}` and `{VST3_VALIDATOR}`. To run the other tests without \
         them on a local machine, set {SKIP_ENV}=1 (CI never skips).",
        shown(&dir),
        missing.join("\n"),
    );
    if std::env::var_os(SKIP_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
        let rule = "!".repeat(100);
        eprintln!("\n{rule}\n!! SKIPPING THE CLAP AND VST3 VALIDATORS ({SKIP_ENV} is set): {message}\n{rule}\n");
        return Ok(None);
    }
    bail!("{message}");
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    path.canonicalize().with_context(|| format!("cannot resolve {}", path.display()))
}

/// How long to fuzz: `$CADENZA_FUZZ_DURATION` (clap-validator's syntax, e.g. `20s`, `5m`), else
/// 60 s.
pub fn fuzz_duration() -> String {
    std::env::var(FUZZ_DURATION_ENV)
        .ok()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_FUZZ_DURATION.into())
}

/// `cargo xtask validate [--bundle-dir DIR] [--fuzz-duration 60s] [--no-fuzz]`
pub fn run(args: &[String]) -> Result<()> {
    let mut bundle_dir = PathBuf::from("target/bundled");
    let mut fuzz_duration = Some(fuzz_duration());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bundle-dir" => bundle_dir = args.next().context("--bundle-dir needs a folder")?.into(),
            "--fuzz-duration" => {
                fuzz_duration = Some(args.next().context("--fuzz-duration needs a duration, e.g. 60s")?.clone())
            }
            "--no-fuzz" => fuzz_duration = None,
            other => bail!("unknown option {other:?} (usage: cargo xtask validate [--bundle-dir DIR] [--fuzz-duration 60s] [--no-fuzz])"),
        }
    }
    let Some(validators) = locate()? else { return Ok(()) };
    validate_bundles(&validators, &bundle_dir, fuzz_duration.as_deref())
}

/// Runs all three steps (fuzzing only when `fuzz_duration` is given), prints one summary table
/// and fails if any step failed. Every step runs even when an earlier one failed.
pub fn validate_bundles(validators: &Validators, bundle_dir: &Path, fuzz_duration: Option<&str>) -> Result<()> {
    let clap = bundle_dir.join("Cadenza.clap");
    let vst3 = bundle_dir.join("Cadenza.vst3");
    for bundle in [&clap, &vst3] {
        if !bundle.exists() {
            bail!("{} is missing; build it with `cargo xtask bundle cadenza --release`", bundle.display());
        }
    }
    if !bundle_dir.join("Cadenza").is_dir() {
        bail!(
            "{} is missing (ONNX Runtime and the models beside Cadenza.clap); rebuild with `cargo xtask bundle cadenza --release`",
            bundle_dir.join("Cadenza").display()
        );
    }

    let mut steps = vec![clap_validate(validators, &clap), vst3_validate(validators, &vst3)];
    if let Some(duration) = fuzz_duration {
        steps.push(clap_fuzz(validators, &clap, duration));
    }

    eprintln!("\n== validator summary");
    let mut failed = Vec::new();
    for step in &steps {
        match step {
            Ok(step) => {
                eprintln!(
                    "  {:<4} {:<34} {:>6.1} s  {}",
                    if step.ok { "ok" } else { "FAIL" },
                    step.name,
                    step.elapsed.as_secs_f64(),
                    step.summary
                );
                if !step.ok {
                    failed.push(format!("{}: {}", step.name, step.summary));
                }
            }
            Err(e) => {
                eprintln!("  FAIL {e:#}");
                failed.push(format!("{e:#}"));
            }
        }
    }
    if !failed.is_empty() {
        bail!("the plugin validators found problems:\n  {}", failed.join("\n  "));
    }
    Ok(())
}

struct Step {
    name: String,
    ok: bool,
    summary: String,
    elapsed: Duration,
}

/// `clap-validator validate`: its summary line and its exit status.
fn clap_validate(validators: &Validators, clap: &Path) -> Result<Step> {
    let name = "clap-validator validate".to_string();
    let mut command = Command::new(&validators.clap);
    command.arg("validate").arg(clap);
    let run = run_logged(&mut command, &name, "clap-validator-validate.log", Echo::Quiet)?;
    let summary = parse_clap_summary(&run.output).with_context(|| {
        format!(
            "{name}: no summary line (`N tests run, N passed, ...`) in its output ({}); see {}",
            run.status, run.log
        )
    })?;
    let failed_blocks = failed_clap_blocks(&run.output);
    for block in &failed_blocks {
        eprintln!("{block}");
    }
    let failed_tests: Vec<&str> = failed_blocks.iter().filter_map(|b| clap_block_name(b)).collect();
    let mut text = format!(
        "{} tests run, {} passed, {} failed, {} warnings, {} skipped",
        summary.run, summary.passed, summary.failed, summary.warnings, summary.skipped
    );
    if !failed_tests.is_empty() {
        text.push_str(&format!(" (failed: {})", failed_tests.join(", ")));
    }
    if summary.warnings > 0 {
        // A warning in `validate` is a timing heuristic (e.g. slow denormals); shown, not fatal.
        text.push_str(" (see the warnings above)");
    }
    if !run.status.success() && summary.failed == 0 {
        text.push_str(&format!(" but it exited with {}", run.status));
    }
    Ok(Step { ok: run.status.success() && summary.failed == 0, summary: text, elapsed: run.elapsed, name })
}

/// `vst3-validator -e`: only its summary line says whether it passed.
fn vst3_validate(validators: &Validators, vst3: &Path) -> Result<Step> {
    let name = "vst3-validator -e".to_string();
    let mut command = Command::new(&validators.vst3);
    command.arg("-e").arg(vst3);
    let run = run_logged(&mut command, &name, "vst3-validator.log", Echo::Quiet)?;
    let Some((passed, failed)) = parse_vst3_summary(&run.output) else {
        // No summary: it stopped early (a crash, a bundle it could not load); show how it ended.
        let tail: Vec<&str> = run.output.lines().rev().take(30).collect();
        eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        bail!(
            "{name}: no `Result: N tests passed, N tests failed` line in its output ({}); see {}",
            run.status,
            run.log
        );
    };
    for block in failed_vst3_blocks(&run.output) {
        eprintln!("{block}");
    }
    let mut text = format!("{passed} tests passed, {failed} tests failed");
    if !run.status.success() {
        text.push_str(&format!(", exited with {}", run.status));
    }
    Ok(Step { ok: failed == 0 && passed > 0 && run.status.success(), summary: text, elapsed: run.elapsed, name })
}

/// `clap-validator fuzz -d DURATION`: its exit status, its `OK` line, and no `WARN` lines.
fn clap_fuzz(validators: &Validators, clap: &Path, duration: &str) -> Result<Step> {
    let name = format!("clap-validator fuzz -d {duration}");
    let mut command = Command::new(&validators.clap);
    command.args(["fuzz", "-d", duration]).arg(clap);
    let run = run_logged(&mut command, &name, "clap-validator-fuzz.log", Echo::CollapseWarnings)?;
    let warnings = warnings(&run.output);
    let finished_ok =
        run.output.lines().any(|l| strip_ansi(l).trim_start().starts_with("OK: fuzzing finished successfully"));
    let total: usize = warnings.values().sum();
    let mut text = if finished_ok && run.status.success() {
        "no failures or crashes".to_string()
    } else {
        format!("FAILED or CRASHED ({}; see its report above)", run.status)
    };
    text.push_str(&format!(", {total} warnings"));
    for (message, count) in warnings.iter().take(5) {
        text.push_str(&format!("\n         {count}x WARN {message}"));
    }
    Ok(Step { ok: finished_ok && run.status.success() && total == 0, summary: text, elapsed: run.elapsed, name })
}

struct Run {
    status: std::process::ExitStatus,
    output: String,
    elapsed: Duration,
    /// Where the whole output was saved.
    log: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Echo {
    /// Nothing while it runs (the full output goes to the log file; failures are shown after).
    Quiet,
    /// Every line, but each distinct `WARN` message only once.
    CollapseWarnings,
}

/// Where the validators' full output is kept.
const LOG_DIR: &str = "target/validators";

/// Runs `command`, saving its stdout and stderr together in `target/validators/<log_name>` and
/// echoing them as `echo` says; returns the output.
fn run_logged(command: &mut Command, what: &str, log_name: &str, echo: Echo) -> Result<Run> {
    eprintln!("== {what}: {command:?}");
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {what}"))?;
    let output = Arc::new(Mutex::new(String::new()));
    let seen = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let readers: Vec<_> =
        [Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>, Box::new(child.stderr.take().unwrap())]
            .into_iter()
            .map(|pipe| {
                let (output, seen) = (output.clone(), seen.clone());
                std::thread::spawn(move || {
                    for line in BufReader::new(pipe).split(b'\n') {
                        let Ok(line) = line else { break };
                        let line = String::from_utf8_lossy(&line).into_owned();
                        let shown = match (echo, warning_message(&line)) {
                            (Echo::Quiet, _) => false,
                            (Echo::CollapseWarnings, Some(message)) => {
                                let mut seen = seen.lock().unwrap();
                                let count = seen.entry(message).or_default();
                                *count += 1;
                                *count == 1
                            }
                            (Echo::CollapseWarnings, None) => true,
                        };
                        if shown {
                            eprintln!("{line}");
                        }
                        let mut output = output.lock().unwrap();
                        output.push_str(&line);
                        output.push('\n');
                    }
                })
            })
            .collect();
    let status = child.wait().with_context(|| format!("{what} did not finish"))?;
    for reader in readers {
        let _ = reader.join();
    }
    let elapsed = start.elapsed();
    let output = std::mem::take(&mut *output.lock().unwrap());
    let log = Path::new(LOG_DIR).join(log_name);
    std::fs::create_dir_all(LOG_DIR).with_context(|| format!("cannot create {LOG_DIR}"))?;
    std::fs::write(&log, strip_ansi(&output)).with_context(|| format!("cannot write {}", log.display()))?;
    let log = log.display().to_string();
    eprintln!("== {what}: {status} after {:.1} s (full output in {log})", elapsed.as_secs_f64());
    Ok(Run { status, output, elapsed, log })
}

/// Removes the ANSI colour codes the validators print even into a pipe.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte in '@'..='~'.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// clap-validator's log lines look like `  113ms  WARN message target`; the plugin's own log may
/// print `WARN message` without the time. Returns the message (without the time) for either.
fn warning_message(line: &str) -> Option<String> {
    let line = strip_ansi(line);
    let mut rest = line.trim_start();
    let first = rest.split_whitespace().next().unwrap_or_default();
    if first.strip_suffix("ms").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
        rest = rest[first.len()..].trim_start();
    }
    let message = rest.strip_prefix("WARN")?;
    (message.is_empty() || message.starts_with(char::is_whitespace) || message.starts_with(':'))
        .then(|| message.trim_start_matches(':').trim().to_string())
}

/// Every distinct warning message with how often it was printed.
fn warnings(output: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in output.lines().filter_map(warning_message) {
        *counts.entry(message).or_default() += 1;
    }
    counts
}

#[derive(Debug, PartialEq)]
struct ClapSummary {
    run: u32,
    passed: u32,
    failed: u32,
    warnings: u32,
    skipped: u32,
}

/// Parses `44 tests run, 35 passed, 1 failed, 0 warnings, 8 skipped` (the last such line).
fn parse_clap_summary(output: &str) -> Option<ClapSummary> {
    output.lines().rev().map(strip_ansi).find_map(|line| {
        let mut fields = BTreeMap::new();
        for part in line.trim().split(',') {
            let mut words = part.split_whitespace();
            let number: u32 = words.next()?.parse().ok()?;
            let label = words.collect::<Vec<_>>().join(" ");
            fields.insert(label, number);
        }
        Some(ClapSummary {
            run: *fields.get("tests run")?,
            passed: *fields.get("passed")?,
            failed: *fields.get("failed")?,
            warnings: *fields.get("warnings").or(fields.get("warning"))?,
            skipped: *fields.get("skipped")?,
        })
    })
}

/// The report blocks of the tests clap-validator marks FAILED or CRASHED, each with its details:
/// a test is a block `┌─ name` ... `└── FAILED ─ 1ms`.
fn failed_clap_blocks(output: &str) -> Vec<String> {
    let mut block: Vec<String> = Vec::new();
    let mut failed = Vec::new();
    for line in output.lines().map(strip_ansi) {
        let trimmed = line.trim_start_matches(|c: char| c == '│' || c.is_whitespace());
        if trimmed.starts_with("┌─ ") && clap_block_name(trimmed).is_some() {
            block.clear();
        }
        block.push(line.clone());
        // `└── STATUS ─ time` ends a test (a bare `└──` only ends the details inside it).
        if let Some(status) = trimmed.strip_prefix("└──").and_then(|s| s.split_whitespace().next()) {
            if matches!(status, "FAILED" | "CRASHED") {
                failed.push(block.join("\n"));
            }
            block.clear();
        }
    }
    failed
}

/// The test name a report block starts with (`┌─ name`; an unnamed `┌─ ` opens its details).
fn clap_block_name(block: &str) -> Option<&str> {
    let first = block.lines().next()?.trim_start_matches(|c: char| c == '│' || c.is_whitespace());
    Some(first.strip_prefix("┌─ ")?.trim()).filter(|name| !name.is_empty())
}

/// The VST3 validator's output for each failed test: from its `[Test name]` line to `[Failed]`.
fn failed_vst3_blocks(output: &str) -> Vec<String> {
    let mut block: Vec<&str> = Vec::new();
    let mut failed = Vec::new();
    for line in output.lines() {
        let trimmed = line.trim();
        let is_marker = trimmed.starts_with('[') && trimmed.ends_with(']');
        if is_marker && trimmed != "[Failed]" && trimmed != "[Succeeded]" {
            block.clear();
        }
        block.push(line);
        if trimmed == "[Failed]" {
            failed.push(block.join("\n"));
            block.clear();
        } else if trimmed == "[Succeeded]" {
            block.clear();
        }
    }
    failed
}

/// Parses `Result: 537 tests passed, 0 tests failed` into (passed, failed).
fn parse_vst3_summary(output: &str) -> Option<(u32, u32)> {
    output.lines().rev().map(strip_ansi).find_map(|line| {
        let rest = line.trim().strip_prefix("Result:")?;
        let (passed, failed) = rest.split_once(',')?;
        let passed = passed.trim().strip_suffix("tests passed")?.trim().parse().ok()?;
        let failed = failed.trim().strip_suffix("tests failed")?.trim().parse().ok()?;
        Some((passed, failed))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_clap_validator_summary() {
        let output = "└── 37 tests\n44 tests run, \u{1b}[1;32m35\u{1b}[0m passed, \u{1b}[1;31m1\u{1b}[0m failed, \u{1b}[1;33m0\u{1b}[0m warnings, \u{1b}[1m8\u{1b}[0m skipped\n";
        assert_eq!(
            parse_clap_summary(output),
            Some(ClapSummary { run: 44, passed: 35, failed: 1, warnings: 0, skipped: 8 })
        );
        assert_eq!(parse_clap_summary("nothing here\n"), None);
    }

    #[test]
    fn finds_the_failed_clap_tests() {
        let output = "│ ┌─ param-conversions\n│ │ Asserts that...\n│ │ \n│ │ ┌─ \n│ │ │ 'Armed' -> 0.0 -> 'Off'\n│ │ └── \n│ └── \u{1b}[31mFAILED\u{1b}[0m ─ 1ms\n│ \n│ ┌─ param-default-values\n│ └── PASSED ─ 4ms\n";
        let blocks = failed_clap_blocks(output);
        assert_eq!(blocks.len(), 1);
        assert_eq!(clap_block_name(&blocks[0]), Some("param-conversions"));
        assert!(blocks[0].contains("'Armed' -> 0.0 -> 'Off'"), "{}", blocks[0]);
    }

    #[test]
    fn finds_the_failed_vst3_tests() {
        let output =
            "[Scan Editor Classes]\nInfo: fine\n[Succeeded]\n\n[Parameters Flush]\nERROR: no flush\n[Failed]\n";
        assert_eq!(failed_vst3_blocks(output), vec!["[Parameters Flush]\nERROR: no flush\n[Failed]".to_string()]);
    }

    #[test]
    fn parses_the_vst3_summary() {
        let output = "---\nResult: 537 tests passed, 0 tests failed\n---\n";
        assert_eq!(parse_vst3_summary(output), Some((537, 0)));
        assert_eq!(parse_vst3_summary("Result: 530 tests passed, 7 tests failed"), Some((530, 7)));
        assert_eq!(parse_vst3_summary("[Succeeded]"), None);
    }

    #[test]
    fn counts_fuzz_warnings() {
        let output = "  113ms  \u{1b}[33mWARN\u{1b}[0m Text conversion error for parameter 5: 1 -> \"Armed\" -> 0 -> \"Off\" clap_validator::fuzz::runner\n\
                      58741ms  WARN Text conversion error for parameter 5: 1 -> \"Armed\" -> 0 -> \"Off\" clap_validator::fuzz::runner\n\
                      ERROR Failed to load state: Malformed length\n\
                      WARNING-free line\n\
                      OK: fuzzing finished successfully\n";
        let counts = warnings(output);
        assert_eq!(counts.len(), 1);
        assert_eq!(counts.values().sum::<usize>(), 2);
        assert!(counts.keys().next().unwrap().starts_with("Text conversion error for parameter 5"));
    }
}
