//! YAML flow collections (`[a, {k: v}]`) as an ini value holds them: the ini has no structured
//! values, so an option that needs a list of mappings (`accounts`) is written the way YAML
//! writes one on a line. A format with structured values of its own hands its value straight to
//! the option's parser instead.
//!
//! Scalars stay strings (plain, `'single'` with `''` for a quote, `"double"` with backslash
//! escapes); a key without a value is null. Newlines (continuation lines) are whitespace.

use serde_json::{Map, Value};

/// Parses one flow collection or scalar that must fill `raw` entirely.
pub fn parse_flow(raw: &str) -> Result<Value, String> {
    let mut p = Parser {
        chars: raw.chars().collect(),
        pos: 0,
        depth: 0,
    };
    p.skip_space();
    let v = p.value()?;
    p.skip_space();
    if p.pos < p.chars.len() {
        return Err(format!(
            "unexpected '{}' after the value at character {}",
            p.chars[p.pos],
            p.pos + 1
        ));
    }
    Ok(v)
}

/// Nesting deeper than any configuration needs is refused rather than recursed into.
const MAX_DEPTH: usize = 32;

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some('[') => self.nested(Parser::sequence),
            Some('{') => self.nested(Parser::mapping),
            Some('"') => self.double_quoted().map(Value::String),
            Some('\'') => self.single_quoted().map(Value::String),
            Some(']' | '}' | ',') | None => Ok(Value::Null),
            Some(_) => Ok(self.plain().map_or(Value::Null, Value::String)),
        }
    }

    fn nested(&mut self, inner: fn(&mut Parser) -> Result<Value, String>) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        let v = inner(self);
        self.depth -= 1;
        v
    }

    fn sequence(&mut self) -> Result<Value, String> {
        self.pos += 1; // [
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some(']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err("a list without its closing ']'".into()),
                _ => {}
            }
            items.push(self.value()?);
            self.skip_space();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {}
                Some(c) => return Err(format!("expected ',' or ']' in a list, found '{c}'")),
                None => return Err("a list without its closing ']'".into()),
            }
        }
    }

    fn mapping(&mut self) -> Result<Value, String> {
        self.pos += 1; // {
        let mut map = Map::new();
        loop {
            self.skip_space();
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                None => return Err("a mapping without its closing '}'".into()),
                _ => {}
            }
            let key = match self.peek() {
                Some('"') => self.double_quoted()?,
                Some('\'') => self.single_quoted()?,
                Some(c @ ('[' | '{' | ',' | ':')) => {
                    return Err(format!("a mapping key cannot start with '{c}'"))
                }
                _ => self.plain().unwrap_or_default(),
            };
            self.skip_space();
            let value = match self.peek() {
                Some(':') => {
                    self.pos += 1;
                    self.skip_space();
                    self.value()?
                }
                Some(',' | '}') => Value::Null,
                Some(c) => return Err(format!("expected ':' after key '{key}', found '{c}'")),
                None => return Err("a mapping without its closing '}'".into()),
            };
            if map.insert(key.clone(), value).is_some() {
                return Err(format!("key '{key}' given twice in one mapping"));
            }
            self.skip_space();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                Some(c) => return Err(format!("expected ',' or '}}' in a mapping, found '{c}'")),
                None => return Err("a mapping without its closing '}'".into()),
            }
        }
    }

    /// A plain scalar: up to a flow indicator, or a ':' that ends a key (followed by a space or
    /// an indicator). The colons of an ARN or a URL stay in the value.
    fn plain(&mut self) -> Option<String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let next = self.chars.get(self.pos + 1).copied();
            let ends = match c {
                ',' | '[' | ']' | '{' | '}' => true,
                ':' => next.is_none_or(|n| n.is_whitespace() || ",[]{}".contains(n)),
                '#' => self.pos > start && self.chars[self.pos - 1].is_whitespace(),
                _ => false,
            };
            if ends {
                break;
            }
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if self.peek() == Some('#') {
            // A comment runs to the end of the line.
            while self.peek().is_some_and(|c| c != '\n') {
                self.pos += 1;
            }
        }
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }

    fn single_quoted(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated quote".into()),
                Some('\'') if self.chars.get(self.pos + 1) == Some(&'\'') => {
                    out.push('\'');
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err("unterminated quote".into());
            };
            self.pos += 1;
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err("unterminated quote".into());
                    };
                    self.pos += 1;
                    match e {
                        '"' | '\\' | '/' => out.push(e),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        'u' => {
                            let hex: String = self.chars.iter().skip(self.pos).take(4).collect();
                            let ch = (hex.len() == 4)
                                .then(|| u32::from_str_radix(&hex, 16).ok())
                                .flatten()
                                .and_then(char::from_u32)
                                .ok_or_else(|| format!("bad escape '\\u{hex}'"))?;
                            out.push(ch);
                            self.pos += 4;
                        }
                        other => {
                            return Err(format!("unknown escape '\\{other}' in a quoted value"))
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_of_mappings_with_arns_quotes_and_newlines() {
        let v = parse_flow(
            "[{alias: prod, role_arn: acs:ram::111:role/inv},\n {alias: 'it''s', regions: [cn-hangzhou, \"cn-beijing\"]},\n{alias: x, policy: \"{\\\"Version\\\": \\\"1\\\"}\", empty:}]",
        )
        .unwrap();
        assert_eq!(
            v,
            json!([
                {"alias": "prod", "role_arn": "acs:ram::111:role/inv"},
                {"alias": "it's", "regions": ["cn-hangzhou", "cn-beijing"]},
                {"alias": "x", "policy": "{\"Version\": \"1\"}", "empty": null},
            ])
        );
        assert_eq!(
            parse_flow("{url: http://127.0.0.1:9/x, n: 900}").unwrap(),
            json!({"url": "http://127.0.0.1:9/x", "n": "900"})
        );
        assert_eq!(parse_flow("[a, b,]").unwrap(), json!(["a", "b"]));
        assert_eq!(parse_flow("[]").unwrap(), json!([]));
        assert_eq!(parse_flow("[a # note\n, b]").unwrap(), json!(["a", "b"]));
    }

    #[test]
    fn broken_collections_say_what_is_wrong() {
        for (text, want) in [
            ("[a, b", "closing ']'"),
            ("[{alias: a}", "closing ']'"),
            ("{a: 1, a: 2}", "given twice"),
            ("[a] b", "after the value"),
            ("['a]", "unterminated quote"),
            ("[\"\\q\"]", "unknown escape"),
            ("{[a]: b}", "cannot start with '['"),
            ("[a b c: d]", "expected ',' or ']'"),
        ] {
            let e = parse_flow(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse_flow(&deep).unwrap_err().contains("nested"));
    }

    #[test]
    fn nesting_counts_depth_not_siblings() {
        let nested = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(parse_flow(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(
            parse_flow(&nested(MAX_DEPTH + 1)).unwrap_err(),
            "nested more than 32 levels deep"
        );
        // Many lists side by side are two levels deep, however many there are.
        let siblings = format!("[{}]", vec!["[{a: [b]}]"; 40].join(", "));
        assert_eq!(parse_flow(&siblings).unwrap().as_array().unwrap().len(), 40);
    }

    #[test]
    fn quoted_keys_lose_their_quotes() {
        assert_eq!(
            parse_flow("{\"a b\": 1, 'it''s': 2}").unwrap(),
            json!({"a b": "1", "it's": "2"})
        );
    }

    #[test]
    fn a_hash_starts_a_comment_only_after_a_space() {
        assert_eq!(
            parse_flow("[#a, b#c, d# e, #f]").unwrap(),
            json!(["#a", "b#c", "d# e", "#f"])
        );
    }

    #[test]
    fn unicode_escapes_take_four_hex_digits() {
        assert_eq!(parse_flow("\"\\u00e9x\\u0041\"").unwrap(), json!("éxA"));
        assert_eq!(parse_flow("\"\\u12\"").unwrap_err(), "bad escape '\\u12\"'");
    }
}
