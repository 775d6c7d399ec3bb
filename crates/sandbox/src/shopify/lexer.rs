//! GraphQL's lexical grammar: punctuators, names, numbers, strings (block strings too), with commas, comments
//! and a byte-order mark ignored, and each token's line and column for error messages.

/// A syntax error, with Shopify's message shape: `Parse error on "}" (RCURLY) at [1, 5]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParseError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Punct(char),
    Spread,
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    End,
}

impl Token {
    pub(super) fn describe(&self) -> String {
        match self {
            Token::Punct(c) => {
                let name = match c {
                    '{' => "LCURLY",
                    '}' => "RCURLY",
                    '(' => "LPAREN",
                    ')' => "RPAREN",
                    '[' => "LBRACKET",
                    ']' => "RBRACKET",
                    ':' => "COLON",
                    '$' => "VAR_SIGN",
                    '@' => "DIR_SIGN",
                    '!' => "BANG",
                    '=' => "EQUALS",
                    _ => "PUNCTUATOR",
                };
                format!("\"{c}\" ({name})")
            }
            Token::Spread => "\"...\" (ELLIPSIS)".to_owned(),
            Token::Name(n) => format!("\"{n}\" (IDENTIFIER)"),
            Token::Int(n) => format!("\"{n}\" (INT)"),
            Token::Float(f) => format!("\"{f}\" (FLOAT)"),
            Token::Str(s) => format!("\"{s}\" (STRING)"),
            Token::End => "end of file".to_owned(),
        }
    }
}

pub(super) struct Lexer<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Lexer { text: text.as_bytes(), at: 0, line: 1, line_start: 0 }
    }

    fn error(&self, message: String, (line, column): (usize, usize)) -> ParseError {
        ParseError { message, line, column }
    }

    fn position(&self) -> (usize, usize) {
        (self.line, self.at - self.line_start + 1)
    }

    fn skip_ignored(&mut self) {
        while let Some(&b) = self.text.get(self.at) {
            match b {
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                b' ' | b'\t' | b'\r' | b',' => self.at += 1,
                0xEF if self.text.get(self.at..self.at + 3) == Some(&[0xEF, 0xBB, 0xBF]) => self.at += 3,
                b'#' => {
                    while self.text.get(self.at).is_some_and(|&c| c != b'\n') {
                        self.at += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// The next token and where it starts.
    pub(super) fn next(&mut self) -> Result<(Token, (usize, usize)), ParseError> {
        self.skip_ignored();
        let position = self.position();
        let Some(&b) = self.text.get(self.at) else { return Ok((Token::End, position)) };
        let token = match b {
            b'{' | b'}' | b'(' | b')' | b'[' | b']' | b':' | b'$' | b'@' | b'!' | b'=' | b'|' | b'&' => {
                self.at += 1;
                Token::Punct(char::from(b))
            }
            b'.' if self.text.get(self.at..self.at + 3) == Some(b"...") => {
                self.at += 3;
                Token::Spread
            }
            b'"' => self.string(position)?,
            b'-' | b'0'..=b'9' => self.number(position)?,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                let start = self.at;
                while self.text.get(self.at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                    self.at += 1;
                }
                Token::Name(String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
            }
            other => {
                return Err(self.error(
                    format!("Parse error on \"{}\" (error) at {position:?}", char::from(other)),
                    position,
                ));
            }
        };
        Ok((token, position))
    }

    fn number(&mut self, position: (usize, usize)) -> Result<Token, ParseError> {
        let start = self.at;
        if self.text[self.at] == b'-' {
            self.at += 1;
        }
        let mut float = false;
        while let Some(&c) = self.text.get(self.at) {
            match c {
                b'0'..=b'9' => {}
                b'.' | b'e' | b'E' => float = true,
                b'+' | b'-' if float => {}
                _ => break,
            }
            self.at += 1;
        }
        let text = String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
        let bad = || {
            self.error(
                format!("Parse error on \"{text}\" (error) at [{}, {}]", position.0, position.1),
                position,
            )
        };
        if float {
            text.parse().map(Token::Float).map_err(|_| bad())
        } else {
            text.parse().map(Token::Int).map_err(|_| bad())
        }
    }

    fn string(&mut self, position: (usize, usize)) -> Result<Token, ParseError> {
        let unterminated = |lexer: &Self| {
            lexer.error(format!("Unterminated string at [{}, {}]", position.0, position.1), position)
        };
        if self.text.get(self.at..self.at + 3) == Some(b"\"\"\"") {
            self.at += 3;
            let start = self.at;
            loop {
                match self.text.get(self.at) {
                    None => return Err(unterminated(self)),
                    Some(b'"') if self.text.get(self.at..self.at + 3) == Some(b"\"\"\"") => break,
                    Some(b'\n') => {
                        self.line += 1;
                        self.line_start = self.at + 1;
                    }
                    _ => {}
                }
                self.at += 1;
            }
            let raw = String::from_utf8_lossy(&self.text[start..self.at]).replace("\\\"\"\"", "\"\"\"");
            self.at += 3;
            return Ok(Token::Str(raw.trim().to_owned()));
        }
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.text.get(self.at) {
                None | Some(b'\n') => return Err(unterminated(self)),
                Some(b'"') => {
                    self.at += 1;
                    break;
                }
                Some(b'\\') => {
                    let escaped = self.text.get(self.at + 1).copied().ok_or_else(|| unterminated(self))?;
                    self.at += 2;
                    match escaped {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex =
                                self.text.get(self.at..self.at + 4).and_then(|h| std::str::from_utf8(h).ok());
                            let c =
                                hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
                            let c = c.ok_or_else(|| self.error("Bad unicode escape".to_owned(), position))?;
                            out.extend_from_slice(c.to_string().as_bytes());
                            self.at += 4;
                        }
                        other => out.push(other),
                    }
                }
                Some(&c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
        Ok(Token::Str(String::from_utf8_lossy(&out).into_owned()))
    }
}
