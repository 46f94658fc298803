//! A JSON value read in place, with its object keys snake_cased as they are read: the decoder of
//! DescribeInstances pages (docs/DESIGN.md, "Fetching").
//!
//! Nodes, object members and array items live in three flat vectors that are cleared, not
//! freed, between instances; strings and numbers point into the page body, and only strings
//! with escapes are copied. Keys are interned ([`Keys`], kept from one page to the next on
//! a thread): each distinct key is converted once, compared by id, sorted by rank and written
//! from its ready JSON. Written out, every object has its keys sorted and the last of
//! duplicate keys wins, which is what a `serde_json::Value` of the same text prints, byte for
//! byte.
//!
//! The reader accepts exactly what serde_json accepts, or declines: anything unusual (an escape,
//! a float, a number serde_json would print differently) is handed to serde_json itself, and
//! a decline sends the caller to serde_json for the whole body, which gives the exact error.

use std::cell::RefCell;
use std::collections::HashMap;

use compact_str::CompactString;
use rustc_hash::FxBuildHasher;
use serde_json::Value;

use crate::footmark::{snake_case, RESERVED};
use crate::json::write_str;

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

const NONE: u32 = u32::MAX;

/// Declares the keys the conversion looks up or adds, interned before any other.
macro_rules! known_keys {
    ($($name:ident),* $(,)?) => {
        /// The ids of the keys the conversion looks up or adds.
        #[allow(non_snake_case)]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct Known { $(pub $name: u32,)* }

        impl Known {
            fn intern(keys: &mut Keys) -> Known {
                Known { $($name: keys.intern(stringify!($name)),)* }
            }
        }
    };
}

known_keys!(
    instance_id,
    status,
    inner_ip_address,
    public_ip_address,
    eip_address,
    ip_address,
    network_interfaces,
    network_interface,
    vpc_attributes,
    private_ip_address,
    vpc_id,
    vswitch_id,
    zone_id,
    gpuamount,
    gpuspec,
    tags,
    tag,
    tag_key,
    tag_value,
    security_group_ids,
    security_group_id,
    region_id,
    image_id,
    instance_type,
    ostype,
    key_pair_name,
    resource_group_id,
    instance_charge_type,
    id,
    state,
    availability_zone,
    region,
    eip,
    gpu,
    ecs_tags,
    account_alias,
    account_id,
    ansible_host,
    ansible_ssh_host,
);

/// The object keys read so far, converted: an id per distinct converted key.
pub struct Keys {
    /// Keys as written in the body (without escapes): text → slot, and each slot's text and
    /// id.
    by_raw: HashMap<Box<str>, u32, FxBuildHasher>,
    raw_text: Vec<Box<str>>,
    raw_id: Vec<u32>,
    /// The slot that came after each slot last time (`NONE` at first), and the slot read
    /// last: the instances of a page repeat one sequence of keys, so the next key is nearly
    /// always the one that followed the last key before, and needs no hashing.
    follow: Vec<u32>,
    last: usize,
    /// Converted key → id.
    by_text: HashMap<Box<str>, u32, FxBuildHasher>,
    text: Vec<Box<str>>,
    /// `"key":`, escaped as serde_json escapes it.
    json: Vec<Box<[u8]>>,
    /// The id a reserved name moves to (`ecs_` and the name), else the id itself.
    renamed: Vec<u32>,
    /// Each id's place in the sorted order of every key so far; valid up to `ranked`.
    rank: Vec<u32>,
    ranked: usize,
    pub known: Known,
}

impl Keys {
    /// The known keys, and no other yet.
    fn new() -> Keys {
        let mut keys = Keys {
            follow: vec![NONE],
            ..Keys::none()
        };
        keys.known = Known::intern(&mut keys);
        keys.rank_all();
        keys
    }

