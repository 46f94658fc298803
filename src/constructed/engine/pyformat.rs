//! Jinja's `format` filter: Python's `%` string formatting (`"%s-%02d" | format(a, b)`,
//! `"%(name)s" | format(name=x)`), with Python's conversions, flags, width and precision.

use super::*;

/// `value % args`: positional arguments, or keyword ones for `%(key)s` (not both, as Jinja).
pub(super) fn f_format(value: Value, rest: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    if value.is_undefined() {
        return Ok(value);
    }
    let mut args = Vec::new();
    let mut kwargs: Option<Kwargs> = None;
    for a in rest.iter().map(|a| &**a) {
        if a.is_undefined() {
            return Ok(Value::UNDEFINED);
        }
        if a.is_kwargs() {
            kwargs = Some(Kwargs::try_from(a.clone())?);
        } else {
            args.push(a.clone());
        }
    }
    if kwargs.is_some() && !args.is_empty() {
        return Err(err(
            "can't handle positional and keyword arguments at the same time",
        ));
    }
    let named = |key: &str| -> Result<Value, Error> {
        let v = kwargs
            .as_ref()
            .ok_or_else(|| err("format requires a mapping"))?
            .get::<Value>(key)
            .map_err(|_| err(format!("KeyError: '{key}'")))?;
        Ok(v)
    };
    let text = py_str(&value);
    let mut out = String::new();
    let mut next = 0usize;
    let mut positional = |what: &str| -> Result<Value, Error> {
        let v = args
            .get(next)
            .cloned()
            .ok_or_else(|| err(format!("not enough arguments for format string ({what})")))?;
        next += 1;
        Ok(v)
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut used_mapping = false;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        let mut key = None;
        if chars.get(i) == Some(&'(') {
            let close = chars[i..]
                .iter()
                .position(|c| *c == ')')
                .ok_or_else(|| err("incomplete format key"))?;
            key = Some(chars[i + 1..i + close].iter().collect::<String>());
            i += close + 1;
        }
        let mut flags = String::new();
        while let Some(c) = chars.get(i).filter(|c| "-+ #0".contains(**c)) {
            flags.push(*c);
            i += 1;
        }
        let number = |i: &mut usize, pos: &mut dyn FnMut(&str) -> Result<Value, Error>| {
            if chars.get(*i) == Some(&'*') {
                *i += 1;
                return pos("*")
                    .and_then(|v| v.as_i64().map(Some).ok_or_else(|| err("* wants int")));
            }
            let start = *i;
            while chars.get(*i).is_some_and(char::is_ascii_digit) {
                *i += 1;
            }
            Ok((*i > start).then(|| {
                chars[start..*i]
                    .iter()
                    .collect::<String>()
                    .parse::<i64>()
                    .unwrap_or(0)
            }))
        };
        let width = number(&mut i, &mut positional)?;
        let precision = if chars.get(i) == Some(&'.') {
            i += 1;
            Some(number(&mut i, &mut positional)?.unwrap_or(0))
        } else {
            None
        };
        while chars.get(i).is_some_and(|c| "hlL".contains(*c)) {
            i += 1;
        }
        let conv = *chars.get(i).ok_or_else(|| err("incomplete format"))?;
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = match &key {
            Some(k) => {
                used_mapping = true;
                named(k)?
            }
            None => positional("%")?,
        };
        let body = convert(&arg, conv, &flags, precision)?;
        let width = width.unwrap_or(0).max(0) as usize;
        let len = body.chars().count();
        if len >= width {
            out.push_str(&body);
        } else if flags.contains('-') {
            out.push_str(&body);
            out.push_str(&" ".repeat(width - len));
        } else if flags.contains('0') && "diouxXeEfFgG".contains(conv) {
            // Zeros go after the sign and any 0x/0o prefix.
            let mut split = usize::from(body.starts_with(['-', '+', ' ']));
            if ["0x", "0X", "0o"]
                .iter()
                .any(|p| body[split..].starts_with(p))
            {
                split += 2;
            }
            out.push_str(&body[..split]);
            out.push_str(&"0".repeat(width - len));
            out.push_str(&body[split..]);
        } else {
            out.push_str(&" ".repeat(width - len));
            out.push_str(&body);
        }
    }
    if key_less_leftovers(next, args.len(), used_mapping) {
        return Err(err("not all arguments converted during string formatting"));
    }
    Ok(Value::from(out))
}

