//! The GS1 Barcode Syntax Dictionary, read from the data file that carries
//! it (`data/gs1syntax.ps`), with the data titles from
//! `data/application_identifiers.json`. See `data/README.md` for where both
//! come from and their licences.
//!
//! The file is the dictionary as Barcode Writer in Pure PostScript holds
//! it: a PostScript dictionary literal. Only the handful of constructs it
//! uses are read here (`<< >>`, `[ ]`, `(strings)`, `/names`, integers,
//! booleans, and the words that build the dictionary), so this is a reader
//! of that one file's shape, not of PostScript. It is read once, on first
//! use; a file that does not have that shape is a build defect that the
//! unit tests catch, never a scan problem.

use std::collections::HashMap;

use serde::Deserialize;

static SYNTAX: &str = include_str!("data/gs1syntax.ps");
static TITLES: &str = include_str!("data/application_identifiers.json");

/// Which characters a component may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Cset {
    /// `N`: digits.
    Numeric,
    /// `X`: GS1 AI encodable character set 82.
    Cset82,
    /// `Y`: GS1 AI encodable character set 39.
    Cset39,
    /// `Z`: GS1 AI encodable character set 64 (file-safe base64).
    Cset64,
}

/// One component of an AI's value: `N6` with the `yymmdd` linter, say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Part {
    pub(super) cset: Cset,
    pub(super) min: usize,
    pub(super) max: usize,
    /// May be left out (only where nothing follows it).
    pub(super) optional: bool,
    /// The names of the GS1 Barcode Syntax Tests to run, without the
    /// `lint` prefix: `csum`, `yymmd0`, `iso3166`, …
    pub(super) linters: Vec<String>,
}

/// One AI of the dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AiDef {
    pub(super) code: String,
    pub(super) title: String,
    pub(super) parts: Vec<Part>,
    /// Whether an FNC1 must follow the value when another element comes
    /// after it: true unless the AI's first two digits are in the
    /// predefined-length table (General Specifications, figure 7.8.5-2).
    pub(super) fnc1: bool,
    /// Requisite AIs (General Specifications 4.14.2): every inner list of
    /// alternatives must have one alternative whose AIs are all present.
    /// `nn` stands for any two digits (`31nn`).
    pub(super) requires: Vec<Vec<Vec<String>>>,
    /// AIs that may not appear together with this one (4.14.1).
    pub(super) excludes: Vec<String>,
    /// For a GS1 Digital Link primary key, the sequences of key qualifiers
    /// that may follow it in the path; `None` for other AIs.
    pub(super) dl_qualifiers: Option<Vec<Vec<String>>>,
    /// Whether it may be a Digital Link data attribute (query parameter).
    pub(super) dl_attribute: bool,
}

/// The whole dictionary: the AIs, the predefined-length prefixes and the
/// code lists that linters look values up in.
#[derive(Debug)]
pub(super) struct Dictionary {
    pub(super) ais: Vec<AiDef>,
    pub(super) by_code: HashMap<String, usize>,
    pub(super) lists: HashMap<String, Vec<String>>,
}

/// What the dictionary file holds, parsed. Panics only on a file of the
/// wrong shape: the files are compiled in, so that is a defect of the build,
/// never of a scan, and `the_dictionary_reads` fails on it first. Going on
/// with an empty table instead would refuse every scan as unknown AIs.
pub(super) fn load() -> Dictionary {
    #[allow(clippy::expect_used)]
    let dictionary =
        read(SYNTAX, TITLES).expect("data/gs1syntax.ps has the shape this reader knows");
    dictionary
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenArray,
    CloseArray,
    OpenProc,
    CloseProc,
    Str(String),
    Name(String),
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '%' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            c if c.is_whitespace() => {}
            '<' if chars.peek() == Some(&'<') => {
                chars.next();
                out.push(Token::Open);
            }
            '>' if chars.peek() == Some(&'>') => {
                chars.next();
                out.push(Token::Close);
            }
            '[' => out.push(Token::OpenArray),
            ']' => out.push(Token::CloseArray),
            '{' => out.push(Token::OpenProc),
            '}' => out.push(Token::CloseProc),
            '(' => {
                let mut s = String::new();
                let mut depth = 0;
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('\\') => s.extend(chars.next()),
                        Some('(') => {
                            depth += 1;
                            s.push('(');
                        }
                        Some(')') if depth == 0 => break,
                        Some(')') => {
                            depth -= 1;
                            s.push(')');
                        }
                        Some(c) => s.push(c),
                    }
                }
                out.push(Token::Str(s));
            }
            _ => {
                let mut word = String::new();
                if c != '/' {
                    word.push(c);
                }
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || "[]{}()<>/%".contains(n) {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                out.push(if c == '/' {
                    Token::Name(word)
                } else {
                    Token::Word(word)
                });
            }
        }
    }
    Ok(out)
}

