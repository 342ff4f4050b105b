//! `natscc keys`: the NKeys and Secret layout of the bus, generated and checked without
//! `nsc` or `nk`. One folder per cluster, one folder per Secret, one file per key; files 0600,
//! folders 0700; a key that exists is never replaced; no seed is ever printed.
//!
//! Where keys live (the output folder and everything in it) natscc trusts nothing it did not
//! make: it never reads or writes through a symbolic link, never uses a file or folder another
//! user owns, refuses a folder group or others may write, creates every file exclusively (a
//! planted temporary file cannot receive a seed) and changes the mode of nothing it did not
//! create. Every failure is one coded diagnostic (`natscc::keys::*`); none holds a key.

use crate::diag::{Code, Diagnostic, Sources};
use nkeys::{KeyPair, KeyPairType, XKey};
use std::fs::Metadata;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Account,
    Curve,
}

impl Kind {
    fn seed_prefix(self) -> &'static str {
        match self {
            Kind::User => "SU",
            Kind::Account => "SA",
            Kind::Curve => "SX",
        }
    }
    fn pub_prefix(self) -> char {
        match self {
            Kind::User => 'U',
            Kind::Account => 'A',
            Kind::Curve => 'X',
        }
    }
    fn word(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Account => "account",
            Kind::Curve => "curve (xkey)",
        }
    }
}

/// One key pair and where its seed and public key are stored (secret/file).
struct Pair {
    kind: Kind,
    seed: (String, &'static str),
    public: Vec<(String, String)>,
}

fn pair(kind: Kind, seed: (&str, &'static str), public: &[(&str, &str)]) -> Pair {
    Pair {
        kind,
        seed: (seed.0.to_string(), seed.1),
        public: public
            .iter()
            .map(|(s, f)| (s.to_string(), f.to_string()))
            .collect(),
    }
}

/// The pairs every cluster holds (the CSC's and each CPC's own keys).
fn cluster_pairs() -> Vec<Pair> {
    vec![
        pair(
            Kind::Account,
            ("auth-callout-keys", "issuer-seed"),
            &[("nats-auth-signing", "pubkey")],
        ),
        pair(
            Kind::Curve,
            ("auth-callout-keys", "xkey-seed"),
            &[("nats-xkey", "pubkey")],
        ),
        pair(
            Kind::User,
            ("auth-callout-keys", "nkey-seed"),
            &[("nats-authx-user", "pubkey")],
        ),
        pair(
            Kind::User,
            ("nats-nack-user", "nack-user.nk"),
            &[("nats-nack-user", "pubkey")],
        ),
        pair(
            Kind::User,
            ("nats-surveyor", "seed"),
            &[("nats-surveyor", "pubkey")],
        ),
        pair(
            Kind::User,
            ("nats-mtls-leaf", "seed"),
            &[("nats-mtls-leaf", "pubkey")],
        ),
        pair(
            Kind::User,
            ("nats-mtls-authx-leaf", "seed"),
            &[("nats-mtls-authx-leaf", "pubkey")],
        ),
        pair(
            Kind::User,
            ("nats-mtls-sys-leaf", "seed"),
            &[("nats-mtls-sys-leaf", "pubkey")],
        ),
    ]
}

/// The layout marker natscc writes at the top of a keys folder.
const MARKER: &str = ".natscc-keys";
/// The suffix of the file a key is written to before it takes its name.
const TMP_SUFFIX: &str = ".natscc-tmp";

/// Whether a file of the layout holds a secret (a seed, or a Secret manifest with seeds): every
/// file but the public keys and the marker.
fn holds_secret(path: &Path) -> bool {
    !matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("pubkey" | MARKER)
    )
}

#[derive(Debug, Default)]
pub struct Report {
    pub created: Vec<PathBuf>,
    pub kept: usize,
    /// Findings (exit 1), one coded line each; see [`line`].
    pub problems: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

/// A failure of `natscc keys`: one coded diagnostic. It travels inside an `io::Error`, so
/// callers (the CLI, `natscc up`) keep their `io::Result`, and displays as the diagnostic does.
#[derive(Debug, Clone)]
pub struct KeysError(pub Diagnostic);

impl std::fmt::Display for KeysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::diag::render::human(&self.0, &Sources::default(), false).trim_end())
    }
}

impl std::error::Error for KeysError {}

/// A diagnostic as the `io::Error` this module's functions return.
trait Fail {
    fn fail(self) -> io::Error;
}

impl Fail for Diagnostic {
    fn fail(self) -> io::Error {
        io::Error::other(KeysError(self))
    }
}

/// The diagnostic an error of this module carries (a `natscc::keys::io` one for a bare I/O error).
pub fn diagnostic_of(e: &io::Error) -> Diagnostic {
    match e.get_ref().and_then(|i| i.downcast_ref::<KeysError>()) {
        Some(k) => k.0.clone(),
        None => Diagnostic::new(Code::KeysIo, e.to_string()),
    }
}

