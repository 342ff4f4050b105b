//! The one table of diagnostic codes. A code is mandatory on every diagnostic; its
//! name is stable (tools and users match on it) and its doc line becomes the rule's
//! documentation in `natscc explain-code` and SARIF rule metadata.

use super::Severity;

macro_rules! codes {
    ($( $variant:ident = $name:literal, $sev:ident, $doc:literal; )*) => {
        /// Every diagnostic code natscc can report.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable name, e.g. `natscc::values::cluster_id`.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// The severity a finding of this code has unless raised by `--deny-warnings`.
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// One sentence saying what the rule catches and why it matters.
            pub fn doc(self) -> &'static str {
                match self { $( Code::$variant => $doc, )* }
            }
        }
    };
}

codes! {
    Io = "natscc::load::io", Error, "A values file could not be read.";
    YamlSyntax = "natscc::yaml::syntax", Error, "A values file is not well-formed YAML.";
    YamlDuplicateKey = "natscc::yaml::duplicate_key", Error, "A mapping states the same key twice; Helm keeps only one of them silently.";
    YamlNotAMap = "natscc::yaml::not_a_map", Error, "A values document must be a mapping at its top level.";
    YamlUnknownAlias = "natscc::yaml::unknown_alias", Error, "An alias refers to an anchor that is not defined before it.";
    SetSyntax = "natscc::set::syntax", Error, "A --set override is not of the form path=value.";
    SchemaType = "natscc::schema::type", Error, "A value has the wrong type for its key.";
    SchemaUnknownKey = "natscc::schema::unknown_key", Error, "A key under global.eventBus is not one the chart reads; a typo here is silently ignored by Helm.";
    SchemaRequired = "natscc::schema::required", Error, "A required key is missing.";
    SchemaEnum = "natscc::schema::enum", Error, "A value is not one of the allowed values.";
    SchemaInvalid = "natscc::schema::invalid", Error, "A value breaks a constraint of the values schema.";
    ClusterType = "natscc::values::cluster_type", Error, "clusterType must be csc or cpc.";
    ClusterId = "natscc::values::cluster_id", Error, "A cluster id must be lower-case letters and digits only.";
    MissingClusterId = "natscc::values::missing_cluster_id", Error, "A CPC needs a clusterId.";
    MissingCscEndpoint = "natscc::values::missing_csc_endpoint", Error, "A CPC needs the cscEndpoint its leaf connection dials.";
    CscEndpoint = "natscc::values::csc_endpoint", Error, "cscEndpoint must be a nats://, tls://, ws:// or wss:// URL with a host.";
    DuplicateCpcId = "natscc::values::duplicate_cpc_id", Error, "A CPC id is listed twice in cpcIds.";
    Subject = "natscc::values::subject", Error, "A subject pattern is not a valid NATS subject.";
    AccountName = "natscc::accounts::name", Error, "An extra account name must start with a letter and hold only letters and digits.";
    AccountReserved = "natscc::accounts::reserved", Error, "An extra account uses a name the compiler generates (SYS, AUTH, AUTHX, CSC, CPC, cpc*).";
    AccountTokenCollision = "natscc::accounts::token_collision", Error, "Two extra accounts normalise to the same secret or env token, so their secrets would collide.";
    AccountOwnedField = "natscc::accounts::owned_field", Warning, "An extra account sets a field the compiler owns; it is ignored.";
    AccountUnknown = "natscc::accounts::unknown", Error, "A permission or import names an account that does not exist.";
    ReservedUser = "natscc::auth::reserved_user", Error, "An operator-defined NKey user uses a name the compiler generates.";
    ReservedEnv = "natscc::auth::reserved_env", Error, "An auth-callout extra env var uses a name the compiler generates.";
    NkeyPublicKey = "natscc::auth::nkey", Error, "A public NKey has the wrong prefix or a bad checksum.";
    SecretRefOverride = "natscc::secrets::unknown_ref", Error, "nkeySecretRefOverrides names a secret or key the cluster does not use.";
    IgnoredChartKey = "natscc::nats_chart::ignored_key", Warning, "The NATS chart does not read this config key; Helm silently drops it.";
    MaxPayload = "natscc::nats_chart::max_payload", Error, "max_payload is larger than max_pending; the server refuses to start.";
    TlsRouteHostnames = "natscc::gateway::tlsroute_hostnames", Warning, "A TLSRoute without hostnames is refused by newer Gateway API versions.";
    HandshakeFirst = "natscc::gateway::handshake_first", Error, "NATS and leaf protocols behind a TLS-passthrough route need handshake_first at both ends.";
    CrossLayerOverlap = "natscc::cross_layer::overlap", Error, "A subject pattern in two cross-layer lists: a cycle, an echo or a double export.";
    CrossLayerDuplicate = "natscc::cross_layer::duplicate", Error, "The same pattern twice in one list makes a duplicate import the server refuses.";
    CrossLayerRedundant = "natscc::cross_layer::redundant", Warning, "A pattern is contained in another pattern of the same list and adds nothing.";
    ImportCycle = "natscc::graph::cycle", Error, "Stream or service imports form a cycle; the server refuses to start.";
    ImportNotExported = "natscc::graph::import_not_exported", Error, "An import names a subject its exporting account does not export to the importer; the server refuses it.";
    ImportUnknownAccount = "natscc::graph::unknown_account", Error, "An import names an account that does not exist on the server.";
    DuplicateImport = "natscc::graph::duplicate_import", Error, "An account imports the same subject from the same account twice; the server refuses it.";
    // The fleet: rules across the clusters of one fleet file (src/fleet/).
    FleetFile = "natscc::fleet::file", Error, "The fleet file does not follow schema/fleet.schema.json, or names one cluster twice.";
    FleetClusterName = "natscc::fleet::cluster_name", Warning, "A fleet cluster's name differs from the name its values give it (csc or cpc-<id>).";
    FleetOneCsc = "natscc::fleet::one_csc", Error, "A fleet needs exactly one CSC, the hub every CPC's leaf connection dials.";
    FleetCpcIds = "natscc::fleet::cpc_ids", Error, "The CSC's cpcIds and the CPCs' clusterIds are not the same set: a CPC has no leaf user, or the CSC waits for a CPC that does not exist.";
    FleetDuplicateCpcId = "natscc::fleet::duplicate_cpc_id", Error, "Two CPCs of the fleet share a clusterId, so they share subjects, leaf users and stream prefixes.";
    FleetEndpointPort = "natscc::fleet::endpoint_port", Error, "A CPC's cscEndpoint dials a port other than the CSC's leaf listener (or the Gateway listener of its leaf route).";
    FleetEndpointScheme = "natscc::fleet::endpoint_scheme", Error, "A CPC's cscEndpoint scheme does not fit the CSC's leaf listener (TLS, TLS terminated at the Gateway, websocket).";
    FleetLeafTls = "natscc::fleet::leaf_tls", Error, "Leaf TLS or handshake_first is on at one end of the leaf connection only, or missing where the route needs it.";
    FleetLeafAccount = "natscc::fleet::leaf_account", Error, "A CPC binds a leaf connection to an extra account the CSC does not have; the CSC has no leaf user for it.";
    FleetRouteSection = "natscc::fleet::route_section", Error, "A Gateway route names a Gateway or a sectionName (listener) the cluster's Gateway does not have; it never carries traffic.";
    FleetRouteKind = "natscc::fleet::route_kind", Error, "A route's kind does not fit its listener: a TLSRoute needs a TLS Passthrough listener, a TCPRoute a TCP or TLS Terminate one.";
    FleetMtlsHostname = "natscc::fleet::mtls_hostname", Error, "The host of an mTLS broker URL, the TLSRoute hostnames and the server certificate SANs do not agree; the handshake never reaches NATS.";
}
