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

/// Puts every string value of the compact JSON `out` that holds a template (see
/// [`is_template`]) inside Ansible's unsafe marker, at any depth; keys stay as they are. Written
/// plain first and marked after: one scan of the whole text finds nothing in the usual case, where
/// a check of every string would cost on every host. `spare` is working space.
///
/// In compact JSON, a structural `{` is followed by `"` or `}`, so `{{`, `{%` and `{#` occur only
/// inside strings; a string followed by `:` is a key.
pub fn mark_unsafe(out: &mut Vec<u8>, spare: &mut Vec<u8>) {
    if !is_template(out) {
        return;
    }
    spare.clear();
    let b = &out[..];
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'"', &b[i..]) {
        spare.extend_from_slice(&b[i..i + at]);
        let start = i + at;
        let mut j = start + 1;
        while let Some(&c) = b.get(j).filter(|&&c| c != b'"') {
            j += if c == b'\\' { 2 } else { 1 };
        }
        // Our writer always closes its strings; a cut one is copied as it is, never indexed past.
        let end = (j + 1).min(b.len());
        let text = &b[start..end];
        let closed = j < b.len();
        if closed && b.get(end) != Some(&b':') && is_template(&text[1..text.len() - 1]) {
            spare.extend_from_slice(br#"{"__ansible_unsafe":"#);
            spare.extend_from_slice(text);
            spare.push(b'}');
        } else {
            spare.extend_from_slice(text);
        }
        i = end;
    }
    spare.extend_from_slice(&b[i..]);
    std::mem::swap(out, spare);
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

    fn marked(json: &str) -> serde_json::Value {
        let mut out = json.as_bytes().to_vec();
        mark_unsafe(&mut out, &mut Vec::new());
        serde_json::from_slice(&out).unwrap()
    }

    /// Never given by our writer, but a cut string must not be read past its end.
    #[test]
    fn a_cut_string_is_copied_not_read_past() {
        for cut in [r#"{"a":"{{x"#, r#"{"a":"{{x\"#, r#"{"a":""#] {
            let mut out = cut.as_bytes().to_vec();
            mark_unsafe(&mut out, &mut Vec::new());
            assert_eq!(out, cut.as_bytes(), "{cut:?}");
        }
    }

    #[test]
    fn template_values_are_wrapped_at_any_depth_and_nothing_else_changes() {
        let plain = r#"{"a":"x{y}","b":[1,{"c":"}{"}],"{{k}}":"v"}"#;
        let mut out = plain.as_bytes().to_vec();
        mark_unsafe(&mut out, &mut Vec::new());
        assert_eq!(
            out,
            plain.as_bytes(),
            "keys and plain values stay, byte for byte"
        );
        let v = marked(
            r#"{"a":"{{ lookup('pipe', 'id') }}","b":[1,{"c":"say \"{% raw %}\""}],"{{k}}":"{# c #}","d":{"e":["ok","x{{y"]},"n":null}"#,
        );
        let u = |s: &str| serde_json::json!({ UNSAFE_KEY: s });
        assert_eq!(
            v,
            serde_json::json!({
                "a": u("{{ lookup('pipe', 'id') }}"),
                "b": [1, {"c": u("say \"{% raw %}\"")}],
                "{{k}}": u("{# c #}"),
                "d": {"e": ["ok", u("x{{y")]},
                "n": null
            })
        );
    }
}