/// One finding on one line: `error: natscc::keys::mode: ... (help: ...)`.
pub fn line(d: &Diagnostic) -> String {
    let s = crate::diag::render::concise(d, &Sources::default());
    s.strip_prefix("natscc: ").map(str::to_string).unwrap_or(s)
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

/// An I/O error on `path` as a `natscc::keys::io` diagnostic (a coded one passes unchanged).
fn io_error(doing: &str, path: &Path, e: io::Error) -> io::Error {
    if e.get_ref().is_some_and(|i| i.is::<KeysError>()) {
        return e;
    }
    Diagnostic::from(Finding::Io {
        doing,
        path,
        error: &e,
    })
    .fail()
}

/// A symbolic link, and where it points when that can be read.
fn link_diag(path: &Path) -> Diagnostic {
    let to = std::fs::read_link(path).ok();
    Finding::Link { path, to }.into()
}

fn owner_diag(path: &Path, found: u32, want: u32) -> Diagnostic {
    Finding::Owner { path, found, want }.into()
}

/// A mode that lets group or others in: any bit on a secret file, write on a public key or a
/// folder (natscc makes files 0600 and folders 0700).
fn open_mode(path: &Path, meta: &Metadata) -> Option<(u32, ModeOf)> {
    let mode = meta.mode() & 0o7777;
    let (mask, of) = if meta.is_dir() {
        (0o022, ModeOf::Folder)
    } else if holds_secret(path) {
        (0o077, ModeOf::Seed)
    } else {
        (0o022, ModeOf::Public)
    };
    (mode & mask != 0).then_some((mode, of))
}

fn mode_diag(path: &Path, meta: &Metadata) -> Option<Diagnostic> {
    let (mode, of) = open_mode(path, meta)?;
    Some(Finding::Mode { path, mode, of }.into())
}

/// What `natscc keys` finds; `From<Finding> for Diagnostic` below words every one of them.
enum Finding<'a> {
    Io {
        doing: &'a str,
        path: &'a Path,
        error: &'a io::Error,
    },
    Link {
        path: &'a Path,
        to: Option<PathBuf>,
    },
    Owner {
        path: &'a Path,
        found: u32,
        want: u32,
    },
    /// `what` the path is instead; `check`: found by `natscc keys check`.
    NotAFolder {
        path: &'a Path,
        what: &'a str,
        check: bool,
    },
    Mode {
        path: &'a Path,
        mode: u32,
        of: ModeOf,
    },
    Replaced {
        path: &'a Path,
    },
    /// Where a key goes, something else than a file.
    NotRegularKey {
        path: &'a Path,
    },
    /// Where the Secrets' manifest goes, something else than a file.
    NotRegularManifest {
        path: &'a Path,
    },
    InTheWay {
        path: &'a Path,
    },
    Appeared {
        path: &'a Path,
    },
    EmptyOutput,
    AccountName {
        name: &'a str,
    },
    AccountReserved {
        name: &'a str,
    },
    CpcId {
        id: &'a str,
    },
}

/// What a keys folder's content is found to be: the keys themselves, missing or wrong.
enum Content<'a> {
    NoKeysFolder {
        dir: &'a Path,
    },
    NoClusters {
        dir: &'a Path,
    },
    InvalidSeed {
        path: &'a Path,
        kind: Kind,
    },
    InvalidPublic {
        path: &'a Path,
        kind: Kind,
    },
    InvalidUserKey {
        path: &'a Path,
        file: &'a str,
    },
    NotAFile {
        path: &'a Path,
    },
    Missing {
        path: &'a Path,
    },
    /// A CPC's leaf seed the CSC holds no pubkey for.
    NoLeafPubkey {
        path: &'a Path,
        csc_secret: &'a str,
    },
    Mismatch {
        public: &'a Path,
        seed: &'a Path,
        then: Then,
    },
}

/// Whose mode lets others in: a folder (while checking, or as `generate` is about to write in
/// it), a seed, a public key.
#[derive(Clone, Copy)]
enum ModeOf {
    Folder,
    FolderToWrite,
    Seed,
    Public,
}

