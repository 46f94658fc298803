//! Output: the `--list` JSON ([`list`]), how an answer is shown ([`view`]: as cached,
//! `--pretty`, or `--graph`), and Ansible's group tree ([`graph`]).

pub mod graph;
mod list;
pub mod view;

pub use list::*;
