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
    InputTooLarge = "natscc::load::too_large", Error, "An input is larger than 16 MiB, far beyond any real values file or rendered chart; natscc refuses it without reading the rest.";
    OutputIo = "natscc::output::io", Error, "The output folder could not be written; nothing was changed in it.";
    YamlSyntax = "natscc::yaml::syntax", Error, "A values file is not well-formed YAML.";
    YamlDuplicateKey = "natscc::yaml::duplicate_key", Error, "A mapping states the same key twice; Helm keeps only one of them silently.";
    YamlNotAMap = "natscc::yaml::not_a_map", Error, "A values document must be a mapping at its top level.";
    YamlUnknownAlias = "natscc::yaml::unknown_alias", Error, "An alias refers to an anchor that is not defined before it.";
    YamlTooDeep = "natscc::yaml::too_deep", Error, "Maps and lists are nested deeper than any values file needs (a limit that keeps natscc safe on any input).";
    YamlExcessiveAliasing = "natscc::yaml::excessive_aliasing", Error, "Aliases expand to an unreasonable number of values (an alias bomb); Helm refuses such files too.";
    SetSyntax = "natscc::set::syntax", Error, "A --set override is not of the form path=value.";
    SchemaType = "natscc::schema::type", Error, "A value has the wrong type for its key.";
    SchemaUnknownKey = "natscc::schema::unknown_key", Error, "A key under global.eventBus is not one the chart reads; a typo here is silently ignored by Helm.";
    SchemaRequired = "natscc::schema::required", Error, "A required key is missing.";
    SchemaEnum = "natscc::schema::enum", Error, "A value is not one of the allowed values.";
    SchemaInvalid = "natscc::schema::invalid", Error, "A value breaks a constraint of the values schema.";
    ClusterType = "natscc::values::cluster_type", Error, "clusterType must be csc or cpc.";
    UnusedForClusterType = "natscc::values::unused_for_cluster_type", Warning, "A key the chart reads only for the other cluster type (clusterId, cscEndpoint or cpcLeafClientTLS on a CSC; cpcIds or cscLeafServerTLS on a CPC): Helm drops it without a word.";
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
    AccountField = "natscc::accounts::field", Error, "An extra account sets a field nats-server does not know in an account block: the server refuses to start.";
    AccountUnknown = "natscc::accounts::unknown", Error, "A permission or import names an account that does not exist.";
    ReservedUser = "natscc::auth::reserved_user", Error, "An operator-defined NKey user uses a name the compiler generates.";
    ReservedEnv = "natscc::auth::reserved_env", Error, "An auth-callout extra env var uses a name the compiler generates.";
    MtlsLeafTls = "natscc::mtls::leaf_tls", Warning, "mTLS is on on a CSC whose leaf listener serves TLS (cscLeafServerTLS): nats-mtls dials that listener with remotes the chart renders without a CA or a certificate, so it never joins and its MQTT clients reach nothing else.";
    MtlsIdentity = "natscc::auth::mtls_identity", Error, "An mTLS identity the auth callout can never match: it names a certificate by its common name alone (`CN=<cn>`), else by its first e-mail or DNS SAN, `O=` or `OU=`; a full subject (`CN=a,O=b`) is refused at every connection.";
    PermissionKey = "natscc::auth::permission_key", Error, "A key of an identity's entry or its `permissions` the auth callout does not read: it decodes permissions as a NATS JWT permissions object (`pub`/`sub` with `allow`/`deny`, `resp` with `max`/`ttl`) and drops every other key without a word, so the identity is less restricted than written (the server's `publish`/`subscribe` syntax leaves it unrestricted).";
    PermissionKeyCase = "natscc::auth::permission_key_case", Warning, "A key of an identity's entry or permissions written in another case: the callout reads it (Go matches JSON keys without regard to case), but two spellings of one key are merged without a word; write it in lower case.";
    IdentityKeyIgnored = "natscc::auth::ignored_key", Warning, "A key of an identity's entry that the auth callout does not read and that is no misspelling of a field it reads (a note such as `description:`): the callout drops it without a word.";
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
    UnquotedId = "natscc::values::unquoted_id", Error, "A cluster id written as a YAML number: the chart prints it with %s, so subjects, secret and env names read `%!s(float64=9)`.";
    NumberFormat = "natscc::values::number_format", Error, "A number of a million or more (or below 0.0001) the chart prints into a NATS config in Go's %v form (`1e+06`), which nats-server refuses.";
    LeafTlsConflict = "natscc::nats_chart::leaf_tls_conflict", Error, "Both nats.config.leafnodes.tls and cscLeafServerTLS are set: the chart's later `tls` key replaces the included cscLeafServerTLS block, whose settings are silently lost.";
    OAuth2NoJwks = "natscc::auth::oauth2_no_jwks", Error, "OAuth2 identities on a cluster whose auth callout has no JWKS URL (auth-callout.serviceConfig.jwks.url): every OAuth2 connection is rejected.";
    AuthCalloutVault = "natscc::auth_callout::vault", Error, "auth-callout.vault.enabled without its role, template filename and content, or a secret path: the chart refuses to render.";
    AuthCalloutTracingRef = "natscc::auth_callout::tracing_ref", Error, "OpenTelemetry operator injection without instrumentationRef or sidecarRef: the chart refuses to render.";
    // --- Plain NATS chart mode (issue 6): the official chart's own values, operator mode, TLS
    // roles. ---
    ChartLegacyKey = "natscc::nats_chart::legacy_key", Error, "A key of the 0.x NATS chart that the 1.x chart no longer reads; the setting is silently lost.";
    ChartType = "natscc::nats_chart::type", Error, "A NATS chart value has the wrong type or an out-of-range value for its key.";
    ChartTlsNoSecret = "natscc::nats_chart::tls_no_secret", Error, "TLS is enabled on a chart listener without secretName: the chart renders an empty tls block and the listener runs without TLS.";
    ChartRemoteUrl = "natscc::nats_chart::remote_url", Error, "A config.leafnodes.remotes entry without url or urls: the chart refuses to render (`helm install` fails).";
    ChartRenderFails = "natscc::nats_chart::render_fails", Error, "Values the NATS chart's own templates fail on (`helm install` stops with a template error), such as `config.nats: null`.";
    IncludeValue = "natscc::nats_chart::include_value", Error, "A config key ending in `$include` whose value the chart cannot print as a usable `include` line (no string, empty, or `<< >>`): nats-server refuses the config.";
    IncludeMissing = "natscc::nats_chart::include_missing", Error, "An include names a file in the pod's /etc/nats-config that the chart's ConfigMap does not carry: nats-server refuses to start.";
    IncludeUnchecked = "natscc::nats_chart::include_unchecked", Warning, "An include reads a file outside the ConfigMap's folder (another volume of the pod): natscc cannot see it and leaves it unchecked.";
    ConfigMapData = "natscc::nats_chart::config_map_data", Error, "A file added to the chart's ConfigMap (configMap.merge/patch data) that Kubernetes refuses (not text, a bad key), that replaces the rendered nats.conf, or that natscc cannot follow.";
    ChartTemplate = "natscc::nats_chart::template", Error, "A `$tplYaml` or `$tplYamlSpread` value in the part of the values natscc renders (config, configMap, tlsCA): the chart evaluates it as a Go template, which natscc does not, so natscc cannot know the config.";
    JetStreamRoutes = "natscc::start::jetstream_routes", Error, "JetStream on a server with a cluster or gateway listener but no routes and no leaf remote for the system account: -t passes, but JetStream does not start and the server stops.";
    LeafGatewaySystemAccount = "natscc::start::leaf_gateway_system_account", Error, "Leafnodes and a gateway both defined without a system account: -t passes, but nats-server refuses to start.";
    FileRef = "natscc::values::file", Error, "A file named in the values (a JWT) cannot be read.";
    JwtDecode = "natscc::operator::jwt_decode", Error, "A JWT in the values does not decode (three base64url parts, JSON claims, ed25519-nkey, an NKey issuer).";
    JwtSignature = "natscc::operator::jwt_signature", Error, "A JWT's signature does not verify against its issuer; the server refuses it.";
    JwtKind = "natscc::operator::jwt_kind", Error, "A JWT of the wrong kind: operator must be an operator JWT, resolver_preload holds account JWTs.";
    JwtUnchecked = "natscc::operator::jwt_unchecked", Warning, "A JWT given by environment reference or pod path cannot be checked at compile time.";
    AccountIssuer = "natscc::operator::account_issuer", Error, "An account JWT is not issued by the operator or one of its signing keys; the server rejects the account.";
    PreloadKey = "natscc::operator::preload_key", Error, "A resolver_preload key is not the subject of the account JWT it maps to.";
    SystemAccount = "natscc::operator::system_account", Error, "system_account must be an account public key whose JWT is preloaded.";
    ResolverDir = "natscc::operator::resolver_dir", Error, "A full (or cache) NATS resolver needs a dir.";
    ResolverType = "natscc::operator::resolver_type", Error, "A resolver map needs type full or cache (a string resolver must be MEMORY or URL(...)); nats-server refuses anything else.";
    OperatorMissing = "natscc::operator::missing", Error, "A resolver or resolver_preload without an operator JWT: there is no trust root.";
    AccountJetStream = "natscc::operator::account_jetstream", Warning, "An account JWT carries no JetStream limits while the server runs JetStream: its clients get 'JetStream not enabled for account'.";
    TlsMapNoVerify = "natscc::tls_auth::no_verify_and_map", Error, "Users keyed by certificate subject need verify_and_map on the client TLS block; without it anyone can claim the name.";
    TlsVerifyNoCa = "natscc::tls_auth::no_ca", Error, "verify or verify_and_map without a CA: client certificates from a private CA never verify.";
    TlsReaderPublishes = "natscc::tls_auth::reader_publishes", Error, "A reader may publish (a natscc.tlsRoles user with role reader, or a hand-written user whose name has the word reader); a reader must be subscribe-only.";
    PermissionEmpty = "natscc::tls_auth::empty_permission", Error, "A permission names no subject; the server reads an empty list as no restriction at all.";
    TlsRole = "natscc::tls_auth::role", Error, "A natscc.tlsRoles entry is malformed (role must be superuser, admin or reader; subject a certificate DN).";
    MqttJetStream = "natscc::mqtt::jetstream", Error, "MQTT needs JetStream on the server; a standalone server without it refuses to start.";
    MqttFileStore = "natscc::mqtt::file_store", Warning, "MQTT clients land in an extra account with JetStream while the file store is off (the chart's default, max_file_store 0): NACK prepares MQTT streams only in the CSC and CPC accounts, and the server cannot create a session stream there, so the client is refused (nats-server 2.12 at CONNECT, 2.14+ at its first subscription).";
    MqttServerName = "natscc::mqtt::server_name", Error, "MQTT in a cluster needs an explicit server_name; the server refuses to start without it.";
    TunableType = "natscc::tunable::type", Error, "A server tunable has a type nats-server refuses (a quoted size, an integer duration).";
    TunableBound = "natscc::tunable::bound", Error, "A server tunable is outside the range nats-server accepts.";
    TunableAdvice = "natscc::tunable::advice", Warning, "A server tunable is accepted but unwise (payloads over 8 MB, zero or negative limits).";
    PortConflict = "natscc::start::port_conflict", Error, "Two listeners share one port; -t passes but the server cannot bind at start.";
    JetStreamCluster = "natscc::start::jetstream_cluster", Error, "A clustered JetStream server needs cluster.name and server_name; the server refuses to start without them.";
    WebsocketTls = "natscc::start::websocket_tls", Error, "A websocket listener needs a tls block or no_tls: true; the server refuses to start otherwise.";
    StartHttps = "natscc::start::https_tls", Error, "HTTPS monitoring without a client TLS certificate; -t passes but the server refuses to start.";
    ChartEmbeddedRef = "natscc::nats_chart::embedded_ref", Warning, "A `<< ... >>` inside a longer string: the chart unwraps only a whole value, so the text reaches nats.conf literally.";
    NatsccKey = "natscc::values::natscc_key", Error, "A key under `natscc` (natscc's own shortcuts) that natscc does not know.";
    StartSystemAccount = "natscc::start::system_account", Error, "system_account names no defined account, or JetStream is enabled on it; the server refuses to start.";
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
    // natscc keys: the NKeys folder (src/keys.rs).
    KeysIo = "natscc::keys::io", Error, "natscc keys could not read or write the keys folder, or there is no keys folder where it was pointed.";
    KeysNotAFolder = "natscc::keys::not_a_folder", Error, "natscc keys needs a folder where there is a file (or something else): -o, or a cluster or Secret folder of the layout.";
    KeysLink = "natscc::keys::link", Error, "A symbolic link where keys live: natscc keys never reads or writes a key through one, so nothing outside the folder can be read into a Secret or overwritten.";
    KeysOwner = "natscc::keys::owner", Error, "A file or folder where keys live belongs to another user, who could read or replace the keys.";
    KeysMode = "natscc::keys::mode", Error, "A seed or Secret manifest that group or others may read or write, a public key or folder that they may write.";
    KeysMissing = "natscc::keys::missing", Error, "A seed or public key the layout needs is missing.";
    KeysMismatch = "natscc::keys::mismatch", Error, "A public key does not match its seed (or the CSC's pubkey for a CPC leaf does not match the CPC's leaf seed); the connection is refused.";
    KeysInvalid = "natscc::keys::invalid", Error, "A key file does not hold a valid NKey of the type its place needs.";
    // Secrets in the values and values the server refuses (issue 11).
    SecretSeed = "natscc::secrets::seed", Error, "A private NKey seed is written in the values where natscc copies it (a config, a ConfigMap, a listing): it would reach the outputs in clear. Give the public key and keep the seed in a Secret.";
    ClearPassword = "natscc::secrets::clear_password", Error, "A clear-text password or token in the values (a user's `password`/`pass`, an `authorization` token, route credentials, a URL's `user:password@`): the chart copies it into a config and its ConfigMap. Use an NKey user, a bcrypt hash, or a variable set from a Secret.";
    UserNkey = "natscc::accounts::user_nkey", Error, "An extra account's user has an nkey that is not a public user NKey (56 characters, U, valid checksum), or an NKey user with a name or password: nats-server refuses the config.";
    DuplicateUser = "natscc::accounts::duplicate_user", Error, "The same user NKey (or user name) twice in the accounts: nats-server refuses the config (\"Duplicate nkey detected\").";
    ConfUnknownKey = "natscc::server::unknown_key", Error, "A key of the NATS config (from a config.merge block, or a block's merge: cluster, jetstream, leafnodes, mqtt, websocket, gateway) that no nats-server release natscc knows reads there: it refuses the config (\"unknown field\").";
    ServerVersionOption = "natscc::server::version_option", Error, "An option of the NATS config that the nats-server release the chart deploys does not read (a later release does): that release refuses the config (\"unknown field\") and the pod crash-loops. The finding names the first release that reads it and where the deployed release came from.";
    ServerVersionUnreadable = "natscc::version::unreadable", Warning, "The image a NATS release runs names no one nats-server release (a digest, a fullImageName without a version tag, a tag like latest): natscc judges its config as the chart's default, 2.12.6, until a version is stated (natscc.serverVersion or --server-version).";
    ServerVersionUnmeasured = "natscc::version::unmeasured", Warning, "The image names a nats-server release natscc has measured no table for: its config is judged as the nearest measured release below it.";
    ServerVersionInvalid = "natscc::version::invalid", Error, "natscc.serverVersion (or --server-version) is not a nats-server release (write major.minor.patch, e.g. \"2.12.6\").";
    ConfType = "natscc::server::type", Error, "A NATS config option (from a config.merge block or a block's merge) has a type or value the deployed nats-server refuses (a quoted port, `jetstream: 5`, a list for a size, `\"abc\"` for a duration or a size, 70000 MQTT pending acks).";
    ConfNestedList = "natscc::server::nested_list", Error, "A list directly inside a list: no nats-server option reads one, and it refuses the config.";
    // natscc diff: what an upgrade does to the running bus (issue 21, src/diff/).
    DiffPlainChart = "natscc::diff::plain_chart", Error, "natscc diff compares event-bus values (with global.eventBus); the plain NATS chart's values are not diffed.";
    DiffManifest = "natscc::diff::manifest", Error, "The --from-manifest stream cannot be read as a release's rendered manifests, or holds no nats-config ConfigMap of an event-bus release.";
    DiffRevision = "natscc::diff::revision", Error, "git show REV:PATH failed for --from-rev: the revision or the values file at it does not exist, or git is not there.";
}
