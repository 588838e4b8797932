//! Strings with `{version}` placeholders (routing targets, `notFoundUri`, entry HTML), split
//! once at configuration time so that filling them in is a few copies.

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

pub const PLACEHOLDER: &str = "{version}";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    /// The text between placeholders: `parts.len() - 1` placeholders.
    parts: std::vec::Vec<String>,
}

impl Template {
    pub fn new(s: &str) -> Self {
        Template {
            parts: s.split(PLACEHOLDER).map(str::to_owned).collect(),
        }
    }

    /// Length of the text with `version` filled in.
    pub fn len(&self, version: &str) -> usize {
        self.parts.iter().map(String::len).sum::<usize>() + (self.parts.len() - 1) * version.len()
    }

    /// The text before the first placeholder: every rendering starts with it.
    pub fn literal_prefix(&self) -> &str {
        self.parts.first().map_or("", String::as_str)
    }

    /// The text with the placeholders left in.
    pub fn source(&self) -> String {
        self.parts.join(PLACEHOLDER)
    }

    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(String::is_empty)
    }

    /// Appends the text with `version` filled in to `out`.
    pub fn render_into<A: Allocator>(&self, version: &str, out: &mut Vec<u8, A>) {
        out.reserve(self.len(version));
        for (i, p) in self.parts.iter().enumerate() {
            if i > 0 {
                crate::buf::put(out, version.as_bytes());
            }
            crate::buf::put(out, p.as_bytes());
        }
    }

    pub fn render(&self, version: &str) -> String {
        let mut v = Vec::new();
        self.render_into(version, &mut v);
        String::from_utf8(v.to_vec()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders() {
        let t = Template::new("/mfe/app1/{version}/index.html");
        assert_eq!(t.render("1.0"), "/mfe/app1/1.0/index.html");
        assert_eq!(t.len("1.0"), "/mfe/app1/1.0/index.html".len());
        assert_eq!(Template::new("{version}{version}").render("v"), "vv");
        assert_eq!(Template::new("plain").render("v"), "plain");
        assert!(Template::new("").is_empty());
    }
}