/// What a pubkey that does not match its seed means where it is found.
enum Then {
    /// `generate` leaves it as it is.
    LeftUnchanged,
    /// `check` on a cluster's own pair.
    Regenerate,
    /// `check` on the CSC's pubkey of a CPC's leaf seed.
    LeafRefused,
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::Io { doing, path, error } => Diagnostic::new(
                Code::KeysIo,
                format!("cannot {doing} {}: {error}", shown(path)),
            )
            .help(
                "check the path and that you may read and write there; nothing already in the \
                 keys folder was replaced",
            ),
            Finding::Link { path, to } => {
                let to = to
                    .map(|t| format!(" (to {})", t.display()))
                    .unwrap_or_default();
                Diagnostic::new(
                    Code::KeysLink,
                    format!(
                        "{} is a symbolic link{to}: natscc keys never reads or writes a key \
                         through a link",
                        shown(path)
                    ),
                )
                .help(
                    "remove the link (and check who made it); natscc keys creates real files and \
                     folders in its place",
                )
            }
            Finding::Owner { path, found, want } => Diagnostic::new(
                Code::KeysOwner,
                format!(
                    "{} belongs to uid {found}, not to uid {want} who holds the keys: its owner \
                     could read or replace them",
                    shown(path)
                ),
            )
            .help("remove it, or generate the keys in a folder only their holder owns"),
            Finding::NotAFolder { path, what, check } => Diagnostic::new(
                Code::KeysNotAFolder,
                format!("{} is {what}, not a folder", shown(path)),
            )
            .help(if check {
                "give natscc keys check the folder natscc keys generate -o wrote"
            } else {
                "give -o a folder (natscc keys creates it if it does not exist); one folder per \
                 cluster and per Secret is natscc's"
            }),
            Finding::Mode { path, mode, of } => mode_message(path, mode, of),
            Finding::Replaced { path } => Diagnostic::new(
                Code::KeysIo,
                format!("{} was replaced while natscc read it", shown(path)),
            )
            .help("make sure nobody else writes in the keys folder, then run natscc keys again"),
            Finding::NotRegularKey { path } => Diagnostic::new(
                Code::KeysIo,
                format!("{} is not a regular file", shown(path)),
            )
            .help("remove it; natscc keys writes each key as a plain file"),
            Finding::NotRegularManifest { path } => Diagnostic::new(
                Code::KeysIo,
                format!("{} is not a regular file", shown(path)),
            )
            .help("remove it, then run natscc keys again"),
            Finding::InTheWay { path } => Diagnostic::new(
                Code::KeysIo,
                format!("{} is in the way and is not a file", shown(path)),
            )
            .help("remove it, then run natscc keys again"),
            Finding::Appeared { path } => Diagnostic::new(
                Code::KeysIo,
                format!(
                    "{} appeared while natscc wrote it; it was left unchanged",
                    shown(path)
                ),
            )
            .help("make sure no other natscc keys runs on this folder, then run it again"),
            Finding::EmptyOutput => Diagnostic::new(Code::KeysIo, "the keys folder (-o) is empty")
                .help("give -o the folder the keys go to, e.g. `-o keys/`"),
            Finding::AccountName { name } => Diagnostic::new(
                Code::AccountName,
                format!(
                    "--extra-account `{}` is not an account name: it must start with a letter \
                     and hold only letters and digits",
                    name.escape_debug()
                ),
            )
            .help(
                "give the name the values use under global.eventBus.extraAccounts, e.g. \
                 `--extra-account Analytics`",
            ),
            Finding::AccountReserved { name } => Diagnostic::new(
                Code::AccountReserved,
                format!(
                    "--extra-account `{}` is a name the compiler generates (SYS, AUTH, AUTHX, \
                     CSC, CPC, cpc*): natscc compile refuses it",
                    name.escape_debug()
                ),
            )
            .help(
                "give the name of an extra account of the values; the generated accounts' keys \
                 are made without --extra-account",
            ),
            Finding::CpcId { id } => Diagnostic::new(
                Code::ClusterId,
                format!("`{}` is not a valid CPC id", id.escape_debug()),
            )
            .help("a CPC id is lower-case letters and digits, as clusterId in the CPC's values"),
        }
    }
}

/// The words for a mode that lets group or others in.
fn mode_message(path: &Path, mode: u32, of: ModeOf) -> Diagnostic {
    let chmod = |m: &str| {
        format!(
            "chmod {m} '{}' (natscc keys creates folders 0700 and files 0600)",
            shown(path)
        )
    };
    let (message, help) = match of {
        ModeOf::Folder | ModeOf::FolderToWrite => (
            format!(
                "the folder {} is writable by group or others (mode {mode:04o}): they can \
                 plant, replace or remove keys",
                shown(path)
            ),
            chmod("go-w"),
        ),
        ModeOf::Seed => (
            format!(
                "{} holds a seed and group or others may read or write it (mode {mode:04o})",
                shown(path)
            ),
            chmod("600") + "; then replace the keys if someone else may have read them",
        ),
        ModeOf::Public => (
            format!(
                "{} is writable by group or others (mode {mode:04o}): they can replace this \
                 public key",
                shown(path)
            ),
            chmod("go-w"),
        ),
    };
    let d = Diagnostic::new(Code::KeysMode, message);
    match of {
        ModeOf::FolderToWrite => d.help(
            "natscc keys writes no key into a folder others may write: run `chmod go-w` on \
             it, or give -o a new folder",
        ),
        _ => d.help(help),
    }
}

