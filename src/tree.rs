//! A JSON value read in place, with its object keys snake_cased as they are read: the decoder of
//! DescribeInstances pages (docs/DESIGN.md, "Fetching").
//!
//! Nodes, object members and array items live in three flat vectors that are cleared, not
//! freed, between instances; strings and numbers point into the page body. Only strings with
//! escapes and converted keys are copied (into one text buffer). Written out, every object has
//! its keys sorted and the last of duplicate keys wins, which is what a `serde_json::Value` of
//! the same text prints, byte for byte.
//!
//! The reader accepts exactly what serde_json accepts, or declines: anything unusual (an escape,
//! a float, a number serde_json would print differently) is handed to serde_json itself, and
//! a decline sends the caller to serde_json for the whole body, which gives the exact error.

use serde_json::{Map, Value};

use crate::instance::{snake_case, snake_case_into};

/// The reader declined the input: invalid JSON, or deeper than it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decline;

type R<T> = Result<T, Decline>;

/// Where a text is: `Src` in the body, `Own` in the tree's text buffer.
#[derive(Debug, Clone, Copy)]
pub enum Text {
    Src(u32, u32),
    Own(u32, u32),
}

#[derive(Debug, Clone, Copy)]
pub enum Node {
    Null,
    Bool(bool),
    /// The number's token in the body; `plain` when serde_json prints it unchanged (an integer
    /// of u64 or i64 written without a sign on zero).
    Num {
        start: u32,
        len: u32,
        plain: bool,
    },
    /// The string's content, unescaped.
    Str(Text),
    Arr {
        first: u32,
        len: u32,
    },
    Obj {
        first: u32,
        len: u32,
    },
}

/// One page body and the value being read from it.
pub struct Tree<'a> {
    src: &'a str,
    nodes: Vec<Node>,
    members: Vec<(Text, u32)>,
    items: Vec<u32>,
    own: String,
    member_stack: Vec<(Text, u32)>,
    item_stack: Vec<u32>,
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// A number token as serde_json would read it.
fn number_value(token: &str) -> R<serde_json::Number> {
    match serde_json::from_str::<Value>(token) {
        Ok(Value::Number(n)) => Ok(n),
        _ => Err(Decline),
    }
}

/// Writes `s` as a JSON string, escaped as serde_json escapes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("a string serializes");
    }
}

impl<'a> Tree<'a> {
    pub fn new(src: &'a str) -> Tree<'a> {
        Tree {
            src,
            nodes: Vec::with_capacity(256),
            members: Vec::with_capacity(256),
            items: Vec::with_capacity(64),
            own: String::with_capacity(4096),
            member_stack: Vec::with_capacity(128),
            item_stack: Vec::with_capacity(32),
        }
    }

    /// Forgets the values read so far (their storage stays).
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.members.clear();
        self.items.clear();
        self.own.clear();
    }

