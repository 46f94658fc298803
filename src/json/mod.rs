//! JSON strings as the inventory writes them (a leaf: it imports nothing of the pipeline).
//!
//! [`write_str`] escapes as serde_json does; [`write_value`] is for hostvar values, which come
//! from the cloud: a value holding Jinja markers is written as Ansible's unsafe marker object,
//! so no playbook ever renders it as a template (docs/DESIGN.md, "Untrusted values").

pub mod reader;

/// The key of the object Ansible's JSON decoders turn into a string never templated.
pub const UNSAFE_KEY: &str = "__ansible_unsafe";

/// Writes `s` as a JSON string, escaped as serde_json escapes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // No control character, quote or backslash: serde_json writes it as it is.
    if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("a string serializes");
    }
}

/// True when `s` holds the start of a Jinja expression, statement or comment (`{{`, `{%`,
/// `{#`): the text Ansible would render if it were trusted.
#[inline]
pub fn is_template(s: &[u8]) -> bool {
    memchr::memchr_iter(b'{', s).any(|i| matches!(s.get(i + 1), Some(b'{' | b'%' | b'#')))
}

/// Writes the opening of the unsafe marker object; the string and `}` follow.
#[inline]
pub fn open_unsafe(out: &mut Vec<u8>) {
    out.extend_from_slice(br#"{"__ansible_unsafe":"#);
}

/// Writes a hostvar's string value: as it is, or inside the unsafe marker when it holds a
/// template (see [`is_template`]).
pub fn write_value(out: &mut Vec<u8>, s: &str) {
    if is_template(s.as_bytes()) {
        open_unsafe(out);
        write_str(out, s);
        out.push(b'}');
    } else {
        write_str(out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for s in [
            "", "plain", "\"", "\\", "\u{1}", "\u{1f}", "\n\t", "a\"b", "a\\b", "a\u{7f}b", "é",
            " ",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn every_jinja_opening_is_a_template_and_nothing_else_is() {
        for s in [
            "{{",
            "a{{b",
            "{%",
            "{#",
            "x {{ lookup('pipe', 'id') }}",
            "{{{",
            "}{{",
            "{ {{",
        ] {
            assert!(is_template(s.as_bytes()), "{s:?}");
        }
        for s in [
            "",
            "{",
            "}}",
            "{ {",
            "{}",
            "{\"a\": 1}",
            "%{",
            "#{",
            "{ %",
            "a{",
            "{\n{",
        ] {
            assert!(!is_template(s.as_bytes()), "{s:?}");
        }
    }

    #[test]
    fn a_template_value_is_wrapped_and_a_plain_one_is_not() {
        let mut out = Vec::new();
        write_value(&mut out, "{{ lookup('pipe', 'id') }}\n");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({UNSAFE_KEY: "{{ lookup('pipe', 'id') }}\n"})
        );
        let mut out = Vec::new();
        write_value(&mut out, "web {x}");
        assert_eq!(out, br#""web {x}""#);
    }
}
