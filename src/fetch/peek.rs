//! The `TotalCount` of a DescribeInstances answer, read before the page is decoded: a region's
//! page 1 says how many pages follow, and they are sent at once rather than after the page's
//! hundred instances are decoded (a few milliseconds each, twenty regions queued on two cores).
//!
//! A peek, not a parse: it reads the envelope's members up to `TotalCount`, skipping values
//! by their brackets and quotes, and gives up (None) on anything unusual. The decoder still
//! reads and checks the whole answer; where the two could disagree (invalid JSON) the page
//! fails to decode and the run fails as before.

/// The top-level `TotalCount` of `body` when it is a plain unsigned integer.
pub fn total_count(body: &[u8]) -> Option<u64> {
    let mut i = ws(body, 0);
    if body.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(body, i + 1);
    loop {
        if body.get(i) != Some(&b'"') {
            return None;
        }
        let len = body.get(i + 1..)?.iter().position(|&c| c == b'"')?;
        let key = &body[i + 1..i + 1 + len];
        if key.contains(&b'\\') {
            return None;
        }
        i = ws(body, i + len + 2);
        if body.get(i) != Some(&b':') {
            return None;
        }
        i = ws(body, i + 1);
        if key == b"TotalCount" {
            let digits = body[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            let end = ws(body, i + digits);
            if digits == 0 || !matches!(body.get(end), Some(b',' | b'}')) {
                return None;
            }
            return std::str::from_utf8(&body[i..i + digits]).ok()?.parse().ok();
        }
        i = ws(body, skip(body, i)?);
        match body.get(i) {
            Some(b',') => i = ws(body, i + 1),
            _ => return None,
        }
    }
}

fn ws(b: &[u8], i: usize) -> usize {
    i + b.get(i..).map_or(0, |s| {
        s.iter().take_while(|c| c.is_ascii_whitespace()).count()
    })
}

/// The position after the value at `i`: a string, an array or object (to its matching
/// bracket, strings inside skipped whole), or a scalar (to the next delimiter).
fn skip(b: &[u8], mut i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i + 1),
        b'[' | b'{' => {
            let mut depth = 0usize;
            loop {
                match *b.get(i)? {
                    b'"' => {
                        i = string_end(b, i + 1)?;
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let n = b[i..]
                .iter()
                .take_while(|&&c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
                .count();
            (n > 0).then_some(i + n)
        }
    }
}

/// The position after the closing quote of a string whose contents start at `i`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let n = memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        i += n;
        if b[i] == b'"' {
            return Some(i + 1);
        }
        i += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_envelopes_total_wherever_it_stands() {
        assert_eq!(
            total_count(br#"{"RequestId":"x","TotalCount":523,"Instances":{"Instance":[]}}"#),
            Some(523)
        );
        // After the instances, whose strings and objects hold look-alikes.
        let body = br#" { "Instances" : {"Instance":[{"TotalCount":1,"s":"\"TotalCount\":2 }]"}]},
            "PageSize":100, "Flag":true, "Null":null, "F":-1.5e3, "TotalCount" : 7 } "#;
        assert_eq!(total_count(body), Some(7));
        assert_eq!(total_count(br#"{"TotalCount":0}"#), Some(0));
    }

    #[test]
    fn anything_unusual_is_left_to_the_decoder() {
        for body in [
            &br#"{"TotalCount":"5"}"#[..],
            br#"{"TotalCount":5.0}"#,
            br#"{"TotalCount":-5}"#,
            br#"{"TotalCount":99999999999999999999999}"#,
            br#"{"Total\u0043ount":5}"#,
            br#"{"Instances":{"Instance":[]}}"#,
            br#"{"Instances":{"Instance":["#,
            br#"{"Code":"Throttling.User","Message":"\"TotalCount\":5"}"#,
            br#"[{"TotalCount":5}]"#,
            b"",
            b"{",
            br#"{"a" 1, "TotalCount":5}"#,
        ] {
            assert_eq!(total_count(body), None, "{}", String::from_utf8_lossy(body));
        }
    }
}
