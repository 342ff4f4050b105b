//! Writes a set of NATS JWTs for fixtures and demos, signed with fresh NKeys:
//! `cargo run --example jwt_fixtures -- DIR`. Only public material is written (JWTs and
//! public keys); the seeds live in memory for the run and are then gone.
//!
//! DIR/operator.jwt      operator with one signing key and system account SYS
//! DIR/sys.jwt           SYS, signed by the operator's signing key
//! DIR/services.jwt      SERVICES, JetStream limits, signed by the operator
//! DIR/iot.jwt           IOT, JetStream limits
//! DIR/iot-no-js.jwt     IOT without JetStream limits (seed 002's "JetStream not enabled")
//! DIR/foreign.jwt       an account signed by another operator
//! DIR/tampered.jwt      sys.jwt with one signature byte flipped
//! DIR/user.jwt          a user JWT (the wrong kind for resolver_preload)
//! DIR/keys.txt          the public keys, for values files

use natscc::check::nats_chart::jwt;
use nkeys::KeyPair;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: jwt_fixtures DIR"));
    std::fs::create_dir_all(&dir).expect("create DIR");
    let operator = KeyPair::new_operator();
    let signing = KeyPair::new_operator();
    let sys = KeyPair::new_account();
    let services = KeyPair::new_account();
    let iot = KeyPair::new_account();
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), format!("{text}\n")).expect("write")
    };

    let op = jwt::encode(
        jwt::operator_claims(
            "fzymgc-house",
            &operator,
            &[signing.public_key()],
            Some(&sys.public_key()),
        ),
        &operator,
    );
    write("operator.jwt", &op);
    let sys_jwt = jwt::encode(
        jwt::account_claims("SYS", &sys.public_key(), false, &[]),
        &signing,
    );
    write("sys.jwt", &sys_jwt);
    write(
        "services.jwt",
        &jwt::encode(
            jwt::account_claims("SERVICES", &services.public_key(), true, &[]),
            &operator,
        ),
    );
    write(
        "iot.jwt",
        &jwt::encode(
            jwt::account_claims("IOT", &iot.public_key(), true, &[]),
            &operator,
        ),
    );
    write(
        "iot-no-js.jwt",
        &jwt::encode(
            jwt::account_claims("IOT", &iot.public_key(), false, &[]),
            &operator,
        ),
    );
    let stranger = KeyPair::new_operator();
    let other = KeyPair::new_account();
    write(
        "foreign.jwt",
        &jwt::encode(
            jwt::account_claims("FOREIGN", &other.public_key(), true, &[]),
            &stranger,
        ),
    );
    let (head, sig) = sys_jwt.rsplit_once('.').unwrap();
    let mut raw = data_encoding::BASE64URL_NOPAD
        .decode(sig.as_bytes())
        .unwrap();
    raw[7] ^= 0x01;
    write(
        "tampered.jwt",
        &format!("{head}.{}", data_encoding::BASE64URL_NOPAD.encode(&raw)),
    );
    let user = KeyPair::new_user();
    write(
        "user.jwt",
        &jwt::encode(
            jwt::user_claims("app", &user.public_key(), false, None),
            &services,
        ),
    );
    write(
        "keys.txt",
        &format!(
            "operator: {}\nsys: {}\nservices: {}\niot: {}\nforeign: {}",
            operator.public_key(),
            sys.public_key(),
            services.public_key(),
            iot.public_key(),
            other.public_key()
        ),
    );
    println!(
        "wrote JWTs for operator {} to {}",
        operator.public_key(),
        dir.display()
    );
}
