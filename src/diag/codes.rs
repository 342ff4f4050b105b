//! The one table of diagnostic codes, one row per rule. A code is mandatory on every diagnostic;
//! its name is stable (tools and users match on it). Each row documents its rule: a summary (in
//! `natscc rules` and SARIF rule metadata), why the finding breaks the bus, what to write
//! instead, and where the rule is shown to fire: a bad input under `fixtures/bad/` (whose text is
//! the example) or, for codes no compile of a values file can show (I/O, post-render, keys, a
//! run on servers), a named test and an example written out. `natscc rules --explain CODE` and
//! docs/rules.md print these rows (`explain.rs`); tests/rules.rs holds every row to them.

use super::Severity;

/// Where a rule is shown to fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// A bad input (`fixtures/bad/*.yaml`, or a bad fleet's `fleet.yaml`) whose `# expect:`
    /// lines name the code; its text is the rule's example.
    Fixture {
        path: &'static str,
        text: &'static str,
    },
    /// A test (`function` in `file`) that produces the code, and an example written out.
    Test {
        file: &'static str,
        function: &'static str,
        example: &'static str,
    },
}

/// A rule's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doc {
    /// One sentence: what the rule catches.
    pub summary: &'static str,
    /// Why the finding breaks the bus (or what it costs, for a warning).
    pub why: &'static str,
    /// What to write instead.
    pub fix: &'static str,
    pub shown: Shown,
}

macro_rules! shown {
    (fixture $file:literal) => {
        Shown::Fixture {
            path: concat!("fixtures/bad/", $file),
            text: include_str!(concat!("../../fixtures/bad/", $file)),
        }
    };
    (fleet $dir:literal) => {
        Shown::Fixture {
            path: concat!("fixtures/bad/fleet/", $dir, "/fleet.yaml"),
            text: include_str!(concat!("../../fixtures/bad/fleet/", $dir, "/fleet.yaml")),
        }
    };
    (test $file:literal, $function:literal, $example:literal) => {
        Shown::Test {
            file: $file,
            function: $function,
            example: $example,
        }
    };
}

macro_rules! codes {
    ($( $variant:ident = $name:literal, $sev:ident, $summary:literal,
        why: $why:literal, fix: $fix:literal, $kind:ident: $($arg:literal),+; )*) => {
        /// Every diagnostic code natscc can report.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable name, e.g. `natscc::values::cluster_id`.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// The name of the variant (`Code::ClusterId`'s is `ClusterId`), which the rules
            /// use in `src/`.
            pub fn variant(self) -> &'static str {
                match self { $( Code::$variant => stringify!($variant), )* }
            }

            /// The severity a finding of this code has unless raised by `--deny-warnings`.
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// One sentence saying what the rule catches and why it matters.
            pub fn doc(self) -> &'static str {
                self.rule().summary
            }

            /// The rule's documentation.
            pub fn rule(self) -> Doc {
                match self {
                    $( Code::$variant => Doc {
                        summary: $summary,
                        why: $why,
                        fix: $fix,
                        shown: shown!($kind $($arg),+),
                    }, )*
                }
            }
        }
    };
}

