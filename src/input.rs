//! Every input natscc reads, bounded: values files, the fleet file, the severity config, a
//! lint pattern's matches, the post-renderer's standard input, and the files `up` and the auth
//! callout read. An input that never ends (`/dev/zero`, a FIFO nobody writes to) or that is
//! larger than any real values file is refused with a reason, without reading the rest, so no
//! input makes natscc slow or huge.

use std::io::Read;
use std::path::Path;

/// The most natscc reads of one input: 16 MiB. A real values file is a few KB, a big fleet's
/// CSC with 10,000 `cpcIds` about 100 KB, and a rendered event-bus chart about 100 KB.
pub const MAX_BYTES: u64 = 16 << 20;

/// The limit as the README and the diagnostics state it.
pub const MAX_TEXT: &str = "16 MiB";

/// Why an input was not read.
#[derive(Debug)]
pub enum Refused {
    /// A folder, FIFO, device or socket where a file was expected: what it is.
    NotAFile(&'static str),
    /// More than [`MAX_BYTES`]; nothing past the limit was read.
    TooLarge,
    /// A regular file that is not UTF-8 text.
    NotUtf8,
    Io(std::io::Error),
}

impl Refused {
    /// The diagnostic code: too large has its own, the rest are the load's I/O errors.
    pub fn code(&self) -> crate::diag::Code {
        match self {
            Refused::TooLarge => crate::diag::Code::InputTooLarge,
            _ => crate::diag::Code::Io,
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::NotAFile(what) => write!(f, "it is {what}, not a regular file"),
            Refused::TooLarge => write!(f, "it is larger than {MAX_TEXT}, the most natscc reads"),
            Refused::NotUtf8 => write!(f, "it is not UTF-8 text"),
            Refused::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<Refused> for std::io::Error {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Io(e) => e,
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// What a file type is, for a refusal; `None` for a regular file.
fn not_a_file(t: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a folder")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("something else")
    }
}

/// Reads a regular file of at most [`MAX_BYTES`]. Anything else is refused before a byte is
/// read: its type from `stat`, then again from the opened descriptor (opened without blocking,
/// so a FIFO swapped in meanwhile cannot hang the open), and its size before reading.
pub fn read(path: &Path) -> Result<Vec<u8>, Refused> {
    use std::os::unix::fs::OpenOptionsExt;
    let meta = std::fs::metadata(path).map_err(Refused::Io)?;
    if let Some(what) = not_a_file(meta.file_type()) {
        return Err(Refused::NotAFile(what));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(Refused::Io)?;
    let meta = file.metadata().map_err(Refused::Io)?;
    if let Some(what) = not_a_file(meta.file_type()) {
        return Err(Refused::NotAFile(what));
    }
    if meta.len() > MAX_BYTES {
        return Err(Refused::TooLarge);
    }
    // A file's stated size may be 0 (`/proc`) or grow while it is read: the read is bounded.
    read_bounded(file, meta.len() as usize)
}

/// [`read`] as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, Refused> {
    String::from_utf8(read(path)?).map_err(|_| Refused::NotUtf8)
}

/// Reads a stream (standard input, a socket) to its end, refusing it past [`MAX_BYTES`]:
/// `/dev/zero` or an endless pipe costs one limit's worth of reading, then ends.
pub fn read_bounded(r: impl Read, size_hint: usize) -> Result<Vec<u8>, Refused> {
    let mut buf = Vec::with_capacity(size_hint.min(MAX_BYTES as usize) + 1);
    r.take(MAX_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(Refused::Io)?;
    if buf.len() as u64 > MAX_BYTES {
        return Err(Refused::TooLarge);
    }
    Ok(buf)
}

/// Standard input, bounded. A pipe or a terminal is read (that is what standard input is); a
/// folder (`< dir` where a shell allows it) is refused.
pub fn read_stdin() -> Result<Vec<u8>, Refused> {
    let stdin = std::io::stdin();
    let lock = stdin.lock();
    // SAFETY: fstat on descriptor 0 into a zeroed stat buffer; nothing else is touched.
    let is_dir = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(0, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFDIR
    };
    if is_dir {
        return Err(Refused::NotAFile("a folder"));
    }
    read_bounded(lock, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_folders_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read(dir.path()), Err(Refused::NotAFile(_))));
        assert!(matches!(
            read(Path::new("/dev/zero")),
            Err(Refused::NotAFile(_))
        ));
        let fifo = dir.path().join("fifo.yaml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path in a fresh temporary folder.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer: a blocking open would hang here.
        assert!(matches!(read(&fifo), Err(Refused::NotAFile(_))));
    }

    #[test]
    fn a_file_past_the_limit_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        let f = std::fs::File::create(&big).unwrap();
        // Sparse: the size says it all, no byte is read.
        f.set_len(MAX_BYTES + 1).unwrap();
        assert!(matches!(read(&big), Err(Refused::TooLarge)));
        f.set_len(MAX_BYTES).unwrap();
        assert_eq!(read(&big).unwrap().len() as u64, MAX_BYTES);
        let zeros = std::fs::File::open("/dev/zero").unwrap();
        assert!(matches!(read_bounded(zeros, 0), Err(Refused::TooLarge)));
    }
}
