//! Plausibility checks for e-mail addresses, phone numbers and URLs. They catch typos and
//! unsafe values (a `javascript:` link rendered in the UI); whether an address really
//! exists is for a confirmation mail, not for us.

/// The address with its domain lower-cased (domains are case-insensitive), or why not.
pub fn email(text: &str) -> Result<String, &'static str> {
    if text.chars().count() > 254 {
        return Err("an e-mail address has at most 254 characters");
    }
    let (local, domain) = text.rsplit_once('@').ok_or("an e-mail address needs an @")?;
    if local.is_empty() || local.chars().count() > 64 {
        return Err("the part before @ must have 1 to 64 characters");
    }
    let local_ok = local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return Err("the part before @ has characters an address cannot have");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || !labels.iter().all(|l| domain_label(l)) {
        return Err("the part after @ is not a domain such as example.com");
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

fn domain_label(label: &str) -> bool {
    !label.is_empty()
        && label.chars().count() <= 63
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Digits with the usual separators and an optional leading `+`, kept as written.
pub fn phone(text: &str) -> Result<(), &'static str> {
    let body = text.strip_prefix('+').unwrap_or(text);
    if !body.chars().all(|c| c.is_ascii_digit() || " -().".contains(c)) {
        return Err("a phone number has digits, spaces, - ( ) . and an optional leading +");
    }
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if !(5..=20).contains(&digits) {
        return Err("a phone number has 5 to 20 digits");
    }
    Ok(())
}

/// An absolute http or https URL.
pub fn url(text: &str) -> Result<(), &'static str> {
    if text.len() > 2048 {
        return Err("a URL has at most 2048 characters");
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a URL cannot contain spaces or control characters");
    }
    let (scheme, rest) = text.split_once("://").ok_or("a URL starts with http:// or https://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err("a URL starts with http:// or https://");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port.split_once(']').map_or("", |(h, _)| h.trim_start_matches('['))
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_alphanumeric() || ".-:".contains(c));
    if !host_ok {
        return Err("the URL has no valid host name");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email("li.lei@Example.COM"), Ok("li.lei@example.com".to_owned()));
        assert_eq!(email("a+tag@mail.co.uk"), Ok("a+tag@mail.co.uk".to_owned()));
        assert_eq!(email("王@例子.中国"), Ok("王@例子.中国".to_owned()));
        let bad = [
            ("plain", "an e-mail address needs an @"),
            ("@x.com", "the part before @ must have 1 to 64 characters"),
            ("a b@x.com", "the part before @ has characters an address cannot have"),
            (".a@x.com", "the part before @ has characters an address cannot have"),
            ("a@localhost", "the part after @ is not a domain such as example.com"),
            ("a@x..com", "the part after @ is not a domain such as example.com"),
            ("a@-x.com", "the part after @ is not a domain such as example.com"),
        ];
        for (text, reason) in bad {
            assert_eq!(email(text), Err(reason), "{text}");
        }
    }

    #[test]
    fn phones() {
        for good in ["+86 138 0013 8000", "(021) 5555-1234", "12345"] {
            assert_eq!(phone(good), Ok(()), "{good}");
        }
        assert_eq!(phone("1234"), Err("a phone number has 5 to 20 digits"));
        assert_eq!(phone("call me"), Err("a phone number has digits, spaces, - ( ) . and an optional leading +"));
        assert_eq!(phone("12+345678"), Err("a phone number has digits, spaces, - ( ) . and an optional leading +"));
    }

    #[test]
    fn urls() {
        for good in ["https://example.com", "http://x.cn:8080/a?b=c#d", "https://user@host.io/", "http://[::1]:80/"] {
            assert_eq!(url(good), Ok(()), "{good}");
        }
        let bad = [
            ("javascript:alert(1)", "a URL starts with http:// or https://"),
            ("ftp://x.com", "a URL starts with http:// or https://"),
            ("https://", "the URL has no valid host name"),
            ("https://exa mple.com", "a URL cannot contain spaces or control characters"),
            ("https://<x>/", "the URL has no valid host name"),
        ];
        for (text, reason) in bad {
            assert_eq!(url(text), Err(reason), "{text}");
        }
    }
}