/// A PostScript value as far as the file uses them.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Dict(Vec<(String, Value)>),
    Array(Vec<Value>),
    Str(String),
    Name(String),
    Word(String),
}

struct Reader {
    tokens: Vec<Token>,
    at: usize,
}

impl Reader {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn expect(&mut self, want: &Token) -> Result<(), String> {
        match self.next() {
            Some(t) if &t == want => Ok(()),
            other => Err(format!("expected {want:?}, found {other:?}")),
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Token::Open) => {
                let mut entries = Vec::new();
                loop {
                    match self.next() {
                        Some(Token::Close) => return Ok(Value::Dict(entries)),
                        Some(Token::Name(key)) => entries.push((key, self.value()?)),
                        other => return Err(format!("expected a key, found {other:?}")),
                    }
                }
            }
            Some(Token::OpenArray) => {
                let mut items = Vec::new();
                while self.peek() != Some(&Token::CloseArray) {
                    if self.peek().is_none() {
                        return Err("unterminated array".into());
                    }
                    items.push(self.value()?);
                }
                self.at += 1;
                Ok(Value::Array(items))
            }
            Some(Token::Str(s)) => Ok(Value::Str(s)),
            Some(Token::Name(s)) => Ok(Value::Name(s)),
            Some(Token::Word(s)) => Ok(Value::Word(s)),
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
}

fn get<'a>(dict: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    dict.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn strings(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Str(s) | Value::Name(s) => Ok(s.clone()),
                other => Err(format!("expected a string, found {other:?}")),
            })
            .collect(),
        other => Err(format!("expected an array, found {other:?}")),
    }
}

fn arrays(value: &Value) -> Result<Vec<&Value>, String> {
    match value {
        Value::Array(items) => Ok(items.iter().collect()),
        other => Err(format!("expected an array, found {other:?}")),
    }
}

fn number(value: Option<&Value>) -> Result<usize, String> {
    match value {
        Some(Value::Word(w)) => w.parse().map_err(|_| format!("not a number: {w}")),
        other => Err(format!("expected a number, found {other:?}")),
    }
}

fn part(value: &Value) -> Result<Part, String> {
    let Value::Dict(d) = value else {
        return Err(format!("expected a component, found {value:?}"));
    };
    let cset = match get(d, "cset") {
        Some(Value::Name(n)) if n == "N" => Cset::Numeric,
        Some(Value::Name(n)) if n == "X" => Cset::Cset82,
        Some(Value::Name(n)) if n == "Y" => Cset::Cset39,
        Some(Value::Name(n)) if n == "Z" => Cset::Cset64,
        other => return Err(format!("unknown character set {other:?}")),
    };
    let linters = match get(d, "linters") {
        Some(v) => strings(v)?
            .into_iter()
            .map(|l| l.strip_prefix("lint").map(str::to_owned).unwrap_or(l))
            .collect(),
        None => Vec::new(),
    };
    Ok(Part {
        cset,
        min: number(get(d, "min"))?,
        max: number(get(d, "max"))?,
        optional: matches!(get(d, "opt"), Some(Value::Word(w)) if w == "true"),
        linters,
    })
}

#[derive(Deserialize)]
struct TitleRow {
    ai: String,
    data_title: String,
    description: String,
}