impl From<Content<'_>> for Diagnostic {
    fn from(f: Content<'_>) -> Diagnostic {
        match f {
            Content::NoKeysFolder { dir } => Diagnostic::new(
                Code::KeysIo,
                format!("there is no keys folder at {}", shown(dir)),
            )
            .help("give natscc keys check the folder natscc keys generate -o wrote"),
            Content::NoClusters { dir } => Diagnostic::new(
                Code::KeysMissing,
                format!("{} holds no cluster folders", shown(dir)),
            )
            .help("run natscc keys generate -o on it first"),
            Content::InvalidSeed { path, kind } => Diagnostic::new(
                Code::KeysInvalid,
                format!(
                    "{} does not hold a valid {} seed (one starting with {})",
                    shown(path),
                    kind.word(),
                    kind.seed_prefix()
                ),
            )
            .help("remove the file and run natscc keys generate again to make a new key"),
            Content::InvalidPublic { path, kind } => Diagnostic::new(
                Code::KeysInvalid,
                format!(
                    "{}: expected a {} public key (starting with {})",
                    shown(path),
                    kind.word(),
                    kind.pub_prefix()
                ),
            )
            .help("remove it and run natscc keys generate again to derive it from its seed"),
            Content::InvalidUserKey { path, file } => Diagnostic::new(
                Code::KeysInvalid,
                format!("{}: not a valid user {file}", shown(path)),
            )
            .help("remove it and run natscc keys generate again"),
            Content::NotAFile { path } => {
                Diagnostic::new(Code::KeysInvalid, format!("{} is not a file", shown(path)))
                    .help("remove it and run natscc keys generate again")
            }
            Content::Missing { path } => {
                Diagnostic::new(Code::KeysMissing, format!("{} is missing", shown(path)))
                    .help("run natscc keys generate on this folder to make it")
            }
            Content::NoLeafPubkey { path, csc_secret } => Diagnostic::new(
                Code::KeysMissing,
                format!(
                    "{}: the CSC has no {csc_secret}/pubkey for this leaf seed",
                    shown(path)
                ),
            )
            .help("run natscc keys generate with every --cpc and --extra-account of the fleet"),
            Content::Mismatch { public, seed, then } => Diagnostic::new(
                Code::KeysMismatch,
                format!("{} does not match {}", shown(public), shown(seed)),
            )
            .help(match then {
                Then::LeftUnchanged => {
                    "left unchanged: remove the pubkey (or the seed) and run natscc keys \
                     generate again"
                }
                Then::Regenerate => "remove the pubkey and run natscc keys generate again",
                Then::LeafRefused => {
                    "the CPC's leaf connection is refused; remove the CSC's pubkey and run \
                     natscc keys generate again"
                }
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Files and folders, safely

/// `O_NOFOLLOW`: opening a symbolic link fails instead of following it (std names no such flag
/// and natscc takes no libc dependency; the values are the kernel's).
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64"
    )
))]
const O_NOFOLLOW: i32 = 0o100000;
#[cfg(all(
    target_os = "linux",
    not(any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64"
    ))
))]
const O_NOFOLLOW: i32 = 0o400000;
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
const O_NOFOLLOW: i32 = 0x100;
// Elsewhere the lstat/fstat comparison in `read_text` and `create_new` alone keep links out.
#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
const O_NOFOLLOW: i32 = 0;

/// The effective uid natscc runs as (who must own the keys), from /proc; `None` off Linux.
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `lstat`: what is at `path` itself (a link is not followed); `None` when nothing is.
fn lstat(path: &Path) -> io::Result<Option<Metadata>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("inspect", path, e)),
    }
}

/// Reads a regular file that is not a link, as it was when `meta` was taken (no swap between).
fn read_text(path: &Path, meta: &Metadata) -> io::Result<String> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        // Without blocking: a FIFO swapped in since `meta` must not hang the open.
        .custom_flags(O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| io_error("read", path, e))?;
    let now = f.metadata().map_err(|e| io_error("read", path, e))?;
    if (now.dev(), now.ino()) != (meta.dev(), meta.ino()) {
        return Err(Diagnostic::from(Finding::Replaced { path }).fail());
    }
    let bytes = crate::input::read_bounded(f, now.len() as usize)
        .map_err(|e| io_error("read", path, e.into()))?;
    Ok(String::from_utf8_lossy(&bytes).trim().to_string())
}

/// Creates `path` 0600 and writes `text` to it; fails if anything (a file, a link) is there.
fn write_exclusive(path: &Path, text: &str) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(O_NOFOLLOW)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Guards the keys folder of one run: everything in it belongs to `uid`.
struct Keys {
    uid: u32,
}

