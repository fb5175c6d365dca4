//! A Rust toolchain for another target (Windows, macOS) on this Linux machine, set up by the
//! xtask itself without touching the system:
//!
//! 1. if the active toolchain already has the target's standard library (`rustup target add`),
//!    it is used as is;
//! 2. else, if it has the standard library's source (`rustup component add rust-src`), std is
//!    built for the target with `-Zbuild-std` (`RUSTC_BOOTSTRAP=1`);
//! 3. else a private sysroot in `target/cross-sysroot/<version>/`: hard links to the active
//!    toolchain's `rustc` and `lib/`, plus Debian's `rust-src` package of exactly that rustc
//!    version (from `trixie-backports`, fetched with `apt-get download` under a private apt state
//!    in `target/cross-sysroot/apt/`, checked with the system's Debian archive keyring and only
//!    unpacked with `dpkg -x`; the system's apt configuration is never changed), then
//!    `-Zbuild-std` as in 2.
//!
//! Anything missing is named with the command that installs it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";
pub const WINDOWS_LINKER: &str = "x86_64-w64-mingw32-gcc";
pub const WINDOWS_LINKER_PACKAGE: &str = "gcc-mingw-w64-x86-64";
pub const APPLE_TARGETS: &[&str] = &["aarch64-apple-darwin", "x86_64-apple-darwin"];

const SYSROOT_DIR: &str = "target/cross-sysroot";
const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// Where Debian carries `rust-src` packages of recent stable Rust versions (tried in order).
const DEBIAN_SUITES: &[&str] = &["trixie-backports", "forky", "sid"];

/// How to run cargo for one target: the cargo binary, its environment and its extra arguments.
pub struct Toolchain {
    pub cargo: PathBuf,
    pub envs: Vec<(String, OsString)>,
    pub args: Vec<String>,
    /// Which of the three routes was taken, for the log.
    pub route: String,
}

impl Toolchain {
    /// A `cargo <subcommand>` for this target with the toolchain's environment, writing into
    /// `target_dir`.
    pub fn cargo(&self, subcommand: &str, target_dir: &Path) -> Command {
        let mut command = Command::new(&self.cargo);
        command.arg(subcommand).args(&self.args).env("CARGO_TARGET_DIR", target_dir);
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        command
    }
}

/// Prepares a toolchain for `target`; `linker` is the C linker it needs, if any (with the Debian
/// package that has it).
pub fn prepare(target: &str, linker: Option<(&str, &str)>) -> Result<Toolchain> {
    let mut envs: Vec<(String, OsString)> = Vec::new();
    if let Some((linker, package)) = linker {
        let found = Command::new(linker).arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
        if !found {
            bail!(
                "building for {target} needs the MinGW-w64 cross linker `{linker}`, which is not installed; \
                 install it with `apt-get install {package}`"
            );
        }
        let key = format!("CARGO_TARGET_{}_LINKER", target.to_uppercase().replace('-', "_"));
        envs.push((key, linker.into()));
    }

    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version_text = output(Command::new(&rustc).arg("-vV"))?;
    let version = version_text
        .lines()
        .find_map(|l| l.strip_prefix("release: "))
        .context("`rustc -vV` printed no release line")?
        .trim()
        .to_string();
    let sysroot = PathBuf::from(output(Command::new(&rustc).args(["--print", "sysroot"]))?.trim());
    // The real cargo of that toolchain, not rustup's proxy: the proxy puts the toolchain's own
    // `lib/` first on LD_LIBRARY_PATH, and a private rustc would then report the toolchain's
    // sysroot instead of its own.
    let cargo = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| Some(sysroot.join("bin/cargo")).filter(|p| p.is_file()))
        .unwrap_or_else(|| PathBuf::from("cargo"));

    let mut args = vec!["--target".to_string(), target.to_string()];
    let has_std = std::fs::read_dir(sysroot.join("lib/rustlib").join(target).join("lib"))
        .map(|entries| entries.filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        .unwrap_or(false);
    if has_std {
        return Ok(Toolchain {
            cargo,
            envs,
            args,
            route: format!("rustc {version} with its installed {target} standard library"),
        });
    }
    // panic_unwind: the release profile unwinds (the wrappers catch panics at the FFI boundary).
    args.push("-Zbuild-std=std,panic_unwind".into());
    envs.push(("RUSTC_BOOTSTRAP".into(), "1".into()));
    if sysroot.join("lib/rustlib/src/rust/library/Cargo.lock").is_file() {
        return Ok(Toolchain {
            cargo,
            envs,
            args,
            route: format!("rustc {version}, std built from its rust-src component"),
        });
    }

    let private = private_sysroot(&sysroot, &version)?;
    envs.push(("RUSTC".into(), private.join("bin/rustc").into()));
    let mut library_path = OsString::from(private.join("lib"));
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
        library_path.push(":");
        library_path.push(old);
    }
    envs.push(("LD_LIBRARY_PATH".into(), library_path));
    Ok(Toolchain {
        cargo,
        envs,
        args,
        route: format!("rustc {version}, std built from Debian's rust-src in {}", private.display()),
    })
}

