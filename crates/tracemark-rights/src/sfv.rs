//! Just enough of RFC 9651 (Structured Field Values) to read a Dictionary exactly as the
//! AIPREF vocabulary requires: a strict parse, where any syntax error makes the whole
//! field fail (and every preference in it unknown), and a repeated key keeps its last
//! value.
//!
//! Only Tokens carry meaning for AIPREF, so other bare items are validated and then
//! kept as [`Value::Other`]; parameters are validated and dropped (AIPREF ignores them).

/// A dictionary member's value, reduced to what AIPREF reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Token(String),
    /// Any other item or an inner list: valid, but not a preference.
    Other,
}

/// Parses a Dictionary (RFC 9651 §4.2.2). `None` means the parse failed.
pub fn parse_dictionary(input: &[u8]) -> Option<Vec<(String, Value)>> {
    let mut p = Parser { s: input, i: 0 };
    p.skip_sp();
    let mut members: Vec<(String, Value)> = Vec::new();
    while !p.done() {
        let key = p.key()?;
        let value = if p.eat(b'=') {
            p.member_value()?
        } else {
            p.parameters()?;
            Value::Other // a bare key is Boolean true
        };
        members.retain(|(k, _)| k != &key);
        members.push((key, value));
        p.skip_ows();
        if p.done() {
            break;
        }
        if !p.eat(b',') {
            return None;
        }
        p.skip_ows();
        if p.done() {
            return None; // trailing comma
        }
    }
    Some(members)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn key(&mut self) -> Option<String> {
        let start = self.i;
        match self.peek()? {
            b'a'..=b'z' | b'*' => self.i += 1,
            _ => return None,
        }
        while let Some(b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*') = self.peek() {
            self.i += 1;
        }
        Some(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn member_value(&mut self) -> Option<Value> {
        if self.peek() == Some(b'(') {
            self.inner_list()?;
            return Some(Value::Other);
        }
        let v = self.bare_item()?;
        self.parameters()?;
        Some(v)
    }

    fn inner_list(&mut self) -> Option<()> {
        self.i += 1;
        loop {
            self.skip_sp();
            if self.eat(b')') {
                return self.parameters();
            }
            self.bare_item()?;
            self.parameters()?;
            match self.peek()? {
                b' ' | b')' => {}
                _ => return None,
            }
        }
    }

    fn parameters(&mut self) -> Option<()> {
        while self.eat(b';') {
            self.skip_sp();
            self.key()?;
            if self.eat(b'=') {
                self.bare_item()?;
            }
        }
        Some(())
    }

    fn bare_item(&mut self) -> Option<Value> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => self.number().map(|_| Value::Other),
            b'"' => self.string().map(|_| Value::Other),
            b':' => self.byte_sequence().map(|_| Value::Other),
            b'?' => self.boolean().map(|_| Value::Other),
            b'@' => {
                self.i += 1;
                self.number().map(|_| Value::Other)
            }
            b'%' => self.display_string().map(|_| Value::Other),
            b'*' | b'A'..=b'Z' | b'a'..=b'z' => Some(Value::Token(self.token())),
            _ => None,
        }
    }

    fn token(&mut self) -> String {
        let start = self.i;
        self.i += 1;
        while let Some(b) = self.peek() {
            if is_tchar(b) || b == b':' || b == b'/' {
                self.i += 1;
            } else {
                break;
            }
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn number(&mut self) -> Option<()> {
        self.eat(b'-');
        let (mut int_digits, mut frac_digits, mut dot) = (0, 0, false);
        while let Some(b) = self.peek() {
            match b {
                b'0'..=b'9' if dot => frac_digits += 1,
                b'0'..=b'9' => int_digits += 1,
                b'.' if !dot && int_digits > 0 => dot = true,
                _ => break,
            }
            self.i += 1;
        }
        let ok = if dot {
            int_digits <= 12 && (1..=3).contains(&frac_digits)
        } else {
            (1..=15).contains(&int_digits)
        };
        ok.then_some(())
    }

    fn string(&mut self) -> Option<()> {
        self.i += 1;
        loop {
            match self.peek()? {
                b'\\' => {
                    self.i += 1;
                    if !matches!(self.peek()?, b'"' | b'\\') {
                        return None;
                    }
                }
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                0x20..=0x7e => {}
                _ => return None,
            }
            self.i += 1;
        }
    }

    fn display_string(&mut self) -> Option<()> {
        self.i += 1;
        if !self.eat(b'"') {
            return None;
        }
        loop {
            match self.peek()? {
                b'%' => {
                    let h = self.s.get(self.i + 1..self.i + 3)?;
                    if !h.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                        return None;
                    }
                    self.i += 2;
                }
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                0x20..=0x7e => {}
                _ => return None,
            }
            self.i += 1;
        }
    }

    fn byte_sequence(&mut self) -> Option<()> {
        self.i += 1;
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b':' => return Some(()),
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=' => {}
                _ => return None,
            }
        }
        None
    }

    fn boolean(&mut self) -> Option<()> {
        self.i += 1;
        match self.peek()? {
            b'0' | b'1' => {
                self.i += 1;
                Some(())
            }
            _ => None,
        }
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> Value {
        Value::Token(s.into())
    }

    #[test]
    fn reads_tokens_and_keeps_the_last_duplicate() {
        let d = parse_dictionary(b"train-ai=n, search=y").unwrap();
        assert_eq!(
            d,
            vec![("train-ai".into(), tok("n")), ("search".into(), tok("y"))]
        );
        let d = parse_dictionary(b"train-ai;allow=n, train-ai=y").unwrap();
        assert_eq!(d, vec![("train-ai".into(), tok("y"))]);
    }

    #[test]
    fn other_items_are_valid_but_not_tokens() {
        let d = parse_dictionary(br#"train-ai=y, train-ai, search=n, search="n""#).unwrap();
        assert_eq!(
            d,
            vec![
                ("train-ai".into(), Value::Other),
                ("search".into(), Value::Other)
            ]
        );
        let d = parse_dictionary(
            br#"a=1, b=1.5, c=:aGk=:, d=?1, e=@1700000000, f=%"x%c3%a9", g=(x y);p"#,
        )
        .unwrap();
        assert_eq!(d.len(), 7);
    }

    #[test]
    fn syntax_errors_fail_the_whole_field() {
        for bad in [
            &b"Train-AI=n"[..],
            b"train-ai=n,",
            b"train-ai=n search=y",
            b"train-ai=\"unterminated",
            b"train-ai=(a",
            b"=n",
            b"a=1234567890123456",
            b"a=\xff",
        ] {
            assert_eq!(
                parse_dictionary(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_dictionary(b"  ").unwrap(), vec![]);
    }
}