impl Keys {
    /// A folder where keys live: a real folder of ours that group and others cannot write, made
    /// 0700 when missing. An existing folder's mode is left as it is.
    fn folder(&self, path: &Path) -> io::Result<()> {
        match lstat(path)? {
            Some(m) => self.existing_folder(path, &m),
            None => {
                match std::fs::DirBuilder::new().mode(0o700).create(path) {
                    Ok(()) => {}
                    // Made by someone else between the two calls: judge it as found.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        return self.folder_found(path);
                    }
                    Err(e) => return Err(io_error("create the folder", path, e)),
                }
                self.made_folder(path)
            }
        }
    }

    fn folder_found(&self, path: &Path) -> io::Result<()> {
        match lstat(path)? {
            Some(m) => self.existing_folder(path, &m),
            None => Err(io_error(
                "create the folder",
                path,
                io::ErrorKind::NotFound.into(),
            )),
        }
    }

    fn existing_folder(&self, path: &Path, m: &Metadata) -> io::Result<()> {
        if m.file_type().is_symlink() {
            return Err(link_diag(path).fail());
        }
        if !m.is_dir() {
            let what = if m.is_file() {
                "a file"
            } else {
                "not a regular folder"
            };
            return Err(Diagnostic::from(Finding::NotAFolder {
                path,
                what,
                check: false,
            })
            .fail());
        }
        if m.uid() != self.uid {
            return Err(owner_diag(path, m.uid(), self.uid).fail());
        }
        match open_mode(path, m) {
            Some((mode, _)) => Err(Diagnostic::from(Finding::Mode {
                path,
                mode,
                of: ModeOf::FolderToWrite,
            })
            .fail()),
            None => Ok(()),
        }
    }

    /// A folder natscc just made: exactly 0700, whatever the umask.
    fn made_folder(&self, path: &Path) -> io::Result<()> {
        match lstat(path)? {
            Some(m) if m.is_dir() && !m.file_type().is_symlink() && m.uid() == self.uid => {
                if m.mode() & 0o7777 != 0o700 {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
                        .map_err(|e| io_error("set the mode of", path, e))?;
                }
                Ok(())
            }
            _ => self.folder_found(path),
        }
    }

    /// The text of an existing key file; `None` when there is none. A link or a file of another
    /// owner is refused; a mode that lets others in is a finding (natscc changes no mode it did
    /// not set).
    fn existing(&self, path: &Path, report: &mut Report) -> io::Result<Option<String>> {
        let Some(m) = lstat(path)? else {
            return Ok(None);
        };
        if m.file_type().is_symlink() {
            return Err(link_diag(path).fail());
        }
        if !m.is_file() {
            return Err(Diagnostic::from(Finding::NotRegularKey { path }).fail());
        }
        if m.uid() != self.uid {
            return Err(owner_diag(path, m.uid(), self.uid).fail());
        }
        if let Some(d) = mode_diag(path, &m) {
            report.problems.push(line(&d));
        }
        read_text(path, &m).map(Some)
    }

    /// Writes a new file 0600 and gives it its name, never replacing anything: the text goes to
    /// `<name>.natscc-tmp`, created exclusively (`O_CREAT|O_EXCL`, `O_NOFOLLOW`: a planted file
    /// or link there is never opened), then hard-linked to `path`, which fails if `path` exists.
    fn create(&self, path: &Path, text: &str) -> io::Result<()> {
        let name = path
            .file_name()
            .ok_or_else(|| io_error("write", path, io::ErrorKind::InvalidInput.into()))?;
        let mut tmp_name = name.to_os_string();
        tmp_name.push(TMP_SUFFIX);
        let tmp = path.with_file_name(tmp_name);
        if let Some(m) = lstat(&tmp)? {
            if m.file_type().is_symlink() {
                return Err(link_diag(&tmp).fail());
            }
            if m.uid() != self.uid {
                return Err(owner_diag(&tmp, m.uid(), self.uid).fail());
            }
            if !m.is_file() {
                return Err(Diagnostic::from(Finding::InTheWay { path: &tmp }).fail());
            }
            // Ours, left by an interrupted run.
            std::fs::remove_file(&tmp).map_err(|e| io_error("remove the leftover", &tmp, e))?;
        }
        if let Err(e) = write_exclusive(&tmp, text) {
            // A create_new that failed made nothing; a failed write leaves our own file to remove.
            if e.kind() != io::ErrorKind::AlreadyExists {
                let _ = std::fs::remove_file(&tmp);
            }
            return Err(io_error("write", &tmp, e));
        }
        let linked = match std::fs::hard_link(&tmp, path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(Diagnostic::from(Finding::Appeared { path }).fail())
            }
            // A file system without hard links: rename (the name was free a moment ago).
            Err(_) if lstat(path)?.is_none() => {
                std::fs::rename(&tmp, path).map_err(|e| io_error("write", path, e))
            }
            Err(e) => Err(io_error("write", path, e)),
            Ok(()) => Ok(()),
        };
        if lstat(&tmp)?.is_some() {
            let _ = std::fs::remove_file(&tmp);
        }
        linked
    }

    /// Reads the seed at `path`, or creates it; `None` when the file there is no seed of `kind`.
    fn seed_at(&self, path: &Path, kind: Kind, report: &mut Report) -> io::Result<Option<String>> {
        match self.existing(path, report)? {
            Some(s) => {
                report.kept += 1;
                if public_of(kind, &s).is_err() {
                    report
                        .problems
                        .push(line(&Content::InvalidSeed { path, kind }.into()));
                    return Ok(None);
                }
                Ok(Some(s))
            }
            None => {
                let s = new_seed(kind);
                self.create(path, &format!("{s}\n"))?;
                report.created.push(path.to_path_buf());
                Ok(Some(s))
            }
        }
    }

    fn public_at(
        &self,
        path: &Path,
        seed_path: &Path,
        public: &str,
        report: &mut Report,
    ) -> io::Result<()> {
        match self.existing(path, report)? {
            Some(existing) if existing == public => {
                report.kept += 1;
                Ok(())
            }
            Some(_) => {
                let found = Content::Mismatch {
                    public: path,
                    seed: seed_path,
                    then: Then::LeftUnchanged,
                };
                report.problems.push(line(&found.into()));
                Ok(())
            }
            None => {
                self.create(path, &format!("{public}\n"))?;
                report.created.push(path.to_path_buf());
                Ok(())
            }
        }
    }

    fn generate_pairs(&self, dir: &Path, pairs: &[Pair], report: &mut Report) -> io::Result<()> {
        self.folder(dir)?;
        for p in pairs {
            let (secret, file) = &p.seed;
            self.folder(&dir.join(secret))?;
            let seed_path = dir.join(secret).join(file);
            let Some(seed) = self.seed_at(&seed_path, p.kind, report)? else {
                continue;
            };
            let public = public_of(p.kind, &seed).map_err(|_| invalid_seed(&seed_path, p.kind))?;
            for (s, f) in &p.public {
                self.folder(&dir.join(s))?;
                self.public_at(&dir.join(s).join(f), &seed_path, &public, report)?;
            }
        }
        Ok(())
    }
}

/// A seed that does not decode, as `generate`'s error.
fn invalid_seed(path: &Path, kind: Kind) -> io::Error {
    Diagnostic::from(Content::InvalidSeed { path, kind }).fail()
}

fn new_seed(kind: Kind) -> String {
    match kind {
        Kind::User => KeyPair::new_user().seed().expect("fresh key has a seed"),
        Kind::Account => KeyPair::new_account().seed().expect("fresh key has a seed"),
        Kind::Curve => XKey::new().seed().expect("fresh key has a seed"),
    }
}