    pub fn src(&self) -> &'a str {
        self.src
    }

    /// Reads the value at byte `i` (after any whitespace), at most `depth` arrays and objects
    /// deep; returns it and the position after it.
    pub fn read(&mut self, i: usize, depth: u32) -> R<(u32, usize)> {
        let b = self.src.as_bytes();
        let mut i = ws(b, i);
        let node = match b.get(i) {
            Some(b'{') => return self.object(i + 1, depth),
            Some(b'[') => return self.array(i + 1, depth),
            Some(b'"') => {
                let (t, end) = self.string(i + 1)?;
                i = end;
                Node::Str(t)
            }
            Some(b't') if b[i..].starts_with(b"true") => {
                i += 4;
                Node::Bool(true)
            }
            Some(b'f') if b[i..].starts_with(b"false") => {
                i += 5;
                Node::Bool(false)
            }
            Some(b'n') if b[i..].starts_with(b"null") => {
                i += 4;
                Node::Null
            }
            Some(b'-' | b'0'..=b'9') => {
                let (node, end) = self.number(i)?;
                i = end;
                node
            }
            _ => return Err(Decline),
        };
        Ok((self.push(node), i))
    }

    fn push(&mut self, node: Node) -> u32 {
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    /// The string starting after the quote at `i - 1`: its text and the position after its
    /// closing quote.
    fn string(&mut self, start: usize) -> R<(Text, usize)> {
        let b = self.src.as_bytes();
        let mut i = start;
        let mut escaped = false;
        loop {
            match b.get(i) {
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                Some(&c) if c < 0x20 => return Err(Decline),
                Some(_) => i += 1,
                None => return Err(Decline),
            }
        }
        if !escaped {
            return Ok((Text::Src(start as u32, (i - start) as u32), i + 1));
        }
        let s: String = serde_json::from_str(&self.src[start - 1..i + 1]).map_err(|_| Decline)?;
        Ok((self.own_text(&s), i + 1))
    }

    fn own_text(&mut self, s: &str) -> Text {
        let at = self.own.len();
        self.own.push_str(s);
        Text::Own(at as u32, s.len() as u32)
    }

    /// An object key, snake_cased.
    fn key(&mut self, start: usize) -> R<(Text, usize)> {
        let (raw, end) = self.string(start)?;
        if !self.text(raw).bytes().any(|c| c.is_ascii_uppercase()) {
            return Ok((raw, end));
        }
        let at = self.own.len();
        match raw {
            // Straight into the buffer: no String per key.
            Text::Src(s, l) => {
                snake_case_into(&self.src[s as usize..(s + l) as usize], &mut self.own)
            }
            Text::Own(s, l) => {
                let converted = snake_case(&self.own[s as usize..(s + l) as usize]);
                self.own.push_str(&converted);
            }
        }
        Ok((Text::Own(at as u32, (self.own.len() - at) as u32), end))
    }

    fn number(&mut self, start: usize) -> R<(Node, usize)> {
        let b = self.src.as_bytes();
        let digits = |mut i: usize| {
            while let Some(b'0'..=b'9') = b.get(i) {
                i += 1;
            }
            i
        };
        let neg = b[start] == b'-';
        let mut i = start + neg as usize;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i + 1),
            _ => return Err(Decline),
        }
        let int_digits = i - start - neg as usize;
        let mut plain = true;
        if b.get(i) == Some(&b'.') {
            let after = digits(i + 1);
            if after == i + 1 {
                return Err(Decline);
            }
            i = after;
            plain = false;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let after = digits(i);
            if after == i {
                return Err(Decline);
            }
            i = after;
            plain = false;
        }
        // u64 holds every 19-digit number, i64 every 18-digit one; `-0` reads as a float.
        plain &= if neg {
            int_digits <= 18 && b[start + 1] != b'0'
        } else {
            int_digits <= 19
        };
        if !plain {
            number_value(&self.src[start..i])?;
        }
        let node = Node::Num {
            start: start as u32,
            len: (i - start) as u32,
            plain,
        };
        Ok((node, i))
    }

    fn object(&mut self, i: usize, depth: u32) -> R<(u32, usize)> {
        if depth == 0 {
            return Err(Decline);
        }
        let b = self.src.as_bytes();
        let mark = self.member_stack.len();
        let mut i = ws(b, i);
        if b.get(i) == Some(&b'}') {
            i += 1;
        } else {
            loop {
                if b.get(i) != Some(&b'"') {
                    return Err(Decline);
                }
                let (key, end) = self.key(i + 1)?;
                i = ws(b, end);
                if b.get(i) != Some(&b':') {
                    return Err(Decline);
                }
                let (value, end) = self.read(i + 1, depth - 1)?;
                self.member_stack.push((key, value));
                i = ws(b, end);
                match b.get(i) {
                    Some(b',') => i = ws(b, i + 1),
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    _ => return Err(Decline),
                }
            }
        }
        let first = self.members.len() as u32;
        let len = (self.member_stack.len() - mark) as u32;
        self.members.extend(self.member_stack.drain(mark..));
        Ok((self.push(Node::Obj { first, len }), i))
    }

    fn array(&mut self, i: usize, depth: u32) -> R<(u32, usize)> {
        if depth == 0 {
            return Err(Decline);
        }
        let b = self.src.as_bytes();
        let mark = self.item_stack.len();
        let mut i = ws(b, i);
        if b.get(i) == Some(&b']') {
            i += 1;
        } else {
            loop {
                let (value, end) = self.read(i, depth - 1)?;
                self.item_stack.push(value);
                i = ws(b, end);
                match b.get(i) {
                    Some(b',') => i += 1,
                    Some(b']') => {
                        i += 1;
                        break;
                    }
                    _ => return Err(Decline),
                }
            }
        }
        let first = self.items.len() as u32;
        let len = (self.item_stack.len() - mark) as u32;
        self.items.extend(self.item_stack.drain(mark..));
        Ok((self.push(Node::Arr { first, len }), i))
    }

    // --- reading the tree ---------------------------------------------------------------

    pub fn node(&self, id: u32) -> Node {
        self.nodes[id as usize]
    }

    pub fn text(&self, t: Text) -> &str {
        match t {
            Text::Src(s, l) => &self.src[s as usize..(s + l) as usize],
            Text::Own(s, l) => &self.own[s as usize..(s + l) as usize],
        }
    }

    /// An object's members in the order read (keys converted, duplicates kept).
    pub fn members(&self, id: u32) -> &[(Text, u32)] {
        match self.node(id) {
            Node::Obj { first, len } => &self.members[first as usize..(first + len) as usize],
            _ => &[],
        }
    }

    pub fn items(&self, id: u32) -> Option<&[u32]> {
        match self.node(id) {
            Node::Arr { first, len } => Some(&self.items[first as usize..(first + len) as usize]),
            _ => None,
        }
    }

    /// `v[key]` of an object, the last of duplicate keys; None for other values.
    pub fn get(&self, id: u32, key: &str) -> Option<u32> {
        self.members(id)
            .iter()
            .rev()
            .find(|(k, _)| self.text(*k) == key)
            .map(|&(_, v)| v)
    }

    pub fn str_of(&self, id: u32) -> Option<&str> {
        match self.node(id) {
            Node::Str(t) => Some(self.text(t)),
            _ => None,
        }
    }

    pub fn is_array(&self, id: u32) -> bool {
        matches!(self.node(id), Node::Arr { .. })
    }

    fn num(&self, start: u32, len: u32) -> serde_json::Number {
        number_value(&self.src[start as usize..(start + len) as usize])
            .expect("read as a number already")
    }

    /// Python's truth value, as footmark tests fields with `if value:`.
    pub fn truthy(&self, id: u32) -> bool {
        match self.node(id) {
            Node::Null => false,
            Node::Bool(b) => b,
            Node::Num { start, len, plain } => {
                if plain {
                    &self.src[start as usize..(start + len) as usize] != "0"
                } else {
                    self.num(start, len).as_f64().is_some_and(|f| f != 0.0)
                }
            }
            Node::Str(t) => !self.text(t).is_empty(),
            Node::Arr { len, .. } | Node::Obj { len, .. } => len > 0,
        }
    }

    /// A hostvar as a plain string: strings as they are, numbers and booleans printed, lists
    /// by their first string.
    pub fn as_text(&self, id: u32) -> String {
        match self.node(id) {
            Node::Str(t) => self.text(t).to_string(),
            Node::Num { start, len, plain } => {
                if plain {
                    self.src[start as usize..(start + len) as usize].to_string()
                } else {
                    self.num(start, len).to_string()
                }
            }
            Node::Bool(b) => b.to_string(),
            Node::Arr { .. } => self
                .items(id)
                .unwrap_or(&[])
                .iter()
                .find_map(|&x| self.str_of(x))
                .unwrap_or("")
                .to_string(),
            Node::Null | Node::Obj { .. } => String::new(),
        }
    }

    /// The value as serde_json's tree.
    pub fn to_value(&self, id: u32) -> Value {
        match self.node(id) {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Num { start, len, .. } => Value::Number(self.num(start, len)),
            Node::Str(t) => Value::String(self.text(t).to_string()),
            Node::Arr { .. } => Value::Array(
                self.items(id)
                    .unwrap_or(&[])
                    .iter()
                    .map(|&x| self.to_value(x))
                    .collect(),
            ),
            Node::Obj { .. } => {
                let mut map = Map::new();
                for &(k, v) in self.members(id) {
                    map.insert(self.text(k).to_string(), self.to_value(v));
                }
                Value::Object(map)
            }
        }
    }

    /// Writes the value as compact JSON, keys sorted; `scratch` is working space.
    pub fn write(&self, id: u32, out: &mut Vec<u8>, scratch: &mut Vec<(Text, u32)>) {
        match self.node(id) {
            Node::Null => out.extend_from_slice(b"null"),
            Node::Bool(true) => out.extend_from_slice(b"true"),
            Node::Bool(false) => out.extend_from_slice(b"false"),
            Node::Num { start, len, plain } => {
                if plain {
                    out.extend_from_slice(
                        &self.src.as_bytes()[start as usize..(start + len) as usize],
                    );
                } else {
                    serde_json::to_writer(&mut *out, &self.num(start, len))
                        .expect("a number serializes");
                }
            }
            // Without escapes in the body, the body's text is what serde_json writes.
            Node::Str(Text::Src(s, l)) => {
                out.extend_from_slice(&self.src.as_bytes()[s as usize - 1..(s + l) as usize + 1])
            }
            Node::Str(t) => write_str(out, self.text(t)),
            Node::Arr { first, len } => {
                out.push(b'[');
                for (n, &item) in self.items[first as usize..(first + len) as usize]
                    .iter()
                    .enumerate()
                {
                    if n > 0 {
                        out.push(b',');
                    }
                    self.write(item, out, scratch);
                }
                out.push(b']');
            }
            Node::Obj { first, len } => {
                let mark = scratch.len();
                scratch.extend_from_slice(&self.members[first as usize..(first + len) as usize]);
                self.sort_members(&mut scratch[mark..]);
                let end = scratch.len();
                out.push(b'{');
                let mut wrote = false;
                for j in mark..end {
                    let (k, v) = scratch[j];
                    // Of equal keys (now adjacent, in the order read) the last wins.
                    if j + 1 < end && self.text(scratch[j + 1].0) == self.text(k) {
                        continue;
                    }
                    if wrote {
                        out.push(b',');
                    }
                    wrote = true;
                    self.write_key(k, out);
                    self.write(v, out, scratch);
                }
                out.push(b'}');
                scratch.truncate(mark);
            }
        }
    }

    /// `"key":`.
    pub fn write_key(&self, k: Text, out: &mut Vec<u8>) {
        match k {
            // A key read without escapes and not converted: its text in the body.
            Text::Src(s, l) => {
                out.extend_from_slice(&self.src.as_bytes()[s as usize - 1..(s + l) as usize + 1])
            }
            Text::Own(..) => write_str(out, self.text(k)),
        }
        out.push(b':');
    }

    /// Sorts members by key, keeping the order read among equal keys.
    pub fn sort_members(&self, members: &mut [(Text, u32)]) {
        members.sort_by(|a, b| self.text(a.0).cmp(self.text(b.0)));
    }
}
