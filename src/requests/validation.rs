//! Checks on single values that the forms and the command line share.

/// Checks an email address more strictly than the HTML5 pattern `validator` uses: a dotted
/// domain of letters, digits and hyphens, and no spaces, quotes or `..`.
pub fn is_email(value: &str) -> bool {
    if value.len() > 254 {
        return false;
    }
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|ch| ch.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(ch));
    local_ok && is_domain(domain)
}

/// Checks for a dotted DNS name of letters, digits and hyphens, such as uwaterloo.ca.
pub fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
    });
    let top_level_ok =
        labels.last().is_some_and(|top| top.len() >= 2 && top.chars().all(|ch| ch.is_ascii_alphabetic()));
    labels.len() >= 2 && labels_ok && top_level_ok
}

/// Checks whether the address's domain is one of `allowed` or a subdomain of one,
/// compared case-insensitively. `allowed` must be lowercase.
pub fn is_in_domains(email: &str, allowed: &[String]) -> bool {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    allowed.iter().any(|allowed| domain == *allowed || domain.ends_with(&format!(".{allowed}")))
}

/// Checks for an absolute http or https URL with a host.
pub fn is_http_url(value: &str) -> bool {
    if value.chars().any(char::is_whitespace) {
        return false;
    }
    match url::Url::parse(value) {
        Ok(url) => matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|host| !host.is_empty()),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_accepts_common_addresses() {
        for value in ["a@uwaterloo.ca", "first.last+tag@math.uwaterloo.ca", "it-ops@Example.COM"] {
            assert!(is_email(value), "{value}");
        }
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for value in [
            "",
            "plain",
            "a@b",
            "a@@b.ca",
            "a b@c.ca",
            "a@-b.ca",
            ".a@b.ca",
            "a..b@c.ca",
            "a@b.c",
            "a@b.ca.",
            "\"a\"@b.ca",
        ] {
            assert!(!is_email(value), "{value}");
        }
    }

    #[test]
    fn domain_match_ignores_case() {
        let allowed = vec!["uwaterloo.ca".to_owned()];
        assert!(is_in_domains("Desk@UWaterloo.CA", &allowed));
    }

    #[test]
    fn domain_match_accepts_subdomain() {
        let allowed = vec!["uwaterloo.ca".to_owned()];
        assert!(is_in_domains("desk@math.uwaterloo.ca", &allowed));
    }

    #[test]
    fn domain_match_rejects_lookalike() {
        let allowed = vec!["uwaterloo.ca".to_owned()];
        for value in ["desk@evil-uwaterloo.ca", "desk@uwaterloo.ca.evil.com", "desk@gmail.com"] {
            assert!(!is_in_domains(value, &allowed), "{value}");
        }
    }

    #[test]
    fn url_accepts_http_and_https() {
        assert!(is_http_url("https://vendor.example/docs/m365"));
        assert!(is_http_url("http://vendor.example"));
    }

    #[test]
    fn url_rejects_other_schemes() {
        for value in [
            "javascript:alert(1)",
            "ftp://vendor.example/doc",
            "file:///etc/passwd",
            "vendor.example/docs",
            "https://",
            "https://a b.example",
        ] {
            assert!(!is_http_url(value), "{value}");
        }
    }
}
