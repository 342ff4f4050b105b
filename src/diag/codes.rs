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
    NatsConfSyntax = "natscc::natsconf::syntax", Error, "A NATS config carried by the manifest stream does not parse the way nats-server reads it.";
    NatsConfInclude = "natscc::natsconf::include", Error, "An include names a file that no ConfigMap of the stream provides where the server looks, or includes form a loop.";
    RouteListener = "natscc::gateway::route_listener", Error, "A route names no listener of its Gateway, or its kind or port does not fit the listener, so it never carries traffic.";
    PostRenderEmpty = "natscc::post_render::empty", Error, "The post-renderer got no manifests on stdin; it never answers with an empty stream.";
    PostRenderNothing = "natscc::post_render::no_event_bus", Warning, "The manifest stream holds no NATS config, so there was nothing to check.";
    PostRenderValues = "natscc::post_render::values_mismatch", Error, "The values given to the post-renderer compile ConfigMap contents the rendered stream does not carry, or the other way round.";
}
