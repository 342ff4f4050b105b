//! natscc up.
