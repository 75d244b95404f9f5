//! `pattern` as Go's `regexp` (RE2) reads it, compiled with Rust's `regex`: the Perl classes
//! `\d`, `\w`, `\s` and the word boundaries `\b`, `\B` are ASCII-only in Go and Unicode-aware
//! in Rust, so they are rewritten to their ASCII forms before compiling. Entry point:
//! [`compile`].

/// Compiles a schema `pattern` with Go's semantics for Perl classes.
///
/// # Errors
/// The `regex` error when the pattern is not a valid regular expression.
pub fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&asciify(pattern))
}

/// Rewrites `\d \D \w \W \s \S \b \B` to ASCII classes, inside and outside brackets; every
/// other escape is copied as written.
pub fn asciify(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    // Position inside the class: a `]` right after `[` or `[^` is a literal.
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let replacement = match (in_class, n) {
                    (false, 'd') => Some("[0-9]"),
                    (false, 'D') => Some("[^0-9]"),
                    (false, 'w') => Some("[0-9A-Za-z_]"),
                    (false, 'W') => Some("[^0-9A-Za-z_]"),
                    (false, 's') => Some("[\\t\\n\\f\\r ]"),
                    (false, 'S') => Some("[^\\t\\n\\f\\r ]"),
                    (false, 'b') => Some("(?-u:\\b)"),
                    (false, 'B') => Some("(?-u:\\B)"),
                    (true, 'd') => Some("0-9"),
                    (true, 'D') => Some("[:^digit:]"),
                    (true, 'w') => Some("0-9A-Za-z_"),
                    (true, 'W') => Some("[:^word:]"),
                    (true, 's') => Some("\\t\\n\\f\\r "),
                    (true, 'S') => Some("[:^space:]"),
                    _ => None,
                };
                match replacement {
                    Some(r) => out.push_str(r),
                    None => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                class_start = false;
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class `[:alpha:]` inside brackets: copy through its `:]`.
                out.push('[');
                let mut prev = '[';
                for d in chars.by_ref() {
                    out.push(d);
                    if prev == ':' && d == ']' {
                        break;
                    }
                    prev = d;
                }
                class_start = false;
            }
            ']' if in_class && !class_start => {
                in_class = false;
                out.push(']');
            }
            other => {
                out.push(other);
                class_start = false;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{asciify, compile};

    #[test]
    fn perl_classes_become_ascii() {
        assert_eq!(asciify(r"^\d+$"), "^[0-9]+$");
        assert_eq!(asciify(r"[\d.]+"), "[0-9.]+");
        assert_eq!(asciify(r"[^\s]"), r"[^\t\n\f\r ]");
        assert_eq!(asciify(r"a\.b\\d"), r"a\.b\\d");
        assert_eq!(asciify(r"[]\d]"), "[]0-9]");
        assert_eq!(asciify(r"[[:alpha:]\d]"), "[[:alpha:]0-9]");
        assert_eq!(asciify(r"[\D]"), "[[:^digit:]]");
        let re = compile(r"^\d+$").expect("valid");
        assert!(re.is_match("123"));
        // Arabic-Indic digits are digits to Rust's Unicode `\d`, not to Go's.
        assert!(!re.is_match("١٢٣"));
        assert!(compile(r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$").is_ok());
        assert!(compile("(").is_err());
    }
}
