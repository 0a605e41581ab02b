//! JSON pointers (RFC 6901) naming the place of a problem in a declaration or an input, so
//! the UI can put each message next to the control that caused it.

use std::fmt::Display;

/// `base` extended by one reference token, escaped so that keys holding `/` or `~` stay
/// one token.
pub fn child(base: &str, token: impl Display) -> String {
    use std::fmt::Write;
    // One allocation unless escaping.
    let mut out = String::with_capacity(base.len() + 24);
    out.push_str(base);
    out.push('/');
    let start = out.len();
    let _ = write!(out, "{token}");
    if out[start..].contains(['~', '/']) {
        let escaped = out[start..].replace('~', "~0").replace('/', "~1");
        out.truncate(start);
        out.push_str(&escaped);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::child;

    #[test]
    fn tokens_are_escaped() {
        assert_eq!(child("", "fields"), "/fields");
        assert_eq!(child("/fields", 3), "/fields/3");
        assert_eq!(child("/set", "a/b~c"), "/set/a~1b~0c");
    }
}
