//! rlr's test suite: one binary, one module per concern.

mod book;
mod cli;
mod fixtures;
mod methods;
mod mutate;
mod recipes;
mod reward;
mod spans;
mod tree;
