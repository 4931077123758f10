//! The codec's integration tests, in one test binary (each extra binary costs link time).

mod properties;
mod samples;