fn read(syntax: &str, titles: &str) -> Result<Dictionary, String> {
    let titles: Vec<TitleRow> = serde_json::from_str(titles).map_err(|e| e.to_string())?;
    // A few coupon AIs have no data title; their description stands in.
    let titles: HashMap<String, String> = titles
        .into_iter()
        .map(|r| {
            let title = if r.data_title.is_empty() {
                r.description
            } else {
                r.data_title
            };
            (r.ai, title)
        })
        .collect();
    let mut r = Reader {
        tokens: tokenize(syntax)?,
        at: 0,
    };
    let mut entries: Vec<(String, Vec<(String, Value)>)> = Vec::new();
    let mut fixed_prefixes = Vec::new();
    let mut lists = HashMap::new();
    while let Some(token) = r.next() {
        let Token::Name(name) = token else {
            return Err(format!("expected a definition, found {token:?}"));
        };
        r.expect(&Token::Open)?;
        match name.as_str() {
            // `<< entry (ai) exch dup (ai) exch dup … pop … >>`
            "gs1syntax" => loop {
                match r.peek() {
                    Some(Token::Close) => {
                        r.at += 1;
                        break;
                    }
                    Some(Token::Open) => {}
                    other => return Err(format!("expected an entry, found {other:?}")),
                }
                let Value::Dict(entry) = r.value()? else {
                    return Err("expected an entry".into());
                };
                loop {
                    match r.next() {
                        Some(Token::Str(ai)) => {
                            r.expect(&Token::Word("exch".into()))?;
                            r.expect(&Token::Word("dup".into()))?;
                            entries.push((ai, entry.clone()));
                        }
                        Some(Token::Word(w)) if w == "pop" => break,
                        other => return Err(format!("expected an AI, found {other:?}")),
                    }
                }
            },
            // `<< 0 (characters) { exch dup 1 add } forall pop >>`
            "cset82" | "cset39" | "cset32" | "cset64" => {
                r.expect(&Token::Word("0".into()))?;
                let Some(Token::Str(chars)) = r.next() else {
                    return Err(format!("{name}: expected its characters"));
                };
                lists.insert(name.clone(), chars.chars().map(String::from).collect());
                while r.next().is_some_and(|t| t != Token::Close) {}
            }
            // `<< [ items ] {dup} forall >>`
            _ => {
                let items = strings(&r.value()?)?;
                while r.next().is_some_and(|t| t != Token::Close) {}
                if name == "aifixed" {
                    fixed_prefixes = items;
                } else {
                    lists.insert(name.clone(), items);
                }
            }
        }
        r.expect(&Token::Word("readonly".into()))?;
        r.expect(&Token::Word("def".into()))?;
    }

    let mut ais = Vec::with_capacity(entries.len());
    for (code, entry) in entries {
        let parts = arrays(get(&entry, "parts").ok_or(format!("({code}) has no parts"))?)?
            .into_iter()
            .map(part)
            .collect::<Result<Vec<_>, _>>()?;
        let requires = match get(&entry, "req") {
            Some(v) => arrays(v)?
                .into_iter()
                .map(|alternatives| {
                    arrays(alternatives)?
                        .into_iter()
                        .map(strings)
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let excludes = get(&entry, "ex")
            .map(strings)
            .transpose()?
            .unwrap_or_default();
        let dl_qualifiers = get(&entry, "dlpkey")
            .map(|v| arrays(v)?.into_iter().map(strings).collect())
            .transpose()?;
        let dl_attribute = !matches!(get(&entry, "dlattr"), Some(Value::Word(w)) if w == "false");
        let title = titles
            .get(&code)
            .cloned()
            .ok_or(format!("({code}) has no data title"))?;
        let fnc1 = !fixed_prefixes.iter().any(|p| code.starts_with(p.as_str()));
        ais.push(AiDef {
            code,
            title,
            parts,
            fnc1,
            requires,
            excludes,
            dl_qualifiers,
            dl_attribute,
        });
    }
    if ais.is_empty() || fixed_prefixes.is_empty() {
        return Err("no AIs or no predefined-length table".into());
    }
    let by_code = ais
        .iter()
        .enumerate()
        .map(|(i, def)| (def.code.clone(), i))
        .collect();
    Ok(Dictionary {
        ais,
        by_code,
        lists,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_dictionary_reads() {
        let d = read(SYNTAX, TITLES).unwrap();
        // Every AI of the General Specifications, each once.
        assert!(d.ais.len() > 500, "{}", d.ais.len());
        assert_eq!(d.by_code.len(), d.ais.len());
        let gtin = &d.ais[d.by_code["01"]];
        assert_eq!(gtin.title, "GTIN");
        assert_eq!(gtin.parts.len(), 1);
        assert_eq!(gtin.parts[0].cset, Cset::Numeric);
        assert_eq!((gtin.parts[0].min, gtin.parts[0].max), (14, 14));
        assert!(gtin.parts[0].linters.contains(&"csum".to_owned()));
        assert!(!gtin.fnc1);
        assert!(gtin.excludes.contains(&"37".to_owned()));
        assert_eq!(
            gtin.dl_qualifiers,
            Some(vec![
                vec!["22".to_owned(), "10".to_owned(), "21".to_owned()],
                vec!["235".to_owned()]
            ])
        );
        let lot = &d.ais[d.by_code["10"]];
        assert!(lot.fnc1);
        assert_eq!(lot.parts[0].cset, Cset::Cset82);
        assert_eq!(lot.requires[0][0], vec!["01".to_owned()]);
        assert!(!d.ais[d.by_code["3103"]].fnc1);
        assert!(!d.ais[d.by_code["410"]].fnc1 && d.ais[d.by_code["7003"]].fnc1);
        assert!(d.lists["iso3166"].contains(&"208".to_owned()));
        assert_eq!(d.lists["cset82"].len(), 82);
        assert_eq!(d.lists["cset39"].len(), 39);
        assert_eq!(d.lists["cset32"].len(), 32);
        assert_eq!(d.lists["cset64"].len(), 64);
        // 7003: expiry date and time, N6 + N4 with their linters.
        let when = &d.ais[d.by_code["7003"]];
        assert_eq!(when.parts.len(), 2);
        assert_eq!(when.parts[1].linters, vec!["hhmi".to_owned()]);
    }

    #[test]
    fn a_broken_file_is_an_error_not_a_panic() {
        assert!(read("/gs1syntax << <<", TITLES).is_err());
        assert!(read("/gs1syntax << >> readonly def", TITLES).is_err());
        assert!(read("(unterminated", TITLES).is_err());
    }
}
