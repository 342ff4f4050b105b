//! `natscc up`'s local certificate authority: it issues every certificate the running configs
//! name (server certificates for TLS listeners, leaf TLS at both ends, route TLS) and a client
//! certificate for each mTLS identity of the values. Everything lives in the run's temporary
//! folder (0700), every file 0600, and goes with the folder.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use std::path::Path;

/// The CA of one run.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM: what every `ca_file` of the running configs holds.
    pub cert_pem: String,
}

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// A certificate and its key, PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl LocalCa {
    pub fn new() -> std::io::Result<LocalCa> {
        let key = KeyPair::generate().map_err(io)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "natscc up local CA");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(io)?;
        Ok(LocalCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A certificate for a server end (a listener; routes and leaf connections use it for both
    /// ends, so it also serves as a client certificate): `sans` as DNS names or IP addresses.
    pub fn server(&self, sans: &[String]) -> std::io::Result<Issued> {
        let mut params = CertificateParams::new(sans.to_vec()).map_err(io)?;
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            sans.first().cloned().unwrap_or_default(),
        );
        params.distinguished_name = dn;
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        self.sign(params)
    }

    /// A client certificate whose subject is `subject` (`CN=mqtt-client.csc,O=Acme`, as an mTLS
    /// identity of permissions.json names it).
    pub fn client(&self, subject: &str) -> std::io::Result<Issued> {
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(subject)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> std::io::Result<Issued> {
        let key = KeyPair::generate().map_err(io)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(io)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// `CN=a,O=b,OU=c` (RFC 4514 order as written, `\,` escapes a comma) as a distinguished name.
pub fn distinguished_name(subject: &str) -> std::io::Result<DistinguishedName> {
    let mut dn = DistinguishedName::new();
    let mut parts = vec![];
    let mut cur = String::new();
    let mut chars = subject.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            ',' => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let (ty, value) = part.split_once('=').ok_or_else(|| {
            io(format!(
                "`{part}` in the subject `{subject}` is not TYPE=value"
            ))
        })?;
        let ty = match ty.trim().to_ascii_uppercase().as_str() {
            "CN" => DnType::CommonName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "C" => DnType::CountryName,
            "ST" => DnType::StateOrProvinceName,
            "L" => DnType::LocalityName,
            other => {
                return Err(io(format!(
                    "the subject `{subject}` names `{other}`, which natscc up cannot put in a \
                     certificate (CN, O, OU, C, ST, L)"
                )));
            }
        };
        dn.push(ty, value.trim());
    }
    Ok(dn)
}

/// Writes a private file (0600, created exclusively): keys and certificates of the run.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn subjects() {
        let dn = super::distinguished_name("CN=mqtt-client.csc, O=Acme\\, Inc").unwrap();
        let got: Vec<String> = dn.iter().map(|(_, v)| format!("{v:?}")).collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(super::distinguished_name("XX=1").is_err());
    }
}
