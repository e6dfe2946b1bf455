//! TODO: simulated kernel