/// The public key of a seed of `kind`. The error says nothing of the seed.
fn public_of(kind: Kind, seed: &str) -> Result<String, ()> {
    let seed = seed.trim();
    if !seed.starts_with(kind.seed_prefix()) {
        return Err(());
    }
    match kind {
        Kind::Curve => XKey::from_seed(seed)
            .map(|k| k.public_key())
            .map_err(|_| ()),
        _ => KeyPair::from_seed(seed)
            .map(|k| k.public_key())
            .map_err(|_| ()),
    }
}

/// The output folder: a folder of ours (created 0700 with every missing parent when absent;
/// existing folders above it are not touched). Returns the uid the keys belong to.
fn output_root(out: &Path) -> io::Result<u32> {
    // `keys/` and `keys` are one path; a trailing slash would make lstat follow a link.
    let out: PathBuf = out.components().collect();
    if out.as_os_str().is_empty() {
        return Err(Diagnostic::from(Finding::EmptyOutput).fail());
    }
    let uid = match effective_uid() {
        Some(u) => u,
        // Off Linux: the owner of the folder, or of the first folder above it.
        None => out
            .ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .find_map(|a| std::fs::metadata(a).ok())
            .map(|m| m.uid())
            .unwrap_or(0),
    };
    let keys = Keys { uid };
    let absent = |e: &io::Error| {
        matches!(
            e.kind(),
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
        )
    };
    match std::fs::symlink_metadata(&out) {
        Ok(_) => {
            keys.folder(&out)?;
            return Ok(uid);
        }
        Err(e) if absent(&e) => {}
        Err(e) => return Err(io_error("inspect", &out, e)),
    }
    // The missing folders, from the top; the first existing one above them must be a folder.
    let mut missing = vec![];
    for a in out.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        match std::fs::metadata(a) {
            Ok(m) if m.is_dir() => break,
            Ok(m) => {
                let what = if m.is_file() {
                    "a file"
                } else {
                    "not a folder"
                };
                return Err(Diagnostic::from(Finding::NotAFolder {
                    path: a,
                    what,
                    check: false,
                })
                .fail());
            }
            Err(e) if absent(&e) => missing.push(a.to_path_buf()),
            Err(e) => return Err(io_error("inspect", a, e)),
        }
    }
    for (i, dir) in missing.iter().rev().enumerate() {
        if i + 1 == missing.len() {
            keys.folder(dir)?;
        } else {
            match std::fs::DirBuilder::new().mode(0o700).create(dir) {
                Ok(()) => keys.made_folder(dir)?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
                Err(e) => return Err(io_error("create the folder", dir, e)),
            }
        }
    }
    Ok(uid)
}

/// `--extra-account` takes the names compile accepts (src/check/accounts.rs has the rule).
fn extra_account_name(name: &str) -> io::Result<()> {
    use crate::check::accounts::{account_name_reserved, account_name_valid};
    if !account_name_valid(name) {
        return Err(Diagnostic::from(Finding::AccountName { name }).fail());
    }
    if account_name_reserved(name) {
        return Err(Diagnostic::from(Finding::AccountReserved { name }).fail());
    }
    Ok(())
}

/// Generates the CSC's keys, and each listed CPC's with the matching pubkeys on the CSC.
/// An `Err` carries a [`KeysError`] (exit 2); `Report::problems` are findings (exit 1).
pub fn generate(out: &Path, cpcs: &[String], extra_accounts: &[String]) -> io::Result<Report> {
    for a in extra_accounts {
        extra_account_name(a)?;
    }
    for id in cpcs {
        if !crate::check::values::valid_id(id) {
            return Err(Diagnostic::from(Finding::CpcId { id }).fail());
        }
    }
    let mut report = Report::default();
    let keys = Keys {
        uid: output_root(out)?,
    };
    let out: PathBuf = out.components().collect();
    if keys.existing(&out.join(MARKER), &mut report)?.is_none() {
        keys.create(&out.join(MARKER), "natscc keys layout 1\n")?;
    }
    let csc = out.join("csc");
    keys.generate_pairs(&csc, &cluster_pairs(), &mut report)?;
    for id in cpcs {
        let cpc = out.join(format!("cpc-{id}"));
        keys.generate_pairs(&cpc, &cluster_pairs(), &mut report)?;
        let mut leaves = vec![("nats-leaf-csc".to_string(), format!("nats-leaf-cpc-{id}"))];
        for a in extra_accounts {
            let t = crate::model::names::secret_token(a);
            leaves.push((
                format!("nats-leaf-{t}-csc"),
                format!("nats-leaf-{t}-cpc-{id}"),
            ));
        }
        for (cpc_secret, csc_secret) in leaves {
            keys.folder(&cpc.join(&cpc_secret))?;
            let seed_path = cpc.join(&cpc_secret).join("seed");
            let Some(seed) = keys.seed_at(&seed_path, Kind::User, &mut report)? else {
                continue;
            };
            let public =
                public_of(Kind::User, &seed).map_err(|_| invalid_seed(&seed_path, Kind::User))?;
            keys.folder(&csc.join(&csc_secret))?;
            keys.public_at(
                &csc.join(&csc_secret).join("pubkey"),
                &seed_path,
                &public,
                &mut report,
            )?;
        }
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// keys check

/// What `keys check` found: findings (exit 1), and errors that kept it from looking (exit 2);
/// the CLI prints them and picks the exit code.
#[derive(Debug, Default)]
pub struct Checked {
    pub findings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
}

/// Proves each seed matches its pubkey, each key has its type's prefix, and each CPC's leaf
/// seed matches the pubkey the CSC holds for it; reports every link, every file or folder of
/// another owner than the keys folder's, and every mode that lets group or others in.
pub fn inspect(dir: &Path) -> Checked {
    let mut c = Checked::default();
    let root = match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => m,
        Ok(m) => {
            let what = if m.is_file() {
                "a file"
            } else {
                "not a folder"
            };
            c.errors.push(
                Finding::NotAFolder {
                    path: dir,
                    what,
                    check: true,
                }
                .into(),
            );
            return c;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            c.errors.push(Content::NoKeysFolder { dir }.into());
            return c;
        }
        Err(e) => {
            c.errors.push(diagnostic_of(&io_error("read", dir, e)));
            return c;
        }
    };
    let owner = root.uid();
    let top: PathBuf = dir.components().collect();
    if std::fs::symlink_metadata(&top).is_ok_and(|m| m.file_type().is_symlink()) {
        c.findings.push(link_diag(&top));
    }
    c.findings.extend(mode_diag(dir, &root));
    walk(dir, owner, &mut c);

    let mut clusters: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect(),
        Err(e) => {
            c.errors.push(diagnostic_of(&io_error("read", dir, e)));
            return c;
        }
    };
    clusters.sort();
    if clusters.is_empty() {
        c.findings.push(Content::NoClusters { dir }.into());
    }
    for cl in &clusters {
        check_cluster(cl, &mut c);
    }
    check_leaf_pairs(&dir.join("csc"), &clusters, &mut c);
    c
}