    /// The id of a converted key, interning it.
    pub fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.by_text.get(text) {
            return id;
        }
        let id = self.text.len() as u32;
        self.by_text.insert(text.into(), id);
        self.text.push(text.into());
        let mut json = Vec::with_capacity(text.len() + 3);
        write_str(&mut json, text);
        json.push(b':');
        self.json.push(json.into_boxed_slice());
        self.renamed.push(id);
        if RESERVED.binary_search(&text).is_ok() {
            let to = self.intern(&format!("ecs_{text}"));
            self.renamed[id as usize] = to;
        }
        id
    }

    /// The key that followed the last key read the last time: its text as written in the
    /// body (with no quote, backslash or control character in it) and its slot.
    #[inline]
    fn guess(&self) -> Option<(&[u8], u32)> {
        let guess = self.follow[self.last];
        (guess != NONE).then(|| (self.raw_text[guess as usize].as_bytes(), guess))
    }

    /// Moves on past `slot`, the key just read, and gives its id.
    #[inline]
    fn took(&mut self, slot: u32) -> u32 {
        self.last = slot as usize + 1;
        self.raw_id[slot as usize]
    }

    /// The id of a key as written in the body, without escapes, that is not the guess
    /// (`Tree::key` takes the guess itself).
    #[inline]
    fn intern_raw(&mut self, raw: &str) -> u32 {
        let slot = match self.by_raw.get(raw) {
            Some(&slot) => slot,
            None => {
                let slot = self.raw_text.len() as u32;
                let id = self.intern(&snake_case(raw));
                self.by_raw.insert(raw.into(), slot);
                self.raw_text.push(raw.into());
                self.raw_id.push(id);
                self.follow.push(NONE);
                slot
            }
        };
        self.follow[self.last] = slot;
        self.took(slot)
    }

    /// The id of a converted key, if any object of the page has it.
    pub fn id(&self, text: &str) -> Option<u32> {
        self.by_text.get(text).copied()
    }

    pub fn text(&self, id: u32) -> &str {
        &self.text[id as usize]
    }

    pub fn json(&self, id: u32) -> &[u8] {
        &self.json[id as usize]
    }

    /// The key a hostvar of this name gets: `ecs_` and the name for Ansible's reserved names.
    pub fn renamed(&self, id: u32) -> u32 {
        self.renamed[id as usize]
    }

    pub fn is_renamed(&self, id: u32) -> bool {
        self.renamed[id as usize] != id
    }

    /// Sorting rank (the order of the converted texts); valid after [`Keys::rank_all`].
    pub fn rank(&self, id: u32) -> u32 {
        self.rank[id as usize]
    }

    /// How many keys there are.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Ranks the keys interned since the last call.
    pub fn rank_all(&mut self) {
        if self.ranked == self.text.len() {
            return;
        }
        let mut order: Vec<u32> = (0..self.text.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.text[a as usize].cmp(&self.text[b as usize]));
        self.rank.resize(order.len(), 0);
        for (r, id) in order.into_iter().enumerate() {
            self.rank[id as usize] = r as u32;
        }
        self.ranked = self.text.len();
    }
}

/// Keys kept past the pages that brought them at most; more are dropped with their page.
const MAX_KEPT: usize = 4096;

thread_local! {
    /// The keys of the last page this thread decoded: the next page has the same ones, already
    /// converted, ranked and in sequence.
    static SPARE: RefCell<Option<Keys>> = const { RefCell::new(None) };
}

impl Keys {
    /// The keys the last page decoded on this thread left, or new ones.
    pub fn reuse() -> Keys {
        SPARE
            .with(|s| s.borrow_mut().take())
            .unwrap_or_else(Keys::new)
    }

    /// No keys at all, not even the known ones: a placeholder that allocates nothing.
    fn none() -> Keys {
        Keys {
            by_raw: HashMap::default(),
            raw_text: Vec::new(),
            raw_id: Vec::new(),
            follow: Vec::new(),
            last: 0,
            by_text: HashMap::default(),
            text: Vec::new(),
            json: Vec::new(),
            renamed: Vec::new(),
            rank: Vec::new(),
            ranked: 0,
            known: Known::default(),
        }
    }
}

/// How many unsorted key sequences [`Orders`] remembers.
const MAX_ORDERS: usize = 16;

/// The sorted order of each unsorted sequence of keys met so far.
#[derive(Default)]
pub struct Orders {
    known: Vec<(Vec<u32>, Vec<u32>)>,
    next: usize,
    tmp: Vec<(u32, u32)>,
}

/// Working space for writing values.
#[derive(Default)]
pub struct WriteScratch {
    pub members: Vec<(u32, u32)>,
    pub orders: Orders,
}

/// One page body and the value being read from it.
pub struct Tree<'a> {
    src: &'a str,
    nodes: Vec<Node>,
    members: Vec<(u32, u32)>,
    items: Vec<u32>,
    own: String,
    member_stack: Vec<(u32, u32)>,
    item_stack: Vec<u32>,
    pub keys: Keys,
}

#[inline]
/// The position of the first byte at or after `i` that is not JSON whitespace.
pub fn ws(b: &[u8], mut i: usize) -> usize {
    // Most calls meet no whitespace (pages are compact): one comparison says so.
    while let Some(&c) = b.get(i) {
        if c > b' ' || !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
            break;
        }
        i += 1;
    }
    i
}

