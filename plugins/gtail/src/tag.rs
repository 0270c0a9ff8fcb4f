//! Per-file tags, composed as the native tail's `tag_compose` (plugins/in_tail/tail_file.c, 5.1.1)
//! does: `Tag app.*` puts the file's path in place of the `*`, and `tag_regex` fills `<name>`
//! placeholders from the named groups the regex captures in the path.

/// How a file's tag is made from the instance's `Tag`.
#[derive(Debug, Clone)]
pub enum TagRule {
    /// Every file gets the instance's tag (no `*`, no `tag_regex`).
    Fixed,
    /// `Tag` with a `*`: the path replaces it, then `/`, `\` and `:` become `.`, a leading one is
    /// dropped, runs of `.` become one, other `*` are dropped, and a trailing `.` goes.
    Star(String),
    /// `tag_regex`: `<name>` in `Tag` becomes the group's match, `_` when the group did not match.
    Regex(String, regex::Regex),
}

impl TagRule {
    pub fn new(instance_tag: &str, regex: Option<regex::Regex>) -> TagRule {
        match regex {
            Some(r) => TagRule::Regex(instance_tag.to_string(), r),
            None if instance_tag.contains('*') => TagRule::Star(instance_tag.to_string()),
            None => TagRule::Fixed,
        }
    }

    /// True when files get tags of their own.
    pub fn per_file(&self) -> bool {
        !matches!(self, TagRule::Fixed)
    }

    /// The tag for `path`; `Err` says why it cannot be composed (the caller uses the instance tag).
    pub fn compose(&self, path: &str) -> Result<String, String> {
        match self {
            TagRule::Fixed => Ok(String::new()),
            TagRule::Star(t) => Ok(star(t, path)),
            TagRule::Regex(t, r) => with_groups(t, r, path),
        }
    }
}

fn star(tag: &str, path: &str) -> String {
    let Some(at) = tag.find('*') else { return tag.to_string() };
    let raw = format!("{}{}{}", &tag[..at], path, &tag[at + 1..]);
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = if matches!(c, '/' | '\\' | ':') { '.' } else { c };
        match c {
            '.' if out.is_empty() || out.ends_with('.') => {}
            '*' => {}
            c => out.push(c),
        }
    }
    if out.ends_with('.') {
        out.pop();
    }
    out
}

fn with_groups(tag: &str, re: &regex::Regex, path: &str) -> Result<String, String> {
    let caps = re.captures(path).ok_or_else(|| format!("tag_regex does not match the path {path}"))?;
    let mut out = String::with_capacity(tag.len() + path.len());
    let mut rest = tag;
    while let Some(beg) = rest.find('<') {
        out.push_str(&rest[..beg]);
        let after = &rest[beg + 1..];
        let Some(end) = after.find('>').filter(|&e| !after[..e].contains('<')) else {
            return Err(format!(
                "missing closing angle bracket in tag {tag} at position {}",
                tag.len() - rest.len() + beg
            ));
        };
        match caps.name(&after[..end]).map(|m| m.as_str()).filter(|v| !v.is_empty()) {
            Some(v) => out.push_str(v),
            None => out.push('_'),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn star_of(tag: &str, path: &str) -> String {
        TagRule::new(tag, None).compose(path).expect("tag")
    }

    #[test]
    fn star_as_native() {
        assert_eq!(star_of("app.*", "/var/log/app/a.log"), "app.var.log.app.a.log");
        assert_eq!(star_of("*", "/var/log/a.log"), "var.log.a.log");
        assert_eq!(star_of("kube.*.x", "/var/log/containers/p_n_c-1.log"), "kube.var.log.containers.p_n_c-1.log.x");
        assert_eq!(star_of("a.*", "/x//y:z\\w/"), "a.x.y.z.w");
        assert!(!TagRule::new("plain", None).per_file());
    }

    #[test]
    fn regex_as_native() {
        let re = regex::Regex::new(r"/var/log/containers/(?<pod>[a-z0-9-]+)_(?<ns>[a-z0-9-]+)_(?<ctr>.+)\.log$")
            .expect("regex");
        let rule = TagRule::new("k8s.<ns>.<pod>.<missing>", Some(re));
        assert_eq!(rule.compose("/var/log/containers/web-1_prod_nginx.log").as_deref(), Ok("k8s.prod.web-1._"));
        assert!(rule.compose("/elsewhere/x.log").is_err());
        let re = regex::Regex::new("(?<a>x)").expect("regex");
        assert!(TagRule::new("t.<a", Some(re)).compose("x").is_err());
    }
}
