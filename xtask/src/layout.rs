//! The import rule of `tandem/src`, checked from the code's own paths.
//!
//! `tandem/src` has three parts: `wire` (shared by both sides), `server`
//! and `ui`. The rule:
//!
//! - the server side never imports the UI side;
//! - the wire imports neither;
//! - no file imports another that imports it back, however long the way
//!   round (no import circles), in `tandem/src`, the demo's crates and
//!   xtask.
//!
//! An import is a `crate::…` or `super::…` path in the code (comments and
//! strings left out), resolved to the deepest module it names; a parent
//! module's `mod child;` and its re-exports are declarations, not imports.

use crate::util::{fail, root, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates whose files must not import each other in a circle.
const CRATES: &[&str] = &[
    "tandem/src",
    "shared/src",
    "app/src",
    "server/src",
    "xtask/src",
];

/// (part, parts it must not import) in `tandem/src`.
const FORBIDDEN: &[(&str, &[&str])] = &[("server", &["ui"]), ("wire", &["server", "ui"])];

pub(crate) fn run() -> Result<()> {
    let mut problems = Vec::new();
    for krate in CRATES {
        let graph = Graph::read(&root().join(krate))?;
        if *krate == "tandem/src" {
            problems.extend(graph.forbidden(FORBIDDEN));
        }
        for circle in graph.circles() {
            problems.push(format!(
                "{krate}: an import circle: {}",
                circle.join(" -> ")
            ));
        }
    }
    if problems.is_empty() {
        println!("    the server side imports no UI module, the wire neither; no import circles");
        Ok(())
    } else {
        fail(problems.join("\n"))
    }
}

/// Modules (`a::b`, the root is `""`) and the modules each one imports.
#[derive(Debug, Default)]
struct Graph {
    imports: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn read(src: &Path) -> Result<Self> {
        let mut files = Vec::new();
        collect(src, &mut files)?;
        let sources: Vec<(String, String)> = files
            .iter()
            .map(|f| Ok((module_of(src, f), std::fs::read_to_string(f)?)))
            .collect::<Result<_>>()?;
        Ok(Self::from_sources(&sources))
    }

    fn from_sources(sources: &[(String, String)]) -> Self {
        let modules: BTreeSet<String> = sources.iter().map(|(m, _)| m.clone()).collect();
        let mut imports = BTreeMap::new();
        for (module, text) in sources {
            let mut to = BTreeSet::new();
            for path in paths(&code_only(text)) {
                if let Some(target) = resolve(module, &path, &modules) {
                    if target != *module {
                        to.insert(target);
                    }
                }
            }
            imports.insert(module.clone(), to);
        }
        Self { imports }
    }

    /// Imports that break the layering rule.
    fn forbidden(&self, rules: &[(&str, &[&str])]) -> Vec<String> {
        let part = |m: &str| m.split("::").next().unwrap_or("").to_string();
        let mut found = Vec::new();
        for (from, targets) in &self.imports {
            for (side, banned) in rules {
                if part(from) != *side {
                    continue;
                }
                for to in targets {
                    if banned.contains(&part(to).as_str()) {
                        found.push(format!(
                            "tandem/src: the {side} side imports the {} side: {from} -> {to}",
                            part(to)
                        ));
                    }
                }
            }
        }
        found
    }

    /// Every set of modules that import each other in a circle (Tarjan's
    /// strongly connected components of more than one module).
    fn circles(&self) -> Vec<Vec<String>> {
        struct State<'a> {
            graph: &'a Graph,
            index: BTreeMap<&'a str, usize>,
            low: BTreeMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on_stack: BTreeSet<&'a str>,
            found: Vec<Vec<String>>,
        }
        fn visit<'a>(s: &mut State<'a>, v: &'a str) {
            let i = s.index.len();
            s.index.insert(v, i);
            s.low.insert(v, i);
            s.stack.push(v);
            s.on_stack.insert(v);
            for w in s.graph.imports.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !s.graph.imports.contains_key(w) {
                    continue;
                }
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let low = s.low[v].min(s.low[w]);
                    s.low.insert(v, low);
                } else if s.on_stack.contains(w) {
                    let low = s.low[v].min(s.index[w]);
                    s.low.insert(v, low);
                }
            }
            if s.low[v] == s.index[v] {
                let mut component = Vec::new();
                while let Some(w) = s.stack.pop() {
                    s.on_stack.remove(w);
                    component.push(display(w));
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.reverse();
                    s.found.push(component);
                }
            }
        }
        let mut state = State {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            found: Vec::new(),
        };
        for v in self.imports.keys() {
            if !state.index.contains_key(v.as_str()) {
                visit(&mut state, v);
            }
        }
        state.found
    }
}

