//! Rules on the NATS chart's values and on what its templates render, for a plain-chart values
//! file and for each event-bus release alike: [`schema`] (keys the chart reads, 0.x moves),
//! [`operator`] (JWTs via [`jwt`]), [`tls_roles`] (certificate roles) and [`limits`]
//! (tunables, start-time limits, MQTT).

pub mod jwt;
pub mod limits;
pub mod operator;
pub mod schema;
pub mod tls_roles;
