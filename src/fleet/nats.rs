//! A minimal NATS client.