fn output(command: &mut Command) -> Result<String> {
    let out = command.output().with_context(|| format!("could not run {command:?}"))?;
    if !out.status.success() {
        bail!("{command:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `target/cross-sysroot/<version>`: made once, marked complete by a file.
fn private_sysroot(sysroot: &Path, version: &str) -> Result<PathBuf> {
    let root = std::env::current_dir()?.join(SYSROOT_DIR).join(version);
    let done = root.join(".complete");
    if done.is_file() {
        return Ok(root);
    }
    let missing = |what: &str| {
        format!(
            "the Rust standard library for cross builds is missing: this toolchain (rustc {version}) has neither the \
             target's std nor the rust-src component, and the private sysroot needs {what}. Either install one with \
             rustup (`rustup target add {WINDOWS_TARGET}` or `rustup component add rust-src`) or run this on Debian with \
             apt-get, dpkg and debian-archive-keyring"
        )
    };
    for tool in ["apt-get", "dpkg"] {
        if Command::new(tool).arg("--version").output().is_err() {
            bail!(missing(&format!("`{tool}`")));
        }
    }
    if !Path::new(DEBIAN_KEYRING).is_file() {
        bail!(missing(DEBIAN_KEYRING));
    }
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    eprintln!("Setting up a private Rust sysroot for cross builds in {} ...", root.display());
    std::fs::create_dir_all(root.join("bin"))?;
    link_tree(&sysroot.join("lib"), &root.join("lib"))?;
    link_file(&sysroot.join("bin/rustc"), &root.join("bin/rustc"))?;

    let deb = fetch_rust_src(version)?;
    let unpacked = root.join("rust-src-deb");
    let status = Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked).status()?;
    if !status.success() {
        bail!("`dpkg -x {}` failed", deb.display());
    }
    let source = unpacked.join(format!("usr/src/rustc-{version}"));
    if !source.join("library/Cargo.lock").is_file() {
        bail!("{} holds no library/Cargo.lock; not a rust-src package for rustc {version}", deb.display());
    }
    let src_dir = root.join("lib/rustlib/src");
    std::fs::create_dir_all(&src_dir)?;
    std::fs::rename(&source, src_dir.join("rust"))?;
    let _ = std::fs::remove_dir_all(&unpacked);
    let _ = std::fs::remove_file(&deb);
    std::fs::write(&done, format!("rustc {version}\n"))?;
    Ok(root)
}

/// Downloads Debian's `rust-src` of exactly `version` into `target/cross-sysroot/apt/`.
fn fetch_rust_src(version: &str) -> Result<PathBuf> {
    let apt = std::env::current_dir()?.join(SYSROOT_DIR).join("apt");
    let lists = apt.join("lists");
    let cache = apt.join("cache");
    std::fs::create_dir_all(lists.join("partial"))?;
    std::fs::create_dir_all(cache.join("archives/partial"))?;
    let sources = apt.join("sources.list");
    let options = |command: &mut Command| {
        command
            .arg("-o")
            .arg(format!("Dir::Etc::SourceList={}", sources.display()))
            .args(["-o", "Dir::Etc::SourceParts=/dev/null"])
            .arg("-o")
            .arg(format!("Dir::State::Lists={}", lists.display()))
            .arg("-o")
            .arg(format!("Dir::Cache={}", cache.display()))
            .args(["-o", "Debug::NoLocking=1", "-q"]);
    };
    for suite in DEBIAN_SUITES {
        std::fs::write(
            &sources,
            format!("deb [signed-by={DEBIAN_KEYRING}] http://deb.debian.org/debian {suite} main\n"),
        )?;
        let mut update = Command::new("apt-get");
        options(&mut update);
        let out = update.arg("update").output()?;
        if !out.status.success() {
            eprintln!("apt-get update ({suite}) failed: {}", String::from_utf8_lossy(&out.stderr).trim());
            continue;
        }
        let mut madison = Command::new("apt-cache");
        options(&mut madison);
        let versions = output(madison.args(["madison", "rust-src"]))?;
        // "rust-src | 1.95.0+dfsg1-2~bpo13+1 | http://... Packages": the highest Debian revision
        // of exactly this upstream version (madison lists newest first).
        let Some(found) = versions
            .lines()
            .filter_map(|l| l.split('|').nth(1).map(str::trim))
            .find(|v| v.starts_with(&format!("{version}+")) || v.starts_with(&format!("{version}-")))
        else {
            continue;
        };
        eprintln!("Fetching Debian's rust-src {found} ({suite}) ...");
        let mut download = Command::new("apt-get");
        options(&mut download);
        let status = download.current_dir(&apt).arg("download").arg(format!("rust-src={found}")).status()?;
        if !status.success() {
            bail!("`apt-get download rust-src={found}` failed");
        }
        let deb = std::fs::read_dir(&apt)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|e| e == "deb"))
            .context("apt-get download wrote no .deb")?;
        return Ok(deb);
    }
    bail!(
        "Debian has no rust-src package for rustc {version} in {} (or deb.debian.org is unreachable); install the \
         target with `rustup target add {WINDOWS_TARGET}` or the source with `rustup component add rust-src`, or use a \
         Rust version Debian packages",
        DEBIAN_SUITES.join(", ")
    )
}