codes! {
    Io = "natscc::load::io", Error,
        "A values file could not be read.",
        why: "Nothing can be compiled from a file natscc cannot read; the message names the file \
              and the system's reason.",
        fix: "Name a file that exists and that you may read (`-f values.yaml`).",
        test: "tests/fleet.rs", "a_missing_values_file_is_named_where_the_fleet_names_it",
        r#"natscc compile -f missing.yaml -o out"#;
    InputTooLarge = "natscc::load::too_large", Error,
        "An input is larger than 16 MiB, far beyond any real values file or rendered chart; natscc \
            refuses it without reading the rest.",
        why: "A runaway input (a pipe that never ends, a wrong file) would otherwise hold natscc's \
              memory and time; no real values file or rendered chart comes near 16 MiB.",
        fix: "Give natscc the values file or the rendered chart itself, not an endless stream.",
        test: "tests/scale.rs", "inputs_that_never_end_are_refused_at_once_and_small",
        r#"natscc post-render < /dev/zero"#;
    OutputIo = "natscc::output::io", Error,
        "The output folder could not be written; nothing was changed in it.",
        why: "The output folder is replaced in one step or not at all; when it cannot be written, \
              natscc leaves the old folder as it was rather than a half-written one.",
        fix: "Give -o a folder natscc may create or replace (not a file, not a folder of files \
              natscc did not write).",
        test: "tests/no_panic.rs", "unwritable_outputs_are_refused_and_nothing_is_left_behind",
        r#"natscc compile -f values.yaml -o /proc/out"#;
    YamlSyntax = "natscc::yaml::syntax", Error,
        "A values file is not well-formed YAML.",
        why: "Helm refuses a values file it cannot parse, so nothing would be deployed.",
        fix: "Fix the YAML at the place shown (indentation, an unclosed quote or bracket).",
        fixture: "yaml-bad-indent.yaml";
    YamlDuplicateKey = "natscc::yaml::duplicate_key", Error,
        "A mapping states the same key twice; Helm keeps only one of them silently.",
        why: "Helm keeps the last of two equal keys without a word, so the first setting is lost \
              while it still reads as set.",
        fix: "Keep one of the two keys, with the value you mean.",
        fixture: "yaml-duplicate-key.yaml";
    YamlNotAMap = "natscc::yaml::not_a_map", Error,
        "A values document must be a mapping at its top level.",
        why: "Helm merges values files as mappings; a list or a scalar at the top holds no key the \
              chart reads.",
        fix: "Start the file with a top-level key such as `global:`.",
        fixture: "yaml-not-a-map.yaml";
    YamlUnknownAlias = "natscc::yaml::unknown_alias", Error,
        "An alias refers to an anchor that is not defined before it.",
        why: "An alias without its anchor has no value; Helm refuses the file.",
        fix: "Define the anchor (`&name`) before the alias (`*name`) uses it, or write the value \
              out.",
        fixture: "yaml-unknown-alias.yaml";
    YamlTooDeep = "natscc::yaml::too_deep", Error,
        "Maps and lists are nested deeper than any values file needs (a limit that keeps natscc \
            safe on any input).",
        why: "Values files need a handful of levels; past 100, natscc stops rather than risk its \
              stack on a hostile or broken file.",
        fix: "Flatten the structure, or look for runaway brackets.",
        fixture: "yaml-too-deep.yaml";
    YamlExcessiveAliasing = "natscc::yaml::excessive_aliasing", Error,
        "Aliases expand to an unreasonable number of values (an alias bomb); Helm refuses such \
            files too.",
        why: "Aliases of aliases multiply (a \"billion laughs\"): the file would expand to more \
              values than memory holds.",
        fix: "Write the shared block out, or alias it fewer times.",
        fixture: "yaml-alias-bomb.yaml";
    SetSyntax = "natscc::set::syntax", Error,
        "A --set override is not of the form path=value.",
        why: "An override natscc cannot read would be dropped, and the compiled files would not be \
              what Helm renders with the same --set.",
        fix: "Write `--set path.to.key=value`, e.g. `--set global.eventBus.cpcIds[0]=1` or `--set \
              'global.eventBus.cpcIds={1,2}'`.",
        test: "tests/cli.rs", "set_and_io_errors",
        r#"natscc compile -f values.yaml --set global.eventBus.clusterType -o out"#;
    SchemaType = "natscc::schema::type", Error,
        "A value has the wrong type for its key.",
        why: "The chart's templates print the value as written: a string where a number or a \
              boolean belongs reaches the config or the objects as something else than meant.",
        fix: "Write the value with the type the key takes (the help says which, e.g. remove the \
              quotes around `true`).",
        fixture: "type-map-for-bool.yaml";
    SchemaUnknownKey = "natscc::schema::unknown_key", Error,
        "A key under global.eventBus is not one the chart reads; a typo here is silently ignored \
            by Helm.",
        why: "Helm passes any key through, and the chart reads only the ones it knows: a misspelt \
              key leaves the setting at its default without a word.",
        fix: "Write the key as the chart spells it (the help suggests the nearest one).",
        fixture: "unknown-key-cluster-typ.yaml";
    SchemaRequired = "natscc::schema::required", Error,
        "A required key is missing.",
        why: "Without it the chart renders something incomplete, such as an auth-callout identity \
              that joins no account.",
        fix: "Add the key the message names under the block it names.",
        fixture: "schema-required.yaml";
    SchemaEnum = "natscc::schema::enum", Error,
        "A value is not one of the allowed values.",
        why: "The chart and the services it configures read only the listed values; another one \
              renders a config or object they refuse or ignore.",
        fix: "Use one of the values the message lists.",
        fixture: "route-kind-enum.yaml";
    SchemaInvalid = "natscc::schema::invalid", Error,
        "A value breaks a constraint of the values schema.",
        why: "The value has the right type but breaks a constraint of the schema (a pattern, a \
            minimum or maximum, a constant), so the chart renders a setting its consumer refuses.",
        fix: "Write a value inside the stated constraint (the help gives it).",
        fixture: "schema-invalid.yaml";
    ClusterType = "natscc::values::cluster_type", Error,
        "clusterType must be csc or cpc.",
        why: "The chart's validation refuses any other value (`helm install` fails), and every \
              generated name depends on it.",
        fix: "Write `csc` or `cpc`, in lower case.",
        fixture: "cluster-type-edge.yaml";
    UnusedForClusterType = "natscc::values::unused_for_cluster_type", Warning,
        "A key the chart reads only for the other cluster type (clusterId, cscEndpoint or \
            cpcLeafClientTLS on a CSC; cpcIds or cscLeafServerTLS on a CPC): Helm drops it without \
            a word.",
        why: "The setting does nothing on this cluster, so a value meant for the other cluster \
              type may be missing there.",
        fix: "Remove it from this cluster's values, or move it to the other cluster's.",
        test: "tests/lint_formats.rs", "keys_for_the_other_cluster_type_are_warned",
        r#"global:
  eventBus:
    clusterType: csc
    clusterId: "1""#;
    ClusterId = "natscc::values::cluster_id", Error,
        "A cluster id must be lower-case letters and digits only.",
        why: "The id is part of Secret names, env variable names and subjects; the chart's \
              validation refuses anything but lower-case letters and digits.",
        fix: "Write the id in lower-case letters and digits, quoted (`clusterId: \"7\"`).",
        fixture: "cluster-id-upper.yaml";
    MissingClusterId = "natscc::values::missing_cluster_id", Error,
        "A CPC needs a clusterId.",
        why: "A CPC's subjects, Secrets and leaf user are named after its id; without it the CPC \
              cannot be told apart from the others.",
        fix: "Add `clusterId: \"1\"` (lower-case letters and digits) under global.eventBus.",
        fixture: "cpc-missing-cluster-id.yaml";
    MissingCscEndpoint = "natscc::values::missing_csc_endpoint", Error,
        "A CPC needs the cscEndpoint its leaf connection dials.",
        why: "The CPC's leaf connection to the CSC dials this URL; without it the CPC never joins \
              the bus.",
        fix: "Add e.g. `cscEndpoint: nats://csc-gateway:7422` under global.eventBus.",
        fixture: "cpc-missing-endpoint.yaml";
    CscEndpoint = "natscc::values::csc_endpoint", Error,
        "cscEndpoint must be a nats://, tls://, ws:// or wss:// URL with a host.",
        why: "The leaf remote is rendered from this URL; a scheme nats-server does not dial or a \
              URL without a host leaves the CPC unconnected.",
        fix: "Write it as nats://HOST:7422 or tls://HOST:7422 (ws:// and wss:// for a websocket \
              listener).",
        fixture: "endpoint-http.yaml";
    DuplicateCpcId = "natscc::values::duplicate_cpc_id", Error,
        "A CPC id is listed twice in cpcIds.",
        why: "The chart's validation refuses a duplicate id (`helm install` fails: `cpcIds \
              includes duplicate ID`).",
        fix: "Remove the second entry.",
        fixture: "cpc-id-duplicate.yaml";
    Subject = "natscc::values::subject", Error,
        "A subject pattern is not a valid NATS subject.",
        why: "The chart renders the pattern into exports, imports and permissions, and nats-server \
            refuses an invalid subject there (`subject \"a..b\" is not a valid subject`): it does \
            not start.",
        fix: "Separate tokens with `.`; `*` matches one token, `>` the rest and stands last (e.g. \
              `sensor.>`).",
        fixture: "subject-empty-token.yaml";
    AccountName = "natscc::accounts::name", Error,
        "An extra account name must start with a letter and hold only letters and digits.",
        why: "The chart's validation refuses the name (`helm install` fails); it becomes an \
              account, a Secret and env variable names.",
        fix: "Choose a name of letters and digits that starts with a letter (`Analytics`).",
        fixture: "account-name-dash.yaml";
    AccountReserved = "natscc::accounts::reserved", Error,
        "An extra account uses a name the compiler generates (SYS, AUTH, AUTHX, CSC, CPC, cpc*).",
        why: "The chart's validation refuses names of built-in accounts and names starting with \
              `cpc`: they would clash with the accounts it generates.",
        fix: "Choose another name for the extra account.",
        fixture: "account-reserved-sys.yaml";
    AccountTokenCollision = "natscc::accounts::token_collision", Error,
        "Two extra accounts normalise to the same secret or env token, so their secrets would \
            collide.",
        why: "The chart's validation refuses two accounts with one env or Secret token: their \
              Secrets and env variables would be one.",
        fix: "Rename one of the two accounts so their normalised (upper- and lower-case) forms \
              differ.",
        fixture: "account-token-collision.yaml";
    AccountOwnedField = "natscc::accounts::owned_field", Warning,
        "An extra account sets a field the compiler owns; it is ignored.",
        why: "The compiler sets this field itself (on a CPC, extra accounts have JetStream off and \
              use the CSC's domain); the value written is not what runs.",
        fix: "Remove the field.",
        fixture: "owned-field-and-redundant.yaml";
    AccountField = "natscc::accounts::field", Error,
        "An extra account sets a field nats-server does not know in an account block: the server \
            refuses to start.",
        why: "nats-server refuses an account block with a key it does not know (\"unknown \
              field\"), at any value: the server does not start.",
        fix: "Use the fields an account takes; connection limits go under `limits`.",
        fixture: "account-unknown-field.yaml";
    AccountUnknown = "natscc::accounts::unknown", Error,
        "A permission or import names an account that does not exist.",
        why: "The identity's connections land in an account that does not exist on this cluster \
              (or is disabled), so the auth callout cannot place them.",
        fix: "Name an existing, enabled account (the help suggests the nearest), or enable it.",
        fixture: "permission-unknown-account.yaml";
    ReservedUser = "natscc::auth::reserved_user", Error,
        "An operator-defined NKey user uses a name the compiler generates.",
        why: "The chart's validation refuses an NKey permission with a generated user's name: the \
              two would be one user.",
        fix: "Rename the user; generated users are nack-controller, surveyor, mtls-*-leaf and \
              leaf-*-cpc-<id>.",
        fixture: "nkey-user-leaf-cpc.yaml";
    ReservedEnv = "natscc::auth::reserved_env", Error,
        "An auth-callout extra env var uses a name the compiler generates.",
        why: "The chart's validation refuses it: the generated variable carries a key the auth \
              callout reads, and two of one name shadow each other.",
        fix: "Rename the variable (e.g. with a `MY_` prefix).",
        fixture: "auth-callout-reserved-env.yaml";
    MtlsLeafTls = "natscc::mtls::leaf_tls", Warning,
        "mTLS is on on a CSC whose leaf listener serves TLS (cscLeafServerTLS): nats-mtls dials \
            that listener with remotes the chart renders without a CA or a certificate, so it \
            never joins and its MQTT clients reach nothing else.",
        why: "nats-mtls never joins the CSC, so MQTT clients on the mTLS listener reach nothing \
              else; measured by starting both releases on real servers.",
        fix: "Turn mTLS off on this CSC (`global.eventBus.mtls.enabled: false`), or serve its leaf \
              listener without TLS.",
        test: "tests/peer_scenarios.rs", "nats_mtls_cannot_join_a_csc_leaf_listener_that_verifies",
        r#"global:
  eventBus:
    clusterType: csc
    mtls:
      enabled: true
    cscLeafServerTLS:
      cert_file: /etc/nats-certs/leafnodes/tls.crt
      key_file: /etc/nats-certs/leafnodes/tls.key
      ca_file: /etc/nats-certs/leafnodes/ca.crt
      verify: true"#;
    MtlsIdentity = "natscc::auth::mtls_identity", Error,
        "An mTLS identity the auth callout can never match: it names a certificate by its common \
            name alone (`CN=<cn>`), else by its first e-mail or DNS SAN, `O=` or `OU=`; a full \
            subject (`CN=a,O=b`) is refused at every connection.",
        why: "Every client presenting that certificate is refused by the auth callout (measured on \
              real servers), so the identity grants nothing.",
        fix: "Name the certificate as the callout matches it: `CN=<common name>` alone, or its \
              first e-mail or DNS SAN, `O=` or `OU=`.",
        fixture: "mtls-identity-full-subject.yaml";
    PermissionKey = "natscc::auth::permission_key", Error,
        "A key of an identity's entry or its `permissions` the auth callout does not read: it \
            decodes permissions as a NATS JWT permissions object (`pub`/`sub` with `allow`/`deny`, \
            `resp` with `max`/`ttl`) and drops every other key without a word, so the identity is \
            less restricted than written (the server's `publish`/`subscribe` syntax leaves it \
            unrestricted).",
        why: "The callout drops the key without a word, so the identity may do more than written \
              (with the server's `publish`/`subscribe` syntax, anything).",
        fix: "Write permissions as a NATS JWT permissions object: `pub`/`sub` with `allow`/`deny`, \
              `resp` with `max`/`ttl`.",
        fixture: "auth-permissions-server-syntax.yaml";
    PermissionKeyCase = "natscc::auth::permission_key_case", Warning,
        "A key of an identity's entry or permissions written in another case: the callout reads it \
            (Go matches JSON keys without regard to case), but two spellings of one key are merged \
            without a word; write it in lower case.",
        why: "The callout reads it, but two spellings of one key are merged without a word, so one \
              of them is lost.",
        fix: "Write the key in lower case, as the chart documents it.",
        fixture: "auth-permissions-key-case.yaml";
    IdentityKeyIgnored = "natscc::auth::ignored_key", Warning,
        "A key of an identity's entry that the auth callout does not read and that is no \
            misspelling of a field it reads (a note such as `description:`): the callout drops it \
            without a word.",
        why: "The key has no effect; a reader may take it for a setting.",
        fix: "Remove it, or keep notes in YAML comments.",
        fixture: "auth-permissions-ignored-key.yaml";
    NkeyPublicKey = "natscc::auth::nkey", Error,
        "A public NKey has the wrong prefix or a bad checksum.",
        why: "No client can sign for a key that is not a valid public NKey, so the identity can \
              never connect.",
        fix: "Paste the public key (56 characters, `U` for a user) as `natscc keys generate` \
              prints it, or `${ENV_VAR}`.",
        fixture: "nkey-bad-checksum.yaml";
    SecretRefOverride = "natscc::secrets::unknown_ref", Error,
        "nkeySecretRefOverrides names a secret or key the cluster does not use.",
        why: "The override takes effect nowhere: the generated Secret it means to replace stays in \
              use.",
        fix: "Name a secret and key this cluster uses (the help lists them).",
        fixture: "override-unknown-secret.yaml";
    IgnoredChartKey = "natscc::nats_chart::ignored_key", Warning,
        "The NATS chart does not read this config key; Helm silently drops it.",
        why: "Helm passes the key through and the chart's templates never read it, so the setting \
              is lost without a word.",
        fix: "Write it where the chart reads it (the help names the place), or remove it.",
        fixture: "chart-legacy-keys.yaml";
    MaxPayload = "natscc::nats_chart::max_payload", Error,
        "max_payload is larger than max_pending; the server refuses to start.",
        why: "`nats-server -t` passes, but the server refuses to start (measured): max_payload may \
              not exceed max_pending.",
        fix: "Lower max_payload (the bus's default is 4MB; 8MB is the server's recommended \
              ceiling) or raise max_pending.",
        fixture: "max-payload.yaml";
    TlsRouteHostnames = "natscc::gateway::tlsroute_hostnames", Warning,
        "A TLSRoute without hostnames is refused by newer Gateway API versions.",
        why: "Newer Gateway API versions refuse a TLSRoute without hostnames.",
        fix: "List the SNI names clients use under the route's hostnames; they must match the \
              certificate's SANs and the clients' URL.",
        test: "tests/cli.rs", "per_code_severities_from_flags_and_the_config_file",
        r#"global:
  eventBus:
    clusterType: csc
    gateway:
      routes:
        mqttMtls:
          kind: TLSRoute"#;
    HandshakeFirst = "natscc::gateway::handshake_first", Error,
        "NATS and leaf protocols behind a TLS-passthrough route need handshake_first at both ends.",
        why: "A TLS-passthrough route forwards by SNI, which a client sends only when TLS comes \
              first; without handshake_first at both ends the connection never reaches NATS.",
        fix: "Set `handshake_first: true` in the listener's tls block and in every client, or use \
              a TCPRoute on a listener that terminates TLS.",
        fixture: "tlsroute-leaf-no-handshake.yaml";
    CrossLayerOverlap = "natscc::cross_layer::overlap", Error,
        "A subject pattern in two cross-layer lists: a cycle, an echo or a double export.",
        why: "A subject in two of the three lists is exported both ways or twice: messages loop \
              between CSC and CPC, echo back, or the server refuses the duplicate import.",
        fix: "Remove the pattern from one list, or narrow one pattern so no subject (the message \
              gives one) matches both.",
        fixture: "cross-layer-overlap-echo.yaml";
    CrossLayerDuplicate = "natscc::cross_layer::duplicate", Error,
        "The same pattern twice in one list makes a duplicate import the server refuses.",
        why: "The chart renders one import per entry, and nats-server refuses two imports of one \
              subject.",
        fix: "Remove the second entry.",
        fixture: "cross-layer-duplicate.yaml";
    CrossLayerRedundant = "natscc::cross_layer::redundant", Warning,
        "A pattern is contained in another pattern of the same list and adds nothing.",
        why: "The narrower pattern adds no subject; it is noise, and a sign the wider one may be \
              wider than meant.",
        fix: "Remove the narrower pattern (or narrow the wider one).",
        fixture: "owned-field-and-redundant.yaml";
    ImportCycle = "natscc::graph::cycle", Error,
        "Stream or service imports form a cycle; the server refuses to start.",
        why: "nats-server refuses imports that feed subjects back to where they came from, so the \
              server does not start.",
        fix: "Break the cycle: import each subject in one direction only.",
        fixture: "import-cycle-extra-accounts.yaml";
    ImportNotExported = "natscc::graph::import_not_exported", Error,
        "An import names a subject its exporting account does not export to the importer; the \
            server refuses it.",
        why: "nats-server refuses an import its exporter does not grant, so the server does not \
              start.",
        fix: "Add the subject (or a wider pattern) to the exporter's exports for the importer, or \
              import a subject it exports.",
        fixture: "import-not-exported.yaml";
    ImportUnknownAccount = "natscc::graph::unknown_account", Error,
        "An import names an account that does not exist on the server.",
        why: "nats-server refuses an import from an account it does not know.",
        fix: "Name one of the accounts the message lists, or define the account.",
        fixture: "extra-account-import-unknown.yaml";
    DuplicateImport = "natscc::graph::duplicate_import", Error,
        "An account imports the same subject from the same account twice; the server refuses it.",
        why: "nats-server refuses the second import (\"Duplicate service import subject\"), so the \
              server does not start.",
        fix: "Remove one of the two imports, or give them different `to` subjects.",
        fixture: "import-duplicate-service.yaml";
    NatsConfSyntax = "natscc::natsconf::syntax", Error,
        "A NATS config carried by the manifest stream does not parse the way nats-server reads it.",
        why: "nats-server refuses to start with a config it cannot parse.",
        fix: "Fix the values that render it; a `<< >>` value or a merge block is the usual cause.",
        test: "tests/post_render.rs",
            "a_config_that_does_not_parse_is_refused_with_its_place_in_the_stream",
        r#"# nats.conf in a ConfigMap of the stream
"max_payload": 4194304 5,"#;
    NatsConfInclude = "natscc::natsconf::include", Error,
        "An include names a file that no ConfigMap of the stream provides where the server looks, \
            or includes form a loop.",
        why: "nats-server stops at an include it cannot open (or that includes itself), so the pod \
              never starts.",
        fix: "Mount the ConfigMap key the include names where the include points, or fix the \
              include's name.",
        test: "tests/post_render.rs", "an_include_the_pod_cannot_see_is_refused",
        r#"volumes:
  - configMap:
      name: nats-accounts-config
      items:
        - key: accounts.conf
          path: cpc-accounts.conf   # nats.conf includes accounts.conf"#;
    RouteListener = "natscc::gateway::route_listener", Error,
        "A route names no listener of its Gateway, or its kind or port does not fit the listener, \
            so it never carries traffic.",
        why: "A route attached to no listener of its Gateway (or to one of the wrong kind or port) \
              carries no traffic: clients behind it never connect.",
        fix: "Name an existing listener with sectionName (the help lists them) and use its port \
              and a kind it accepts.",
        test: "tests/post_render.rs", "routes_are_checked_against_the_gateway_listeners",
        r#"parentRefs:
  - name: gateway
    sectionName: nats-clients   # the listener is nats-client"#;
    PostRenderEmpty = "natscc::post_render::empty", Error,
        "The post-renderer got no manifests on stdin; it never answers with an empty stream.",
        why: "Helm would deploy the post-renderer's answer; an empty stream would deploy nothing, \
              so natscc refuses rather than answer one.",
        fix: "Run natscc post-render from helm (`--post-renderer`), or pipe `helm template` output \
              into it.",
        test: "tests/post_render.rs", "empty_input_is_refused",
        r#"natscc post-render < /dev/null"#;
    PostRenderNothing = "natscc::post_render::no_event_bus", Warning,
        "The manifest stream holds no NATS config, so there was nothing to check.",
        why: "The stream passes unchecked; the post-renderer was probably pointed at another \
              release.",
        fix: "Point the post-renderer at the event-bus chart's release (or allow the code where \
              that is meant).",
        test: "tests/post_render.rs", "a_stream_without_nats_configs_passes_with_a_warning",
        r#"helm template other-chart | natscc post-render"#;
    PostRenderValues = "natscc::post_render::values_mismatch", Error,
        "The values given to the post-renderer compile ConfigMap contents the rendered stream does \
            not carry, or the other way round.",
        why: "The stream was rendered from other values than the ones given, so what natscc would \
              write is not what Helm deploys.",
        fix: "Pass the same values files and --set options to the post-renderer as to helm.",
        test: "tests/post_render.rs", "values_that_do_not_fit_the_stream_are_refused",
        r#"helm template -f a.yaml . | natscc post-render --values b.yaml"#;
    UnquotedId = "natscc::values::unquoted_id", Error,
        "A cluster id written as a YAML number: the chart prints it with %s, so subjects, secret \
            and env names read `%!s(float64=9)`.",
        why: "Helm accepts it, but every name and subject built from the id reads \
              `%!s(float64=9)`: Secret and env names are invalid and subjects match nothing.",
        fix: "Quote the id: `clusterId: \"9\"`.",
        fixture: "cluster-id-unquoted.yaml";
    NumberFormat = "natscc::values::number_format", Error,
        "A number of a million or more (or below 0.0001) the chart prints into a NATS config in \
            Go's %v form (`1e+06`), which nats-server refuses.",
        why: "The chart renders such numbers as `1e+06`, and nats-server refuses the config \
              (measured); quoting makes it a string, refused the same way.",
        fix: "Write the number below 1000000 (e.g. 999999), -1 for no limit, or leave the key out; \
            where the option reads a size or a duration, its own form (`1MB`, `1000s`) also works.",
        fixture: "account-limit-exponent.yaml";
    LeafTlsConflict = "natscc::nats_chart::leaf_tls_conflict", Error,
        "Both nats.config.leafnodes.tls and cscLeafServerTLS are set: the chart's later `tls` key \
            replaces the included cscLeafServerTLS block, whose settings are silently lost.",
        why: "The chart's later `tls` key replaces the included cscLeafServerTLS block, so its \
              settings (handshake_first, ca_file) are lost without a word.",
        fix: "Keep one: the leaf TLS settings in cscLeafServerTLS, or in \
              nats.config.leafnodes.tls.",
        fixture: "leaf-tls-conflict.yaml";
    OAuth2NoJwks = "natscc::auth::oauth2_no_jwks", Error,
        "OAuth2 identities on a cluster whose auth callout has no JWKS URL \
            (auth-callout.serviceConfig.jwks.url): every OAuth2 connection is rejected.",
        why: "The auth callout can verify no token without a key set, so every OAuth2 client is \
              rejected.",
        fix: "Set `auth-callout.serviceConfig.jwks.url` (with issuer and audience), or remove the \
              OAuth2 identities.",
        fixture: "oauth2-no-jwks.yaml";
    AuthCalloutVault = "natscc::auth_callout::vault", Error,
        "auth-callout.vault.enabled without its role, template filename and content, or a secret \
            path: the chart refuses to render.",
        why: "The auth-callout chart's validation fails the render (`helm install` fails).",
        fix: "Set the missing vault key the message names, or set `auth-callout.vault.enabled: \
              false`.",
        fixture: "auth-callout-vault-role.yaml";
    AuthCalloutTracingRef = "natscc::auth_callout::tracing_ref", Error,
        "OpenTelemetry operator injection without instrumentationRef or sidecarRef: the chart \
            refuses to render.",
        why: "The auth-callout chart's deployment template fails the render (`helm install` \
              fails).",
        fix: "Set the reference to the OpenTelemetry resource (`<namespace>/<name>`), or turn \
              operator injection off.",
        fixture: "auth-callout-tracing-ref.yaml";
    // --- Plain NATS chart mode (issue 6): the official chart's own values, operator mode, TLS
    // roles. ---
    ChartLegacyKey = "natscc::nats_chart::legacy_key", Error,
        "A key of the 0.x NATS chart that the 1.x chart no longer reads; the setting is silently \
            lost.",
        why: "The 1.x chart never reads the 0.x key, so the setting (JetStream, TLS, a port) is \
              silently off.",
        fix: "Write the setting where the 1.x chart reads it (the help names the place).",
        fixture: "chart-legacy-keys.yaml";
    ChartType = "natscc::nats_chart::type", Error,
        "A NATS chart value has the wrong type or an out-of-range value for its key.",
        why: "The chart's templates render the value as written, and the server refuses it or \
              reads another setting.",
        fix: "Write the value with the type and range the key takes (the help says which).",
        fixture: "chart-type-port.yaml";
    ChartTlsNoSecret = "natscc::nats_chart::tls_no_secret", Error,
        "TLS is enabled on a chart listener without secretName: the chart renders an empty tls \
            block and the listener runs without TLS.",
        why: "The chart renders an empty tls block, so the listener runs without TLS while the \
              values say it is on.",
        fix: "Set `secretName` to the Secret holding tls.crt and tls.key.",
        fixture: "chart-tls-no-secret.yaml";
    ChartRemoteUrl = "natscc::nats_chart::remote_url", Error,
        "A config.leafnodes.remotes entry without url or urls: the chart refuses to render (`helm \
            install` fails).",
        why: "The chart's `fail` stops the whole render (`helm install` fails).",
        fix: "Give the remote `url: nats-leaf://host:7422` (or a list under `urls`).",
        fixture: "chart-remote-url.yaml";
    ChartRenderFails = "natscc::nats_chart::render_fails", Error,
        "Values the NATS chart's own templates fail on (`helm install` stops with a template \
            error), such as `config.nats: null`.",
        why: "The NATS chart's own templates fail (`helm install` stops with a template error), so \
              nothing is deployed.",
        fix: "Keep the key the templates read (e.g. `config.nats`); to change a setting, set the \
              key under it.",
        fixture: "chart-nats-null.yaml";
    IncludeValue = "natscc::nats_chart::include_value", Error,
        "A config key ending in `$include` whose value the chart cannot print as a usable \
            `include` line (no string, empty, or `<< >>`): nats-server refuses the config.",
        why: "The chart prints the key as a plain key (e.g. `\"zz$include\"`), which nats-server \
              refuses (\"unknown field\").",
        fix: "Give the name of a file of the ConfigMap, relative to /etc/nats-config, e.g. \
              `00$include: auth.conf`.",
        fixture: "include-value.yaml";
    IncludeMissing = "natscc::nats_chart::include_missing", Error,
        "An include names a file in the pod's /etc/nats-config that the chart's ConfigMap does not \
            carry: nats-server refuses to start.",
        why: "The pod's /etc/nats-config holds the ConfigMap's keys only, and nats-server stops at \
              an include it cannot open (\"error parsing include file\").",
        fix: "Add the file to `configMap.merge.data`, or fix the include's name.",
        fixture: "include-missing.yaml";
    IncludeUnchecked = "natscc::nats_chart::include_unchecked", Warning,
        "An include reads a file outside the ConfigMap's folder (another volume of the pod): \
            natscc cannot see it and leaves it unchecked.",
        why: "natscc cannot see what the file holds, so none of its rules run on it.",
        fix: "Put the file in the ConfigMap (`configMap.merge.data`) and include it by its name, \
              so natscc checks it.",
        fixture: "include-unchecked.yaml";
    ConfigMapData = "natscc::nats_chart::config_map_data", Error,
        "A file added to the chart's ConfigMap (configMap.merge/patch data) that Kubernetes \
            refuses (not text, a bad key), that replaces the rendered nats.conf, or that natscc \
            cannot follow.",
        why: "Kubernetes refuses the ConfigMap (the install fails), or the rendered nats.conf is \
              replaced and the server runs another config than natscc checked.",
        fix: "Give `data` a map of file names (no `/`) to texts, add files beside nats.conf with \
              `configMap.merge.data`, and leave nats.conf to the chart.",
        fixture: "config-map-data.yaml";
    ChartTemplate = "natscc::nats_chart::template", Error,
        "A `$tplYaml` or `$tplYamlSpread` value in the part of the values natscc renders (config, \
            configMap, tlsCA): the chart evaluates it as a Go template, which natscc does not, so \
            natscc cannot know the config.",
        why: "The chart evaluates the value as a Go template with `tpl`; natscc does not, so it \
              cannot know the config it would check.",
        fix: "Write the value itself; natscc compiles the config from plain values.",
        fixture: "chart-template.yaml";
    JetStreamRoutes = "natscc::start::jetstream_routes", Error,
        "JetStream on a server with a cluster or gateway listener but no routes and no leaf remote \
            for the system account: -t passes, but JetStream does not start and the server stops.",
        why: "`nats-server -t` passes, but JetStream does not start and the server stops \
              (\"JetStream cluster requires configured routes or solicited leafnode for the system \
              account\"), measured.",
        fix: "Enable `config.cluster` (the chart writes a route to every replica), or run the \
              server without a gateway.",
        fixture: "start-jetstream-routes.yaml";
    LeafGatewaySystemAccount = "natscc::start::leaf_gateway_system_account", Error,
        "Leafnodes and a gateway both defined without a system account: -t passes, but nats-server \
            refuses to start.",
        why: "`nats-server -t` passes, but the server refuses to start (\"leaf nodes and gateways \
              (both being defined) require a system account\"), measured.",
        fix: "Name a system account: `config.merge.system_account: SYS` with `SYS` defined in \
              `config.merge.accounts`.",
        fixture: "start-leaf-gateway-system-account.yaml";
    FileRef = "natscc::values::file", Error,
        "A file named in the values (a JWT) cannot be read.",
        why: "natscc inlines the file's JWT into the config; a file it cannot read leaves nothing \
              to inline or check.",
        fix: "Give the JWT inline, as `<< $VAR >>`, or as a path relative to the values file.",
        fixture: "operator-file-missing.yaml";
    JwtDecode = "natscc::operator::jwt_decode", Error,
        "A JWT in the values does not decode (three base64url parts, JSON claims, ed25519-nkey, an \
            NKey issuer).",
        why: "nats-server refuses a JWT it cannot decode, so the operator or account is not \
              loaded.",
        fix: "Paste the JWT as nsc prints it (`nsc describe ... --raw`), or name the .jwt file.",
        fixture: "operator-jwt-decode.yaml";
    JwtSignature = "natscc::operator::jwt_signature", Error,
        "A JWT's signature does not verify against its issuer; the server refuses it.",
        why: "nats-server refuses a JWT whose signature does not verify.",
        fix: "Export the JWT again from nsc; it was altered or truncated.",
        fixture: "operator-tampered.yaml";
    JwtKind = "natscc::operator::jwt_kind", Error,
        "A JWT of the wrong kind: operator must be an operator JWT, resolver_preload holds account \
            JWTs.",
        why: "nats-server refuses an operator key holding an account JWT (and the other way \
              round).",
        fix: "Give an operator JWT as `operator`, and account JWTs in `resolver_preload`.",
        fixture: "operator-kind.yaml";
    JwtUnchecked = "natscc::operator::jwt_unchecked", Warning,
        "A JWT given by environment reference or pod path cannot be checked at compile time.",
        why: "The JWT is read only when the pod starts, so none of natscc's JWT rules judge it.",
        fix: "To have it checked, inline the JWT or name a file relative to the values file.",
        fixture: "operator-resolver-type.yaml";
    AccountIssuer = "natscc::operator::account_issuer", Error,
        "An account JWT is not issued by the operator or one of its signing keys; the server \
            rejects the account.",
        why: "nats-server rejects an account whose issuer is not the operator or one of its \
              signing keys; its clients cannot connect.",
        fix: "Sign the account with this operator (nsc, with the operator selected), or add the \
              signing key to the operator.",
        fixture: "operator-foreign-account.yaml";
    PreloadKey = "natscc::operator::preload_key", Error,
        "A resolver_preload key is not the subject of the account JWT it maps to.",
        why: "nats-server refuses a preload whose key is not the JWT's subject.",
        fix: "Key the entry by the JWT's subject (the message names it).",
        fixture: "operator-preload-key.yaml";
    SystemAccount = "natscc::operator::system_account", Error,
        "system_account must be an account public key whose JWT is preloaded.",
        why: "In operator mode the server finds the system account by its public key among the \
              preloaded account JWTs; a name, or a key without its JWT, names no account it has.",
        fix: "Use the system account's public key (starting with A) and preload its JWT.",
        fixture: "operator-system-account.yaml";
    ResolverDir = "natscc::operator::resolver_dir", Error,
        "A full (or cache) NATS resolver needs a dir.",
        why: "nats-server refuses a full or cache resolver without a dir.",
        fix: "Enable `config.resolver` (its dir defaults to /data/resolver on its own volume), or \
              set `dir`.",
        fixture: "operator-resolver-dir.yaml";
    ResolverType = "natscc::operator::resolver_type", Error,
        "A resolver map needs type full or cache (a string resolver must be MEMORY or URL(...)); \
            nats-server refuses anything else.",
        why: "nats-server refuses the resolver and does not start.",
        fix: "Use `MEMORY`, or a map `{ type: full, dir: /data/resolver }` \
              (`config.resolver.merge.type: full`).",
        fixture: "operator-resolver-type.yaml";
    OperatorMissing = "natscc::operator::missing", Error,
        "A resolver or resolver_preload without an operator JWT: there is no trust root.",
        why: "Without an operator JWT the resolver has no trust root: no account JWT can be \
              verified.",
        fix: "Set `config.merge.operator` to the operator JWT (inline, `<< $VAR >>` or a .jwt \
              file).",
        fixture: "operator-missing.yaml";
    AccountJetStream = "natscc::operator::account_jetstream", Warning,
        "An account JWT carries no JetStream limits while the server runs JetStream: its clients \
            get 'JetStream not enabled for account'.",
        why: "Clients of the account get 'JetStream not enabled for account' on a server that runs \
              JetStream.",
        fix: "Give the account JetStream limits (`nsc edit account --js-mem-storage -1 \
              --js-disk-storage -1`) and push it again.",
        fixture: "operator-resolver-dir.yaml";
    TlsMapNoVerify = "natscc::tls_auth::no_verify_and_map", Error,
        "Users keyed by certificate subject need verify_and_map on the client TLS block; without \
            it anyone can claim the name.",
        why: "Without verify_and_map the server does not map certificates to users: the user is \
              one with no password, which anyone can claim.",
        fix: "Set `verify_and_map: true` in `config.nats.tls.merge`, with a CA.",
        fixture: "tls-map-no-verify.yaml";
    TlsVerifyNoCa = "natscc::tls_auth::no_ca", Error,
        "verify or verify_and_map without a CA: client certificates from a private CA never \
            verify.",
        why: "Client certificates issued by a private CA never verify, so every client is refused.",
        fix: "Enable `tlsCA` (secretName or configMapName), or set `ca_file` in the listener's \
              `tls.merge`.",
        fixture: "tls-verify-no-ca.yaml";
    TlsReaderPublishes = "natscc::tls_auth::reader_publishes", Error,
        "A reader may publish (a natscc.tlsRoles user with role reader, or a hand-written user \
            whose name has the word reader); a reader must be subscribe-only.",
        why: "Without a publish rule a user may publish anything; a reader that writes is no \
              reader.",
        fix: "Give a reader `publish: { deny: [\">\"] }`, or rename a user who is no reader.",
        fixture: "tls-reader-publishes.yaml";
    PermissionEmpty = "natscc::tls_auth::empty_permission", Error,
        "A permission names no subject; the server reads an empty list as no restriction at all.",
        why: "nats-server reads an empty subject list as no restriction at all, so the user may do \
              everything.",
        fix: "List the subjects under `allow`, or deny everything with `deny: [\">\"]`.",
        fixture: "tls-permission-empty.yaml";
    TlsRole = "natscc::tls_auth::role", Error,
        "A natscc.tlsRoles entry is malformed (role must be superuser, admin or reader; subject a \
            certificate DN).",
        why: "natscc cannot render permissions from a malformed entry, so the user would get none \
              or the wrong ones.",
        fix: "Give `role: superuser`, `admin` or `reader`, a certificate subject such as \
              `CN=dash`, and the data `subjects`.",
        fixture: "tls-role-unknown.yaml";
    MqttJetStream = "natscc::mqtt::jetstream", Error,
        "MQTT needs JetStream on the server; a standalone server without it refuses to start.",
        why: "MQTT keeps sessions and retained messages in streams: a standalone server refuses to \
              start without JetStream, and in a cluster MQTT clients never get a CONNACK.",
        fix: "Set `config.jetstream.enabled: true`.",
        fixture: "mqtt-no-jetstream.yaml";
    MqttFileStore = "natscc::mqtt::file_store", Warning,
        "MQTT clients land in an extra account with JetStream while the file store is off (the \
            chart's default, max_file_store 0): NACK prepares MQTT streams only in the CSC and CPC \
            accounts, and the server cannot create a session stream there, so the client is \
            refused (nats-server 2.12 at CONNECT, 2.14+ at its first subscription).",
        why: "The client is refused (at CONNECT on 2.12, at its first subscription on 2.14 and \
              later, measured on real servers); NATS clients of the account are not affected.",
        fix: "Turn the file store on (`nats.config.jetstream.fileStore.enabled: true`), or have \
              MQTT clients land in the CSC or CPC account.",
        fixture: "mqtt-file-store-extra-account.yaml";
    MqttServerName = "natscc::mqtt::server_name", Error,
        "MQTT in a cluster needs an explicit server_name; the server refuses to start without it.",
        why: "The server refuses to start: clustered MQTT needs an explicit server_name.",
        fix: "Keep the chart's `server_name: $SERVER_NAME` (check config.patch).",
        fixture: "mqtt-cluster-no-server-name.yaml";
    TunableType = "natscc::tunable::type", Error,
        "A server tunable has a type nats-server refuses (a quoted size, an integer duration).",
        why: "nats-server refuses the config: a quoted size or an integer where it wants a \
              duration string.",
        fix: "Write sizes as numbers or sizes (`8MB`) and durations as strings with units \
              (`\"20s\"`).",
        fixture: "tunable-quoted-size.yaml";
    TunableBound = "natscc::tunable::bound", Error,
        "A server tunable is outside the range nats-server accepts.",
        why: "nats-server refuses a value outside its range and does not start.",
        fix: "Use a value inside the range the message gives.",
        fixture: "tunable-bounds.yaml";
    TunableAdvice = "natscc::tunable::advice", Warning,
        "A server tunable is accepted but unwise (payloads over 8 MB, zero or negative limits).",
        why: "The server starts, but a zero or negative limit means no limit or its default, \
            rarely what is meant, and the server warns that payloads over 8 MB could lead to poor \
            performance.",
        fix: "Keep messages at 8MB or less (split large payloads), and give limits positive values \
              or leave them out.",
        fixture: "tunable-bounds.yaml";
    PortConflict = "natscc::start::port_conflict", Error,
        "Two listeners share one port; -t passes but the server cannot bind at start.",
        why: "`nats-server -t` passes, but the second listener cannot bind and the server does not \
              start.",
        fix: "Give every listener its own port.",
        fixture: "port-conflict.yaml";
    JetStreamCluster = "natscc::start::jetstream_cluster", Error,
        "A clustered JetStream server needs cluster.name and server_name; the server refuses to \
            start without them.",
        why: "The server refuses to start clustered JetStream without cluster.name and \
              server_name.",
        fix: "Keep the chart's `cluster.name` and `server_name` (check config.patch and merge).",
        fixture: "jetstream-cluster-name.yaml";
    WebsocketTls = "natscc::start::websocket_tls", Error,
        "A websocket listener needs a tls block or no_tls: true; the server refuses to start \
            otherwise.",
        why: "The server refuses to start a websocket listener with neither.",
        fix: "Enable `config.websocket.tls` with a secretName, or keep the chart's `no_tls: true`.",
        fixture: "websocket-tls.yaml";
    StartHttps = "natscc::start::https_tls", Error,
        "HTTPS monitoring without a client TLS certificate; -t passes but the server refuses to \
            start.",
        why: "HTTPS monitoring serves with the client TLS certificate; `-t` passes, then the \
              server stops (\"TLS cert and key required for HTTPS\").",
        fix: "Enable `config.nats.tls` with a secretName, or turn `config.monitor.tls` off.",
        fixture: "start-https-no-cert.yaml";
    ChartEmbeddedRef = "natscc::nats_chart::embedded_ref", Warning,
        "A `<< ... >>` inside a longer string: the chart unwraps only a whole value, so the text \
            reaches nats.conf literally.",
        why: "The chart unwraps `<< ... >>` only when it is the whole value, so nats.conf gets the \
              text literally.",
        fix: "Make the reference the whole value, or write the text without `<< >>`.",
        fixture: "natscc-unknown-key.yaml";
    NatsccKey = "natscc::values::natscc_key", Error,
        "A key under `natscc` (natscc's own shortcuts) that natscc does not know.",
        why: "A misspelt shortcut key is dropped, and what it should have rendered (roles, a \
              version) is missing without a word.",
        fix: "Write the key as natscc spells it (the help suggests the nearest).",
        fixture: "natscc-unknown-key.yaml";
    StartSystemAccount = "natscc::start::system_account", Error,
        "system_account names no defined account, or JetStream is enabled on it; the server \
            refuses to start.",
        why: "The server refuses to start with a system account it does not define, or one with \
              JetStream.",
        fix: "Define the account under `config.merge.accounts` (or drop system_account for the \
              built-in $SYS), and keep JetStream users in another account.",
        fixture: "start-system-account.yaml";
    // The fleet: rules across the clusters of one fleet file (src/fleet/).
    FleetFile = "natscc::fleet::file", Error,
        "The fleet file does not follow schema/fleet.schema.json, or names one cluster twice.",
        why: "natscc cannot know which clusters make up the fleet, so none is compiled.",
        fix: "Follow schema/fleet.schema.json and give each cluster one name.",
        fleet: "fleet-file-unknown-key";
    FleetClusterName = "natscc::fleet::cluster_name", Warning,
        "A fleet cluster's name differs from the name its values give it (csc or cpc-<id>).",
        why: "The fleet's name and the cluster's NATS name disagree; a reader of the fleet file is \
              misled about which cluster is which.",
        fix: "Name the cluster as its values do (`csc` or `cpc-<id>`), or fix its clusterId.",
        fleet: "cluster-name";
    FleetOneCsc = "natscc::fleet::one_csc", Error,
        "A fleet needs exactly one CSC, the hub every CPC's leaf connection dials.",
        why: "Every CPC's leaf connection dials the one CSC; with none (or two) the CPCs have no \
              hub.",
        fix: "Put exactly one cluster with `clusterType: csc` in the fleet file.",
        fleet: "no-csc";
    FleetCpcIds = "natscc::fleet::cpc_ids", Error,
        "The CSC's cpcIds and the CPCs' clusterIds are not the same set: a CPC has no leaf user, \
            or the CSC waits for a CPC that does not exist.",
        why: "A CPC the CSC does not list has no leaf user there and is refused; an id without a \
              CPC waits for nothing.",
        fix: "Make the CSC's cpcIds and the CPCs' clusterIds the same set.",
        fleet: "cpc-id-not-listed";
    FleetDuplicateCpcId = "natscc::fleet::duplicate_cpc_id", Error,
        "Two CPCs of the fleet share a clusterId, so they share subjects, leaf users and stream \
            prefixes.",
        why: "Two CPCs with one id share subjects, leaf users and stream prefixes: their traffic \
              mixes.",
        fix: "Give each CPC its own clusterId.",
        fleet: "duplicate-cpc-id";
    FleetEndpointPort = "natscc::fleet::endpoint_port", Error,
        "A CPC's cscEndpoint dials a port other than the CSC's leaf listener (or the Gateway \
            listener of its leaf route).",
        why: "The CPC dials a port where the CSC does not listen for leaf connections, so it never \
              joins.",
        fix: "Dial the port of the CSC's leaf listener, or of the Gateway listener its leaf route \
              uses.",
        fleet: "endpoint-port-server";
    FleetEndpointScheme = "natscc::fleet::endpoint_scheme", Error,
        "A CPC's cscEndpoint scheme does not fit the CSC's leaf listener (TLS, TLS terminated at \
            the Gateway, websocket).",
        why: "The CPC's scheme does not fit what the CSC's listener serves (TLS, TLS terminated at \
              the Gateway, websocket), so the leaf connection fails.",
        fix: "Use the scheme the leaf listener (or the Gateway in front of it) expects.",
        fleet: "endpoint-scheme-tls";
    FleetLeafTls = "natscc::fleet::leaf_tls", Error,
        "Leaf TLS or handshake_first is on at one end of the leaf connection only, or missing \
            where the route needs it.",
        why: "Leaf TLS and handshake_first must agree at both ends; otherwise the leaf connection \
              is refused or never reaches NATS.",
        fix: "Set TLS (and handshake_first where the route needs it) at both ends, or at neither.",
        fleet: "leaf-tls-one-end";
    FleetLeafAccount = "natscc::fleet::leaf_account", Error,
        "A CPC binds a leaf connection to an extra account the CSC does not have; the CSC has no \
            leaf user for it.",
        why: "The CSC has no leaf user for the account, so the CPC's leaf connection for it is \
              refused.",
        fix: "Add the account to the CSC's `global.eventBus.extraAccounts`, or disable it on this \
              CPC.",
        fleet: "leaf-account";
    FleetRouteSection = "natscc::fleet::route_section", Error,
        "A Gateway route names a Gateway or a sectionName (listener) the cluster's Gateway does \
            not have; it never carries traffic.",
        why: "A route attached to no Gateway or listener of the cluster carries no traffic.",
        fix: "Set the route's gatewayName and sectionName to the cluster's Gateway and listener, \
              or correct the fleet file.",
        fleet: "route-section";
    FleetRouteKind = "natscc::fleet::route_kind", Error,
        "A route's kind does not fit its listener: a TLSRoute needs a TLS Passthrough listener, a \
            TCPRoute a TCP or TLS Terminate one.",
        why: "The Gateway does not attach a route of the wrong kind to the listener, so it carries \
              no traffic.",
        fix: "Make the route a TLSRoute on a Passthrough listener, or a TCPRoute on a TCP or TLS \
              Terminate one.",
        fleet: "route-kind";
    FleetMtlsHostname = "natscc::fleet::mtls_hostname", Error,
        "The host of an mTLS broker URL, the TLSRoute hostnames and the server certificate SANs do \
            not agree; the handshake never reaches NATS.",
        why: "SNI routing and certificate verification both need one name: with a mismatch the \
              handshake never reaches NATS.",
        fix: "Make the broker URL's host, the route's hostnames and the certificate's SANs name \
              the same host.",
        fleet: "mtls-hostname";
    // natscc keys: the NKeys folder (src/keys.rs).
    KeysIo = "natscc::keys::io", Error,
        "natscc keys could not read or write the keys folder, or there is no keys folder where it \
            was pointed.",
        why: "natscc keys stops without changing what is there; nothing was replaced.",
        fix: "Check the path and that you may read and write there.",
        test: "tests/keys_safety.rs", "failures_are_coded_with_the_readme_exit_codes",
        r#"natscc keys check /nonexistent"#;
    KeysNotAFolder = "natscc::keys::not_a_folder", Error,
        "natscc keys needs a folder where there is a file (or something else): -o, or a cluster or \
            Secret folder of the layout.",
        why: "A key layout is folders of files; writing into a file's place would destroy it.",
        fix: "Give -o a folder (natscc keys creates it if it does not exist).",
        test: "tests/keys_safety.rs", "failures_are_coded_with_the_readme_exit_codes",
        r#"natscc keys generate -o values.yaml"#;
    KeysLink = "natscc::keys::link", Error,
        "A symbolic link where keys live: natscc keys never reads or writes a key through one, so \
            nothing outside the folder can be read into a Secret or overwritten.",
        why: "A link could make natscc read a file from outside the folder into a Secret, or \
              overwrite one.",
        fix: "Remove the link (and check who made it); natscc keys creates real files and folders.",
        test: "tests/keys_safety.rs", "check_reports_links_and_foreign_owners",
        r#"ln -s /etc/passwd keys/csc/nats-surveyor/seed"#;
    KeysOwner = "natscc::keys::owner", Error,
        "A file or folder where keys live belongs to another user, who could read or replace the \
            keys.",
        why: "Another user who owns a key file or folder could read or replace the keys.",
        fix: "Remove it, or generate the keys in a folder only their holder owns.",
        test: "tests/keys_safety.rs", "check_reports_links_and_foreign_owners",
        r#"chown nobody keys/csc/nats-surveyor/seed"#;
    KeysMode = "natscc::keys::mode", Error,
        "A seed or Secret manifest that group or others may read or write, a public key or folder \
            that they may write.",
        why: "Others who may read a seed may connect as its user; others who may write a key may \
              replace it.",
        fix: "Make seeds and Secret manifests readable by their owner only (0600), and keys and \
              folders writable by their owner only.",
        test: "tests/keys_safety.rs", "check_reports_open_folders",
        r#"chmod 777 keys/csc/nats-xkey"#;
    KeysMissing = "natscc::keys::missing", Error,
        "A seed or public key the layout needs is missing.",
        why: "The Secrets made from the layout would miss a key, and the user or service it is for \
              cannot connect.",
        fix: "Run `natscc keys generate` with every --cpc and --extra-account of the fleet.",
        test: "tests/keys_safety.rs", "failures_are_coded_with_the_readme_exit_codes",
        r#"rm keys/csc/nats-surveyor/pubkey"#;
    KeysMismatch = "natscc::keys::mismatch", Error,
        "A public key does not match its seed (or the CSC's pubkey for a CPC leaf does not match \
            the CPC's leaf seed); the connection is refused.",
        why: "The server knows the public key, the client signs with the seed: the connection is \
              refused.",
        fix: "Remove the public key and run `natscc keys generate` again to derive it from its \
              seed.",
        test: "tests/keys_safety.rs", "check_reports_mismatched_and_invalid_keys",
        r#"cp keys/cpc-1/nats-mtls-leaf/pubkey keys/cpc-1/nats-surveyor/pubkey"#;
    KeysInvalid = "natscc::keys::invalid", Error,
        "A key file does not hold a valid NKey of the type its place needs.",
        why: "A key of the wrong type or no key at all cannot sign or be verified; the server or \
              the callout refuses it.",
        fix: "Remove the file and run `natscc keys generate` again.",
        test: "tests/keys_safety.rs", "check_reports_mismatched_and_invalid_keys",
        r#"echo SUAnotaseed > keys/csc/nats-surveyor/seed"#;
    // Secrets in the values and values the server refuses (issue 11).
    SecretSeed = "natscc::secrets::seed", Error,
        "A private NKey seed is written in the values where natscc copies it (a config, a \
            ConfigMap, a listing): it would reach the outputs in clear. Give the public key and \
            keep the seed in a Secret.",
        why: "The seed would reach the configs, ConfigMaps and listings in clear, where anyone who \
              reads them may connect as its owner.",
        fix: "Write the public key instead (`natscc keys` prints it; a user's starts with U, an \
              account's with A), keep the seed in a Kubernetes Secret, and treat this seed as \
              leaked: rotate it.",
        fixture: "secret-seed-user-nkey.yaml";
    ClearPassword = "natscc::secrets::clear_password", Error,
        "A clear-text password or token in the values (a user's `password`/`pass`, an \
            `authorization` token, route credentials, a URL's `user:password@`): the chart copies \
            it into a config and its ConfigMap. Use an NKey user, a bcrypt hash, or a variable set \
            from a Secret.",
        why: "The chart copies it into a config and its ConfigMap, readable by anyone who reads \
              the ConfigMap.",
        fix: "Use an NKey user, a bcrypt hash, or a variable set from a Secret.",
        fixture: "secret-clear-password.yaml";
    UserNkey = "natscc::accounts::user_nkey", Error,
        "An extra account's user has an nkey that is not a public user NKey (56 characters, U, \
            valid checksum), or an NKey user with a name or password: nats-server refuses the \
            config.",
        why: "nats-server refuses the config (\"Not a valid public nkey for a user\"), so it does \
              not start.",
        fix: "Write the user's public key (56 characters, starting with U), and no name or \
              password beside it.",
        fixture: "user-nkey-invalid.yaml";
    DuplicateUser = "natscc::accounts::duplicate_user", Error,
        "The same user NKey (or user name) twice in the accounts: nats-server refuses the config \
            (\"Duplicate nkey detected\").",
        why: "nats-server refuses the config (\"Duplicate nkey detected\"), so it does not start.",
        fix: "Give each user its own key and name: a user belongs to one account.",
        fixture: "user-nkey-duplicate.yaml";
    ConfUnknownKey = "natscc::server::unknown_key", Error,
        "A key of the NATS config (from a config.merge block, or a block's merge: cluster, \
            jetstream, leafnodes, mqtt, websocket, gateway) that no nats-server release natscc \
            knows reads there: it refuses the config (\"unknown field\").",
        why: "nats-server refuses a config with a key it does not know (\"unknown field\"), so the \
              pod crash-loops.",
        fix: "Spell the option as nats-server does, in the block that reads it.",
        fixture: "merge-unknown-key.yaml";
    ServerVersionOption = "natscc::server::version_option", Error,
        "An option of the NATS config that the nats-server release the chart deploys does not read \
            (a later release does): that release refuses the config (\"unknown field\") and the \
            pod crash-loops. The finding names the first release that reads it and where the \
            deployed release came from.",
        why: "The deployed release refuses the config (\"unknown field\") and the pod crash-loops, \
              though a later release would run it.",
        fix: "Remove the option, or deploy a release that reads it (`container.image.tag`).",
        fixture: "version-option.yaml";
    ServerVersionUnreadable = "natscc::version::unreadable", Warning,
        "The image a NATS release runs names no one nats-server release (a digest, a fullImageName \
            without a version tag, a tag like latest): natscc judges its config as the chart's \
            default, 2.12.6, until a version is stated (natscc.serverVersion or --server-version).",
        why: "Options are judged against a release the image may not run, so a finding may be \
              missing or wrong.",
        fix: "State the release: `natscc.serverVersion: \"2.12.6\"` in the values, or \
              `--server-version`.",
        fixture: "version-unreadable.yaml";
    ServerVersionUnmeasured = "natscc::version::unmeasured", Warning,
        "The image names a nats-server release natscc has measured no table for: its config is \
            judged as the nearest measured release below it.",
        why: "The nearest measured release below may lack options the deployed one reads, so such \
              an option is refused though it would run.",
        fix: "State a measured release in natscc.serverVersion if the image runs one, or remove \
              the option.",
        fixture: "version-unmeasured.yaml";
    ServerVersionInvalid = "natscc::version::invalid", Error,
        "natscc.serverVersion (or --server-version) is not a nats-server release (write \
            major.minor.patch, e.g. \"2.12.6\").",
        why: "natscc cannot pick the table of options to judge the config with.",
        fix: "Write one release, quoted: `serverVersion: \"2.12.6\"`.",
        fixture: "version-invalid.yaml";
    ConfType = "natscc::server::type", Error,
        "A NATS config option (from a config.merge block or a block's merge) has a type or value \
            the deployed nats-server refuses (a quoted port, `jetstream: 5`, a list for a size, \
            `\"abc\"` for a duration or a size, 70000 MQTT pending acks).",
        why: "The deployed nats-server refuses the config, so the pod crash-loops.",
        fix: "Give the option the type and form it takes (the help says which: a number, a \
              duration with its unit, a size).",
        fixture: "merge-types.yaml";
    ConfNestedList = "natscc::server::nested_list", Error,
        "A list directly inside a list: no nats-server option reads one, and it refuses the \
            config.",
        why: "No option reads a list of lists, and nats-server refuses the config.",
        fix: "Write the inner list's entries directly in the outer one (`users: [{nkey: U...}]`, \
              not `users: [[...]]`).",
        fixture: "merge-nested-list.yaml";
    // natscc diff: what an upgrade does to the running bus (src/diff/).
    DiffPlainChart = "natscc::diff::plain_chart", Error,
        "natscc diff compares event-bus values (with global.eventBus); the plain NATS chart's \
            values are not diffed.",
        why: "The upgrade plan is drawn in the event bus's terms (clusters, crossings, the \
              callout); values of the official chart alone have none of them.",
        fix: "Diff event-bus values; for the plain chart, compare `natscc compile` outputs.",
        test: "tests/diff.rs", "plain_chart_values_are_not_diffed",
        r#"natscc diff --from nats-values.yaml -f nats-values.yaml"#;
    DiffManifest = "natscc::diff::manifest", Error,
        "The --from-manifest stream cannot be read as a release's rendered manifests, or holds \
            no nats-config ConfigMap of an event-bus release; with --fleet, a release of the \
            stream names no cluster (NATS_CLUSTER_NAME) or one twice.",
        why: "Without what runs there is nothing to compare the new values with.",
        fix: "Pipe the release's own manifest (`helm get manifest RELEASE | natscc diff \
              --from-manifest - -f values.yaml`); for a fleet, every release's whole manifest \
              once, one after the other (`--fleet fleet.yaml --from-manifest all.yaml`); or \
              name the old values with --from.",
        test: "tests/diff.rs",
        "no_change_exits_0_and_new_values_with_errors_are_refused_before_any_plan",
        r#"natscc diff -f values.yaml"#;
    DiffRevision = "natscc::diff::revision", Error,
        "git show REV:PATH failed for --from-rev: the revision or the values file at it does not \
            exist, or git is not there.",
        why: "The old side of the plan is the values files as they were at the revision; without \
              them there is no plan.",
        fix: "Name a revision the repository has (`origin/main`) where the -f files exist, or use \
              --from with the old files.",
        test: "tests/diff.rs", "from_rev_reads_the_values_files_at_a_revision",
        r#"natscc diff --from-rev nope -f values.yaml"#;
}