/// Where the run of string bytes at `i` ends: at a quote, a backslash, a control character
/// or the end. Sixteen bytes at a time where SSE2 is, as on every x86-64 (most strings of a
/// page are shorter: one step); eight at a time elsewhere, and for the last bytes.
#[inline]
fn plain_run(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        while let Some(chunk) = b.get(i..i + 16) {
            // SAFETY: SSE2 is part of x86-64; the load reads the 16 bytes of `chunk`, unaligned.
            let found = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast());
                let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                // A byte is below 0x20 when the unsigned maximum of it and 0x1f is 0x1f.
                let low = _mm_set1_epi8(0x1f);
                let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
            };
            if found != 0 {
                return i + found.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let quote = w ^ (ONES * b'"' as u64);
        let backslash = w ^ (ONES * b'\\' as u64);
        // The high bit of each byte that is zero (a match) or below 0x20; a byte above the
        // first flagged one may be flagged wrongly, never one below it.
        let found = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | w.wrapping_sub(ONES * 0x20) & !w)
            & HIGH;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// `a == b` for slices of one length, a word at a time: keys are short, and a call to memcmp
/// costs more than comparing them.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len();
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let word = |c: &[u8], at: usize| u64::from_le_bytes(c[at..at + 8].try_into().expect("8 bytes"));
    // Whole words, then the last eight bytes (overlapping the last word).
    (0..n / 8).all(|w| word(a, 8 * w) == word(b, 8 * w)) && word(a, n - 8) == word(b, n - 8)
}

/// A number token as serde_json would read it.
fn number_value(token: &str) -> R<serde_json::Number> {
    match serde_json::from_str::<Value>(token) {
        Ok(Value::Number(n)) => Ok(n),
        _ => Err(Decline),
    }
}

impl Drop for Tree<'_> {
    fn drop(&mut self) {
        let keys = std::mem::replace(&mut self.keys, Keys::none());
        if keys.len() <= MAX_KEPT && keys.ranked == keys.len() {
            SPARE.with(|s| *s.borrow_mut() = Some(keys));
        }
    }
}

impl<'a> Tree<'a> {
    pub fn new(src: &'a str) -> Tree<'a> {
        Tree {
            src,
            nodes: Vec::with_capacity(256),
            members: Vec::with_capacity(256),
            items: Vec::with_capacity(64),
            own: String::new(),
            member_stack: Vec::with_capacity(128),
            item_stack: Vec::with_capacity(32),
            keys: Keys::reuse(),
        }
    }

    /// Forgets the values read so far (their storage and the keys stay).
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.members.clear();
        self.items.clear();
        self.own.clear();
    }

    /// Reads from another text of the same body next (cleared).
    pub fn set_src(&mut self, src: &'a str) {
        self.clear();
        self.src = src;
    }

    /// Reads the value at byte `i` (after any whitespace), at most `depth` arrays and objects
    /// deep; returns it and the position after it. The keys are ranked afterwards.
    pub fn read(&mut self, i: usize, depth: u32) -> R<(u32, usize)> {
        let read = self.value(i, depth);
        self.keys.rank_all();
        read
    }