/// One cluster's folder: each seed against its public keys, each leaf folder's keys valid.
fn check_cluster(cl: &Path, c: &mut Checked) {
    for p in cluster_pairs() {
        let (secret, file) = &p.seed;
        let seed_path = cl.join(secret).join(file);
        let seed = match key_text(&seed_path, c) {
            Got::Text(s) => s,
            Got::Missing => {
                c.findings
                    .push(Content::Missing { path: &seed_path }.into());
                continue;
            }
            Got::Skip => continue,
        };
        let Ok(public) = public_of(p.kind, &seed) else {
            c.findings.push(
                Content::InvalidSeed {
                    path: &seed_path,
                    kind: p.kind,
                }
                .into(),
            );
            continue;
        };
        for (s, f) in &p.public {
            let pp = cl.join(s).join(f);
            match key_text(&pp, c) {
                Got::Missing => c.findings.push(Content::Missing { path: &pp }.into()),
                Got::Skip => {}
                Got::Text(k) if !k.starts_with(p.kind.pub_prefix()) => c.findings.push(
                    Content::InvalidPublic {
                        path: &pp,
                        kind: p.kind,
                    }
                    .into(),
                ),
                Got::Text(k) if k != public => c.findings.push(
                    Content::Mismatch {
                        public: &pp,
                        seed: &seed_path,
                        then: Then::Regenerate,
                    }
                    .into(),
                ),
                Got::Text(_) => {}
            }
        }
    }
    for entry in leaf_folders(cl) {
        for file in ["seed", "pubkey"] {
            let p = entry.join(file);
            if let Got::Text(k) = key_text(&p, c) {
                let ok = if file == "seed" {
                    public_of(Kind::User, &k).is_ok()
                } else {
                    KeyPair::from_public_key(&k)
                        .is_ok_and(|kp| kp.key_pair_type() == KeyPairType::User)
                };
                if !ok {
                    c.findings
                        .push(Content::InvalidUserKey { path: &p, file }.into());
                }
            }
        }
    }
}

/// Each CPC's leaf seeds against the pubkeys on the CSC.
fn check_leaf_pairs(csc: &Path, clusters: &[PathBuf], c: &mut Checked) {
    for cl in clusters.iter().filter(|c| {
        c.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("cpc-"))
    }) {
        let id = cl
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .trim_start_matches("cpc-")
            .to_string();
        for entry in leaf_folders(cl) {
            let name = entry
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let Some(mid) = name
                .strip_prefix("nats-leaf-")
                .and_then(|r| r.strip_suffix("csc"))
            else {
                continue;
            };
            let csc_secret = format!("nats-leaf-{mid}cpc-{id}");
            let seed_path = entry.join("seed");
            let pub_path = csc.join(&csc_secret).join("pubkey");
            match (key_text(&seed_path, c), key_text(&pub_path, c)) {
                (Got::Text(seed), Got::Text(public)) => {
                    if public_of(Kind::User, &seed).ok().as_deref() != Some(public.as_str()) {
                        c.findings.push(
                            Content::Mismatch {
                                public: &pub_path,
                                seed: &seed_path,
                                then: Then::LeafRefused,
                            }
                            .into(),
                        );
                    }
                }
                (Got::Skip, _) | (_, Got::Skip) => {}
                _ => c.findings.push(
                    Content::NoLeafPubkey {
                        path: &entry,
                        csc_secret: &csc_secret,
                    }
                    .into(),
                ),
            }
        }
    }
}

/// The `nats-leaf-*` Secret folders of a cluster (real folders only; links are reported apart).
fn leaf_folders(cluster: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(cluster)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name().to_string_lossy().starts_with("nats-leaf-")
                && e.file_type().is_ok_and(|t| t.is_dir())
        })
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