fn key_less_leftovers(used: usize, given: usize, mapping: bool) -> bool {
    !mapping && used < given
}

fn sign(neg: bool, flags: &str) -> &'static str {
    if neg {
        "-"
    } else if flags.contains('+') {
        "+"
    } else if flags.contains(' ') {
        " "
    } else {
        ""
    }
}

fn real(v: &Value, conv: char) -> Result<f64, Error> {
    match v.kind() {
        ValueKind::Number | ValueKind::Bool => Ok(py_to_float(v).unwrap_or(f64::NAN)),
        _ => Err(err(format!(
            "%{conv} format: a real number is required, not {}",
            py_type(v)
        ))),
    }
}

/// Python's `%e` body: at least two exponent digits.
fn exp_form(x: f64, p: usize, upper: bool) -> String {
    let s = format!("{x:.p$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let t = format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    if upper {
        t.to_uppercase()
    } else {
        t
    }
}

fn convert(v: &Value, conv: char, flags: &str, precision: Option<i64>) -> Result<String, Error> {
    let p = precision.map(|p| p.max(0) as usize);
    Ok(match conv {
        's' | 'r' | 'a' => {
            let s = if conv == 's' { py_str(v) } else { py_repr(v) };
            match p {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            }
        }
        'd' | 'i' | 'u' => {
            let n = if v.is_integer() || v.kind() == ValueKind::Bool {
                v.as_i64().unwrap_or(v.is_true() as i64) as i128
            } else {
                real(v, conv)?.trunc() as i128
            };
            format!("{}{}", sign(n < 0, flags), n.unsigned_abs())
        }
        'x' | 'X' | 'o' => {
            if !(v.is_integer() || v.kind() == ValueKind::Bool) {
                return Err(err(format!(
                    "%{conv} format: an integer is required, not {}",
                    py_type(v)
                )));
            }
            let n = v.as_i64().unwrap_or(v.is_true() as i64) as i128;
            let alt = flags.contains('#');
            let digits = match conv {
                'x' => format!("{}{:x}", if alt { "0x" } else { "" }, n.unsigned_abs()),
                'X' => format!("{}{:X}", if alt { "0X" } else { "" }, n.unsigned_abs()),
                _ => format!("{}{:o}", if alt { "0o" } else { "" }, n.unsigned_abs()),
            };
            format!("{}{digits}", sign(n < 0, flags))
        }
        'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
            let x = real(v, conv)?;
            let neg = x.is_sign_negative() && !x.is_nan();
            let a = x.abs();
            let body = if a.is_nan() || a.is_infinite() {
                let t = if a.is_nan() { "nan" } else { "inf" };
                if conv.is_ascii_uppercase() {
                    t.to_uppercase()
                } else {
                    t.to_owned()
                }
            } else {
                let p = p.unwrap_or(6);
                match conv {
                    'f' | 'F' => format!("{a:.p$}"),
                    'e' | 'E' => exp_form(a, p, conv == 'E'),
                    _ => {
                        let p = p.max(1);
                        let e = exp_form(a, p - 1, false);
                        let exp: i32 = e
                            .rsplit_once('e')
                            .map_or(0, |(_, x)| x.parse().unwrap_or(0));
                        let mut t = if exp < -4 || exp >= p as i32 {
                            exp_form(a, p - 1, conv == 'G')
                        } else {
                            format!("{a:.*}", (p as i32 - 1 - exp).max(0) as usize)
                        };
                        if !flags.contains('#') {
                            let (m, rest) = match t.find(['e', 'E']) {
                                Some(i) => (t[..i].to_owned(), t[i..].to_owned()),
                                None => (t.clone(), String::new()),
                            };
                            let m = if m.contains('.') {
                                m.trim_end_matches('0').trim_end_matches('.').to_owned()
                            } else {
                                m
                            };
                            t = m + &rest;
                        }
                        t
                    }
                }
            };
            format!("{}{body}", sign(neg, flags))
        }
        'c' => match v.kind() {
            ValueKind::String if v.as_str().is_some_and(|s| s.chars().count() == 1) => py_str(v),
            _ => v
                .as_i64()
                .and_then(|n| u32::try_from(n).ok())
                .and_then(char::from_u32)
                .map(String::from)
                .ok_or_else(|| err("%c requires an int or a unicode character"))?,
        },
        other => return Err(err(format!("unsupported format character '{other}'"))),
    })
}