    fn value(&mut self, i: usize, depth: u32) -> R<(u32, usize)> {
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

    #[inline]
    fn push(&mut self, node: Node) -> u32 {
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    /// The string starting after the quote at `start - 1`: its text and the position after
    /// its closing quote.
    #[inline]
    fn string(&mut self, start: usize) -> R<(Text, usize)> {
        let b = self.src.as_bytes();
        let mut i = start;
        let mut escaped = false;
        loop {
            i = plain_run(b, i);
            match b.get(i) {
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                _ => return Err(Decline),
            }
        }
        if !escaped {
            return Ok((Text::Src(start as u32, (i - start) as u32), i + 1));
        }
        let s: String = serde_json::from_str(&self.src[start - 1..i + 1]).map_err(|_| Decline)?;
        let at = self.own.len();
        self.own.push_str(&s);
        Ok((Text::Own(at as u32, s.len() as u32), i + 1))
    }

    /// An object key: its id.
    #[inline]
    fn key(&mut self, start: usize) -> R<(u32, usize)> {
        // The guessed key and its closing quote: where a scan would end, since the guess holds
        // no byte that ends one; no scan and no hashing.
        if let Some((raw, slot)) = self.keys.guess() {
            let b = &self.src.as_bytes()[start..];
            let len = raw.len();
            if b.len() > len && b[len] == b'"' && same(&b[..len], raw) {
                return Ok((self.keys.took(slot), start + len + 1));
            }
        }
        let (raw, end) = self.string(start)?;
        let id = match raw {
            Text::Src(s, l) => self
                .keys
                .intern_raw(&self.src[s as usize..(s + l) as usize]),
            Text::Own(..) => {
                let converted = snake_case(self.text(raw));
                self.keys.intern(&converted)
            }
        };
        Ok((id, end))
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
                let (value, end) = self.value(i + 1, depth - 1)?;
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
                let (value, end) = self.value(i, depth - 1)?;
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

    /// An object's members (key id, value) in the order read, duplicates kept.
    pub fn members(&self, id: u32) -> &[(u32, u32)] {
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
    pub fn get(&self, id: u32, key: u32) -> Option<u32> {
        self.members(id)
            .iter()
            .rev()
            .find(|&&(k, _)| k == key)
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

    pub fn is_object(&self, id: u32) -> bool {
        matches!(self.node(id), Node::Obj { .. })
    }

    /// The text of a number token.
    pub fn token(&self, start: u32, len: u32) -> &str {
        &self.src[start as usize..(start + len) as usize]
    }

    pub fn num(&self, start: u32, len: u32) -> serde_json::Number {
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
    pub fn as_text(&self, id: u32) -> CompactString {
        match self.node(id) {
            Node::Str(t) => self.text(t).into(),
            Node::Num { start, len, plain } => {
                if plain {
                    self.src[start as usize..(start + len) as usize].into()
                } else {
                    self.num(start, len).to_string().into()
                }
            }
            Node::Bool(b) => if b { "true" } else { "false" }.into(),
            Node::Arr { .. } => self
                .items(id)
                .unwrap_or(&[])
                .iter()
                .find_map(|&x| self.str_of(x))
                .unwrap_or("")
                .into(),
            Node::Null | Node::Obj { .. } => Default::default(),
        }
    }

    /// The value as serde_json's tree (what the tests compare the writer with).
    #[cfg(test)]
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
                let mut map = serde_json::Map::new();
                for &(k, v) in self.members(id) {
                    map.insert(self.keys.text(k).to_string(), self.to_value(v));
                }
                Value::Object(map)
            }
        }
    }

    /// Writes the value as compact JSON, keys sorted; `scratch` is working space.
    pub fn write(&self, id: u32, out: &mut Vec<u8>, scratch: &mut WriteScratch) {
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
                let mark = scratch.members.len();
                scratch
                    .members
                    .extend_from_slice(&self.members[first as usize..(first + len) as usize]);
                let end = scratch.members.len();
                self.sort_members(mark, &mut scratch.members, &mut scratch.orders);
                out.push(b'{');
                let mut wrote = false;
                for j in mark..end {
                    let (k, v) = scratch.members[j];
                    // Of equal keys (now adjacent, in the order read) the last wins.
                    if j + 1 < end && scratch.members[j + 1].0 == k {
                        continue;
                    }
                    if wrote {
                        out.push(b',');
                    }
                    wrote = true;
                    out.extend_from_slice(self.keys.json(k));
                    self.write(v, out, scratch);
                }
                out.push(b'}');
                scratch.members.truncate(mark);
            }
        }
    }

    /// Sorts `members[from..]` by key, keeping the order read among equal keys.
    pub fn sort_members(&self, from: usize, members: &mut [(u32, u32)], orders: &mut Orders) {
        let keys = &self.keys;
        let run = &members[from..];
        // Usually already sorted: the service writes its keys in an order that converting
        // mostly keeps.
        if run
            .windows(2)
            .all(|w| keys.rank(w[0].0) <= keys.rank(w[1].0))
        {
            return;
        }
        // Objects with one sequence of keys (the same object of every instance) sort alike:
        // the order found for the first is used again.
        let found = orders.known.iter().position(|(seq, _)| {
            seq.len() == run.len() && seq.iter().zip(run).all(|(&a, &(b, _))| a == b)
        });
        let at = match found {
            Some(at) => at,
            None => {
                let mut order: Vec<u32> = (0..run.len() as u32).collect();
                order.sort_by_key(|&i| keys.rank(run[i as usize].0));
                let seq = run.iter().map(|&(k, _)| k).collect();
                if orders.known.len() < MAX_ORDERS {
                    orders.known.push((seq, order));
                    orders.known.len() - 1
                } else {
                    orders.next = (orders.next + 1) % MAX_ORDERS;
                    orders.known[orders.next] = (seq, order);
                    orders.next
                }
            }
        };
        let Orders { known, tmp, .. } = orders;
        tmp.clear();
        tmp.extend(known[at].1.iter().map(|&i| members[from + i as usize]));
        members[from..].copy_from_slice(tmp);
    }
}

/// Keeps the last of each run of equal neighbours.
pub fn dedup_last<T: Copy>(v: &mut Vec<T>, same: impl Fn(&T, &T) -> bool) {
    let mut w = 0;
    for r in 0..v.len() {
        if r + 1 < v.len() && same(&v[r], &v[r + 1]) {
            continue;
        }
        v[w] = v[r];
        w += 1;
    }
    v.truncate(w);
}

#[cfg(test)]
mod tests;