fn display(module: &str) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.to_string()
    }
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// `server/cache/mod.rs` → `server::cache`; `lib.rs`/`main.rs` → `""`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    // A binary's own files (`src/bin/x.rs`) are crates of their own.
    parts.join("::")
}

/// The code without comments, strings and character literals.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'/')) => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            (b'r', Some(b'#' | b'"')) if i == 0 || !is_ident(bytes[i - 1]) => {
                // A raw string r#"…"#.
                let mut j = i + 1;
                let mut hashes = 0;
                while bytes.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if bytes.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                let end: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                j += 1;
                while j < bytes.len() && !bytes[j..].starts_with(&end) {
                    j += 1;
                }
                i = j + end.len();
                out.push_str("\"\"");
            }
            (b'"', _) => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("\"\"");
            }
            (b'\'', _) => {
                // A char literal ('x', '\n'), not a lifetime ('a).
                let close = if bytes.get(i + 1) == Some(&b'\\') {
                    text[i + 2..].find('\'').map(|p| p + i + 2)
                } else if bytes.get(i + 2) == Some(&b'\'') {
                    Some(i + 2)
                } else {
                    None
                };
                match close {
                    Some(end) => {
                        i = end + 1;
                        out.push_str("' '");
                    }
                    None => {
                        out.push('\'');
                        i += 1;
                    }
                }
            }
            (b, _) => {
                out.push(b as char);
                i += 1;
            }
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Every `crate::a::b…` and `super::…` path, with `{…}` groups expanded to
/// their first segments.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let i = from + at;
            from = i + start.len();
            if i > 0 && is_ident(bytes[i - 1]) {
                continue;
            }
            let mut j = i;
            while j < bytes.len() && (is_ident(bytes[j]) || bytes[j] == b':') {
                j += 1;
            }
            let path = code[i..j].trim_end_matches(':').to_string();
            if code[j..].starts_with('{') && code[i..j].ends_with("::") {
                let end = code[j..].find('}').map(|e| j + e).unwrap_or(j);
                for item in code[j + 1..end].split(',') {
                    let item = item.trim();
                    let first: String = item
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    if !first.is_empty() {
                        found.push(format!("{path}::{}", first.trim_end_matches(':')));
                    }
                }
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// The deepest known module a path from `module` names.
fn resolve(module: &str, path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let mut segments: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").collect()
    };
    match segments.first() {
        Some(&"crate") => {
            base.clear();
            segments.remove(0);
        }
        Some(&"super") => {
            while segments.first() == Some(&"super") {
                segments.remove(0);
                base.pop()?;
            }
        }
        _ => return None,
    }
    let mut best = base.join("::");
    for segment in segments {
        base.push(segment);
        let candidate = base.join("::");
        if modules.contains(&candidate) {
            best = candidate;
        } else {
            break;
        }
    }
    modules.contains(&best).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> Graph {
        let sources: Vec<(String, String)> = files
            .iter()
            .map(|(m, t)| (m.to_string(), t.to_string()))
            .collect();
        Graph::from_sources(&sources)
    }

    #[test]
    fn a_server_import_of_the_ui_is_found() {
        let g = graph(&[
            ("", "pub mod server; pub mod ui; pub mod wire;"),
            ("server", "use crate::wire::Envelope;"),
            (
                "server::pipeline",
                "use crate::ui::form::Form; // crate::wire in a comment",
            ),
            ("ui", "mod form;"),
            ("ui::form", "use crate::wire::X;"),
            ("wire", "const A: &str = \"crate::server::x\";"),
        ]);
        let found = g.forbidden(FORBIDDEN);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("server::pipeline -> ui::form"),
            "{found:?}"
        );
    }

    #[test]
    fn circles_are_found_however_long() {
        let g = graph(&[
            ("a", "use super::b::X;"),
            ("b", "use crate::c::{Y, Z};"),
            ("c", "fn f() { crate::a::g() }"),
            ("d", "use crate::a::X;"),
        ]);
        let circles = g.circles();
        assert_eq!(circles.len(), 1, "{circles:?}");
        assert_eq!(circles[0].len(), 3);
        assert!(graph(&[("a", "use crate::b::X;"), ("b", "")])
            .circles()
            .is_empty());
    }

    #[test]
    fn paths_resolve_to_the_deepest_known_module() {
        let modules: BTreeSet<String> = ["", "server", "server::cache", "wire"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            resolve("server::cache", "super::super::wire::Effects", &modules).as_deref(),
            Some("wire")
        );
        assert_eq!(
            resolve("wire", "crate::server::cache::Cache", &modules).as_deref(),
            Some("server::cache")
        );
        assert_eq!(
            resolve("server::cache", "super::X", &modules).as_deref(),
            Some("server")
        );
    }

    #[test]
    fn the_real_tree_keeps_the_rule() {
        run().expect("the layout of tandem/src");
    }
}