/// Hard-links every file under `from` into `to` (copies where hard links are impossible).
fn link_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
            #[cfg(not(unix))]
            link_file(&entry.path(), &target)?;
        } else {
            link_file(&entry.path(), &target)?;
        }
    }
    Ok(())
}

fn link_file(from: &Path, to: &Path) -> Result<()> {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// The crates that ship (plugin, engine, CLI), checked for both Apple targets with build-std
/// into `target/macos/` (no macOS SDK is needed for `check`).
pub fn check_macos(extra: &[String]) -> Result<()> {
    let target_dir = std::env::current_dir()?.join("target/macos");
    for target in APPLE_TARGETS {
        let toolchain = prepare(target, None)?;
        eprintln!("cargo check for {target}: {}", toolchain.route);
        let status = toolchain
            .cargo("check", &target_dir)
            .args(["-p", "cadenza", "-p", "cadenza-engine", "-p", "cadenza-cli"])
            .args(extra)
            .status()?;
        if !status.success() {
            bail!("cargo check for {target} failed");
        }
    }
    Ok(())
}

/// `cargo xtask clippy-windows`: clippy on the Windows-only code (plugin, engine, CLI, the Wine
/// host) for `x86_64-pc-windows-gnu`, into `target/windows-clippy/`. Clippy runs as a rustc
/// wrapper beside the toolchain's rustc (the private sysroot gets a link to `clippy-driver`).
pub fn clippy_windows(extra: &[String]) -> Result<()> {
    let toolchain = prepare(WINDOWS_TARGET, Some((WINDOWS_LINKER, WINDOWS_LINKER_PACKAGE)))?;
    let sysroot = PathBuf::from(
        output(Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())).args(["--print", "sysroot"]))?
            .trim(),
    );
    let driver = sysroot.join("bin/clippy-driver");
    if !driver.is_file() {
        bail!("clippy is not installed for this toolchain (`rustup component add clippy`)");
    }
    let mut command = toolchain.cargo("check", &std::env::current_dir()?.join("target/windows-clippy"));
    let wrapper = match toolchain.envs.iter().find(|(k, _)| k == "RUSTC") {
        Some((_, private_rustc)) => {
            let bin = PathBuf::from(private_rustc).parent().map(Path::to_path_buf).context("no private bin folder")?;
            let linked = bin.join("clippy-driver");
            if !linked.is_file() {
                link_file(&driver, &linked)?;
            }
            command.env("SYSROOT", bin.parent().context("no private sysroot")?);
            linked
        }
        None => driver,
    };
    // What `cargo clippy -- -D warnings` hands clippy-driver (its argument separator).
    let status = command
        .env("RUSTC_WORKSPACE_WRAPPER", wrapper)
        .env("CLIPPY_ARGS", "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__")
        .args(["-p", "cadenza", "-p", "cadenza-engine", "-p", "cadenza-cli", "-p", "cadenza-wine-host"])
        .args(extra)
        .status()?;
    if !status.success() {
        bail!("clippy found problems in the Windows build");
    }
    Ok(())
}
