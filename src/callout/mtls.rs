//! Client certificates as the peer checks them: the first certificate of the first verified
//! chain the server sends, verified against the mTLS CA for client authentication (no
//! intermediates, as Go's `Verify` with only `Roots`), and the identity taken from it in the
//! peer's order: `CN=<common name>`, the first e-mail SAN, the first DNS SAN, `O=<org>`,
//! `OU=<unit>`.

use data_encoding::BASE64;
use rustls_pki_types::{CertificateDer, UnixTime};

/// The DER blocks of every `CERTIFICATE` in a PEM text.
pub fn pem_certs(pem: &str) -> Vec<Vec<u8>> {
    let mut out = vec![];
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + 27..];
        let Some(end) = body.find("-----END CERTIFICATE-----") else {
            break;
        };
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(der) = BASE64.decode(b64.as_bytes()) {
            out.push(der);
        }
        rest = &body[end + 25..];
    }
    out
}

/// The CA certificates, as Go's `AppendCertsFromPEM` (false when none parses).
pub struct CaPool {
    roots: Vec<CertificateDer<'static>>,
}

impl CaPool {
    pub fn from_pem(pem: &[u8]) -> Result<CaPool, String> {
        let text = String::from_utf8_lossy(pem);
        let roots: Vec<_> = pem_certs(&text)
            .into_iter()
            .filter(|d| {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(d.as_slice())).is_ok()
            })
            .map(CertificateDer::from)
            .collect();
        if roots.is_empty() && !pem.is_empty() {
            return Err("failed to parse CA certificate".into());
        }
        Ok(CaPool { roots })
    }

    /// Go's `x509.Certificate.Verify` with these roots and the client-auth usage; errors in
    /// Go's words where there is one.
    fn verify(&self, der: &[u8]) -> Result<(), String> {
        let anchors: Vec<_> = self
            .roots
            .iter()
            .filter_map(|r| webpki::anchor_from_trusted_cert(r).ok())
            .collect();
        let cert = CertificateDer::from(der);
        let ee = webpki::EndEntityCert::try_from(&cert).map_err(|e| format!("x509: {e}"))?;
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &[],
            UnixTime::now(),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| match e {
            // Go names a candidate CA whose signature does not verify an unknown authority too.
            webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey => {
                "x509: certificate signed by unknown authority".into()
            }
            webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
                "x509: certificate has expired or is not yet valid".into()
            }
            webpki::Error::RequiredEkuNotFoundContext(_) => {
                "x509: certificate specifies an incompatible key usage".into()
            }
            other => format!("x509: {other}"),
        })
    }
}

/// The peer's `extractIdentity`; `None` when the certificate names nothing it reads.
fn identity(cert: &x509_parser::certificate::X509Certificate<'_>) -> Option<String> {
    use x509_parser::extensions::GeneralName;
    let subject = cert.subject();
    // Go's pkix.Name keeps the last CN attribute.
    if let Some(cn) = subject
        .iter_common_name()
        .filter_map(|a| a.as_str().ok())
        .last()
        .filter(|s| !s.is_empty())
    {
        return Some(format!("CN={cn}"));
    }
    let sans: Vec<GeneralName<'_>> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|s| s.value.general_names.clone())
        .unwrap_or_default();
    if let Some(e) = sans.iter().find_map(|g| match g {
        GeneralName::RFC822Name(e) => Some(e.to_string()),
        _ => None,
    }) {
        return Some(e);
    }
    if let Some(d) = sans.iter().find_map(|g| match g {
        GeneralName::DNSName(d) => Some(d.to_string()),
        _ => None,
    }) {
        return Some(d);
    }
    if let Some(o) = subject.iter_organization().find_map(|a| a.as_str().ok()) {
        return Some(format!("O={o}"));
    }
    if let Some(ou) = subject
        .iter_organizational_unit()
        .find_map(|a| a.as_str().ok())
    {
        return Some(format!("OU={ou}"));
    }
    None
}

/// The peer's `Authenticate`: parse, verify against the CA (when it holds any), identity.
pub fn identify(cert_pem: &str, ca: &CaPool) -> Result<String, String> {
    let der = pem_certs(cert_pem)
        .into_iter()
        .next()
        .ok_or("failed to parse certificate: failed to decode PEM block")?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der).map_err(|e| {
        format!("failed to parse certificate: failed to parse certificate: x509: {e}")
    })?;
    if !ca.roots.is_empty() {
        ca.verify(&der)
            .map_err(|e| format!("certificate validation failed: {e}"))?;
    }
    identity(&cert).ok_or_else(|| "could not extract identity from certificate".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_ca() -> (rcgen::Issuer<'static, rcgen::KeyPair>, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, "ca");
        let pem = p.self_signed(&key).unwrap().pem();
        (rcgen::Issuer::new(p, key), pem)
    }

    fn leaf(
        ca: &rcgen::Issuer<'static, rcgen::KeyPair>,
        dn: &[(rcgen::DnType, &str)],
        sans: Vec<rcgen::SanType>,
        eku: rcgen::ExtendedKeyUsagePurpose,
    ) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        for (t, v) in dn {
            p.distinguished_name.push(t.clone(), *v);
        }
        p.subject_alt_names = sans;
        p.extended_key_usages = vec![eku];
        p.signed_by(&key, ca).unwrap().pem()
    }

    /// The peer's identity order, and the CA and usage checks.
    #[test]
    fn identities_and_verification() {
        use rcgen::{DnType, ExtendedKeyUsagePurpose as E, SanType};
        let (ca, ca_pem) = new_ca();
        let pool = CaPool::from_pem(ca_pem.as_bytes()).unwrap();
        let cn = leaf(
            &ca,
            &[
                (DnType::OrganizationName, "Org"),
                (DnType::CommonName, "gw"),
            ],
            vec![],
            E::ClientAuth,
        );
        assert_eq!(identify(&cn, &pool).unwrap(), "CN=gw");
        let email = leaf(
            &ca,
            &[(DnType::OrganizationName, "Org")],
            vec![
                SanType::DnsName("h.example".try_into().unwrap()),
                SanType::Rfc822Name("a@example.com".try_into().unwrap()),
            ],
            E::ClientAuth,
        );
        assert_eq!(identify(&email, &pool).unwrap(), "a@example.com");
        let dns = leaf(
            &ca,
            &[],
            vec![SanType::DnsName("h.example".try_into().unwrap())],
            E::ClientAuth,
        );
        assert_eq!(identify(&dns, &pool).unwrap(), "h.example");
        let org = leaf(
            &ca,
            &[(DnType::OrganizationName, "Org")],
            vec![],
            E::ClientAuth,
        );
        assert_eq!(identify(&org, &pool).unwrap(), "O=Org");
        let server_only = leaf(&ca, &[(DnType::CommonName, "srv")], vec![], E::ServerAuth);
        assert_eq!(
            identify(&server_only, &pool).unwrap_err(),
            "certificate validation failed: x509: certificate specifies an incompatible key usage"
        );
        let (other, _) = new_ca();
        let foreign = leaf(&other, &[(DnType::CommonName, "gw")], vec![], E::ClientAuth);
        assert_eq!(
            identify(&foreign, &pool).unwrap_err(),
            "certificate validation failed: x509: certificate signed by unknown authority"
        );
        assert!(CaPool::from_pem(b"not a pem").is_err());
    }
}
