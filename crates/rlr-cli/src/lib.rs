//! rlr-cli