enum Got {
    Text(String),
    Missing,
    /// Reported already (a link, by `walk`) or an error was recorded.
    Skip,
}

/// A key file's text for `check`, never through a link.
fn key_text(path: &Path, c: &mut Checked) -> Got {
    match lstat(path) {
        Ok(None) => Got::Missing,
        Ok(Some(m)) if m.file_type().is_symlink() => Got::Skip,
        Ok(Some(m)) if !m.is_file() => {
            c.findings.push(Content::NotAFile { path }.into());
            Got::Skip
        }
        Ok(Some(m)) => match read_text(path, &m) {
            Ok(s) => Got::Text(s),
            Err(e) => {
                c.errors.push(diagnostic_of(&e));
                Got::Skip
            }
        },
        Err(e) => {
            c.errors.push(diagnostic_of(&e));
            Got::Skip
        }
    }
}

/// Every entry under `dir`, links not followed: links, other owners, modes that let others in.
fn walk(dir: &Path, owner: u32, c: &mut Checked) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(e) => {
            c.errors.push(diagnostic_of(&io_error("read", dir, e)));
            return;
        }
    };
    entries.sort();
    for p in entries {
        let m = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) => {
                c.errors.push(diagnostic_of(&io_error("inspect", &p, e)));
                continue;
            }
        };
        if m.file_type().is_symlink() {
            c.findings.push(link_diag(&p));
            continue;
        }
        if m.uid() != owner {
            c.findings.push(owner_diag(&p, m.uid(), owner));
        }
        c.findings.extend(mode_diag(&p, &m));
        if m.is_dir() {
            walk(&p, owner, c);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Secret manifests

/// Kubernetes Secret manifests for one cluster folder (written 0600 beside the keys, as
/// `<cluster>.secrets.k8s.yaml`). Refuses a link or a file of another owner anywhere it reads,
/// and at the manifest's own path, so no file from outside the keys can land in a Secret and no
/// Secret is written through a link.
pub fn k8s_secrets(cluster_dir: &Path) -> io::Result<String> {
    let cluster_dir: PathBuf = cluster_dir.components().collect();
    let uid = match effective_uid() {
        Some(u) => u,
        None => std::fs::metadata(&cluster_dir)
            .map_err(|e| io_error("read", &cluster_dir, e))?
            .uid(),
    };
    let keys = Keys { uid };
    match lstat(&cluster_dir)? {
        Some(m) => keys.existing_folder(&cluster_dir, &m)?,
        None => {
            return Err(io_error(
                "read",
                &cluster_dir,
                io::ErrorKind::NotFound.into(),
            ));
        }
    }
    if let (Some(parent), Some(name)) = (cluster_dir.parent(), cluster_dir.file_name()) {
        let manifest = parent.join(format!("{}.secrets.k8s.yaml", name.to_string_lossy()));
        if let Some(m) = lstat(&manifest)? {
            if m.file_type().is_symlink() {
                return Err(link_diag(&manifest).fail());
            }
            if m.uid() != uid {
                return Err(owner_diag(&manifest, m.uid(), uid).fail());
            }
            if !m.is_file() {
                return Err(
                    Diagnostic::from(Finding::NotRegularManifest { path: &manifest }).fail(),
                );
            }
        }
    }
    let mut secrets = vec![];
    for e in std::fs::read_dir(&cluster_dir).map_err(|e| io_error("read", &cluster_dir, e))? {
        let e = e.map_err(|e| io_error("read", &cluster_dir, e))?;
        let t = e
            .file_type()
            .map_err(|err| io_error("inspect", &e.path(), err))?;
        if t.is_symlink() {
            return Err(link_diag(&e.path()).fail());
        }
        if t.is_dir() {
            secrets.push(e.path());
        }
    }
    secrets.sort();
    let mut docs = vec![];
    let mut scratch = Report::default();
    for s in secrets {
        keys.folder(&s)?;
        let mut files = vec![];
        for e in std::fs::read_dir(&s).map_err(|e| io_error("read", &s, e))? {
            let e = e.map_err(|e| io_error("read", &s, e))?;
            let t = e
                .file_type()
                .map_err(|err| io_error("inspect", &e.path(), err))?;
            if t.is_symlink() {
                return Err(link_diag(&e.path()).fail());
            }
            if t.is_file() && !e.file_name().to_string_lossy().ends_with(TMP_SUFFIX) {
                files.push(e.path());
            }
        }
        files.sort();
        let mut data = serde_json::Map::new();
        for f in files {
            let text = keys.existing(&f, &mut scratch)?.unwrap_or_default();
            data.insert(
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                serde_json::Value::String(text),
            );
        }
        docs.push(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": s.file_name().unwrap_or_default().to_string_lossy()},
            "stringData": data,
        }));
    }
    Ok(crate::emit::yaml::stream(&docs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written O_NOFOLLOW is the kernel's: opening a link with it fails.
    #[test]
    fn o_nofollow_refuses_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("target"), "x").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("target"), tmp.path().join("link")).unwrap();
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(O_NOFOLLOW)
            .open(tmp.path().join("link"));
        assert!(opened.is_err(), "O_NOFOLLOW followed a link");
        assert!(
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(O_NOFOLLOW)
                .open(tmp.path().join("target"))
                .is_ok()
        );
    }
}
