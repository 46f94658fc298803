//! How an answer is shown (docs/DESIGN.md, "Command line"): the JSON as it is (the default, and
//! what Ansible reads), indented with sorted keys (`--pretty`), or the group tree (`--graph`).
//! Every view starts from the same JSON, so they show the same data.

use std::io::{self, Write};

use serde::Serialize;

use crate::cli::Args;
use crate::error::{Error, Result};
use crate::output::graph::{GraphError, Start, Tree};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The bytes as cached: compact, keys sorted.
    Json,
    /// Indented by four spaces, keys sorted, as `ansible-inventory --list` and
    /// `python3 -m json.tool` indent.
    Pretty,
    /// The tree under this group, as `ansible-inventory --graph GROUP` draws it.
    Graph(String),
}

impl View {
    pub fn of(args: &Args) -> View {
        match &args.graph {
            Some(group) => View::Graph(group.clone()),
            None if args.pretty => View::Pretty,
            None => View::Json,
        }
    }
}

/// An answer ready to be written: everything that can fail, other than writing, has happened,
/// so a failure leaves stdout empty.
pub enum Shown {
    Json(Vec<u8>),
    Pretty(serde_json::Value),
    Graph(Tree, Start),
}

/// Prepares `json` (a `--list` output or one host's hostvars) for `view`.
pub fn prepare(view: &View, json: &[u8]) -> Result<Shown> {
    let damaged = |e: &dyn std::fmt::Display| {
        Error::View(format!(
            "the cached inventory is not valid JSON: {e} (run with --refresh-cache)"
        ))
    };
    match view {
        View::Json => Ok(Shown::Json(json.to_vec())),
        View::Pretty => serde_json::from_slice(json)
            .map(Shown::Pretty)
            .map_err(|e| damaged(&e)),
        View::Graph(group) => {
            let started = std::time::Instant::now();
            let tree = Tree::from_list(json).map_err(|e| match e {
                GraphError::Json(e) => damaged(&e),
                e => graph_error(e),
            })?;
            let start = tree.start(group).map_err(graph_error)?;
            crate::info!(
                1,
                "graph: {} groups, {} hosts, read in {} ms",
                tree.group_count(),
                tree.host_count(),
                started.elapsed().as_millis()
            );
            Ok(Shown::Graph(tree, start))
        }
    }
}

fn graph_error(e: GraphError) -> Error {
    match e {
        GraphError::UnknownGroup(g) => Error::Config(format!(
            "--graph {g}: no group '{g}' in the inventory (--graph alone draws every group)"
        )),
        GraphError::Loop(g) => Error::View(format!(
            "--graph: group '{g}' is its own ancestor (run with --refresh-cache)"
        )),
        GraphError::Json(e) => Error::View(format!("--graph: {e}")),
    }
}

impl Shown {
    pub fn write_to<W: Write>(&self, mut out: W) -> io::Result<()> {
        match self {
            Shown::Json(bytes) => {
                out.write_all(bytes)?;
                if bytes.last() != Some(&b'\n') {
                    out.write_all(b"\n")?;
                }
            }
            Shown::Pretty(value) => {
                let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
                let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
                value.serialize(&mut ser).map_err(io::Error::from)?;
                out.write_all(b"\n")?;
            }
            Shown::Graph(tree, start) => tree.write(start, &mut out)?,
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(view: &View, json: &str) -> String {
        let mut out = Vec::new();
        prepare(view, json.as_bytes())
            .unwrap()
            .write_to(&mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pretty_indents_sorts_keys_and_keeps_the_data() {
        let json = r#"{"b":{"z":[1,2],"a":"é"},"a":{},"c":[]}"#;
        let pretty = shown(&View::Pretty, json);
        assert_eq!(
            pretty,
            "{\n    \"a\": {},\n    \"b\": {\n        \"a\": \"é\",\n        \"z\": [\n            1,\n            2\n        ]\n    },\n    \"c\": []\n}\n"
        );
        let again: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(
            again,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }

    #[test]
    fn an_unknown_group_is_a_usage_error_and_damage_is_not() {
        let e = prepare(&View::Graph("web".into()), br#"{"a":{"hosts":[]}}"#)
            .err()
            .unwrap();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("no group 'web'"), "{e}");
        let e = prepare(&View::Graph("all".into()), b"{").err().unwrap();
        assert_eq!(e.exit_code(), 1);
        let e = prepare(&View::Pretty, b"{").err().unwrap();
        assert_eq!(e.exit_code(), 1);
    }
}
