//! What the release wasm is made of: `cargo xtask size`.
//!
//! Reads the wasm rustc linked (before wasm-bindgen and wasm-opt, which
//! drop the function names), sums each function body's bytes under the
//! crate its name starts with, and prints the largest crates beside the
//! data segments (string constants, Unicode and lookup tables). The
//! figures are raw bytes of code before wasm-opt: good for "who is big"
//! and for a before/after of one change, not for what the browser
//! downloads (`cargo xtask build` prints that).

use crate::util::{fail, root, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Names another linked wasm to measure (a floor of the bench, say:
/// `target/floor/wasm32-unknown-unknown/wasm-release/floor.wasm`).
const SIZE_WASM: &str = "SIZE_WASM";

/// The linked wasm of the `client` crate in the `wasm-release` profile
/// (`lib-profile-release`), as `cargo leptos build --release` leaves it, or
/// the one [`SIZE_WASM`] names.
pub(crate) fn linked_wasm() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(SIZE_WASM) {
        return Ok(PathBuf::from(path));
    }
    let candidates = [
        "target/front/wasm32-unknown-unknown/wasm-release/client.wasm",
        "target/wasm32-unknown-unknown/wasm-release/client.wasm",
    ];
    for c in candidates {
        let path = root().join(c);
        if path.exists() {
            return Ok(path);
        }
    }
    fail(format!(
        "no linked wasm at {}: run `cargo xtask build` first",
        candidates.join(" or ")
    ))
}

/// `cargo xtask size [n] [crate]`: the `top` largest crates of the linked
/// wasm, or the `top` largest functions of one crate.
pub(crate) fn run(top: usize, of_crate: Option<&str>) -> Result<()> {
    let path = linked_wasm()?;
    let bytes = std::fs::read(&path)?;
    let parts = Composition::of(&bytes)?;
    println!("{} ({} bytes)", path.display(), bytes.len());
    match of_crate {
        None => print!("{}", parts.table(top)),
        Some(krate) => print!("{}", parts.functions_of(krate, top)),
    }
    Ok(())
}

/// A wasm module's bytes, by where they come from.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Composition {
    /// Function body bytes per crate (the first path segment of the
    /// demangled name; `<A as B>::f` counts under `A`'s crate).
    pub(crate) code: BTreeMap<String, u64>,
    /// Every shipped function: its crate, its demangled name and its
    /// body's bytes.
    pub(crate) functions: Vec<(String, String, u64)>,
    /// Bytes of data segments.
    pub(crate) data: u64,
    /// What the browser never gets: custom sections (function names,
    /// wasm-bindgen's descriptors), the `__wbindgen_describe_*` functions
    /// and the export section, which wasm-bindgen removes or rewrites.
    pub(crate) unshipped: u64,
    /// Everything else: headers, types, imports, tables.
    pub(crate) other: u64,
}

impl Composition {
    /// Reads a module.
    pub(crate) fn of(wasm: &[u8]) -> Result<Self> {
        let mut r = Reader { bytes: wasm, at: 0 };
        if r.take(8)? != b"\0asm\x01\0\0\0" {
            return fail("not a wasm module (bad magic or version)");
        }
        let mut imported_functions = 0u32;
        let mut bodies: Vec<u64> = Vec::new();
        let mut names: BTreeMap<u32, String> = BTreeMap::new();
        let mut data = 0u64;
        let mut unshipped = 0u64;
        while r.at < wasm.len() {
            let id = r.byte()?;
            let size = r.leb()? as usize;
            let start = r.at;
            let mut section = Reader {
                bytes: r.take(size)?,
                at: 0,
            };
            match id {
                2 => imported_functions = section.imported_functions()?,
                10 => {
                    let count = section.leb()?;
                    for _ in 0..count {
                        let len = section.leb()? as usize;
                        section.take(len)?;
                        bodies.push(len as u64);
                    }
                }
                11 => data += size as u64,
                7 => unshipped += size as u64,
                0 => {
                    unshipped += size as u64;
                    let len = section.leb()? as usize;
                    if section.take(len)? == b"name" {
                        section.function_names(&mut names)?;
                    }
                }
                _ => {}
            }
            debug_assert_eq!(r.at, start + size);
        }
        let mut code: BTreeMap<String, u64> = BTreeMap::new();
        let mut counted = 0u64;
        let mut functions = Vec::new();
        let sections = unshipped;
        for (i, len) in bodies.iter().enumerate() {
            let index = imported_functions + i as u32;
            let name = names.get(&index);
            counted += len;
            if name.is_some_and(|n| n.starts_with("__wbindgen_describe")) {
                unshipped += len;
                continue;
            }
            let krate = name
                .map(|n| crate_of(n))
                .unwrap_or_else(|| "(no name)".to_string());
            *code.entry(krate.clone()).or_default() += len;
            let demangled = name
                .map(|n| format!("{:#}", rustc_demangle::demangle(n)))
                .unwrap_or_default();
            functions.push((krate, demangled, *len));
        }
        Ok(Composition {
            code,
            functions,
            data,
            unshipped,
            other: wasm.len() as u64 - counted - data - sections,
        })
    }

    /// The `top` largest functions of `krate`, as a Markdown table.
    pub(crate) fn functions_of(&self, krate: &str, top: usize) -> String {
        let mut fns: Vec<&(String, String, u64)> =
            self.functions.iter().filter(|f| f.0 == krate).collect();
        fns.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
        let all: u64 = fns.iter().map(|f| f.2).sum();
        let mut out = format!(
            "{} functions of {krate}, {all} bytes\n\n| function | bytes |\n|---|---:|\n",
            fns.len()
        );
        for (_, name, len) in fns.iter().take(top) {
            let name: String = name.chars().take(160).collect();
            out += &format!("| `{}` | {len} |\n", name.replace('|', "\\|"));
        }
        out
    }

    /// The `top` largest crates, then data and the rest, as a Markdown
    /// table; shares are of what ships (custom sections left out).
    pub(crate) fn table(&self, top: usize) -> String {
        let total = self.code.values().sum::<u64>() + self.data + self.other;
        let mut rows: Vec<(&str, u64)> = self.code.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let rest: u64 = rows.iter().skip(top).map(|r| r.1).sum();
        let mut out = String::from("| part | bytes | share |\n|---|---:|---:|\n");
        let pct = |v: u64| 100.0 * v as f64 / total.max(1) as f64;
        for (name, v) in rows.iter().take(top) {
            out += &format!("| {name} | {v} | {:.1}% |\n", pct(*v));
        }
        if rows.len() > top {
            out += &format!(
                "| code of {} other crates | {rest} | {:.1}% |\n",
                rows.len() - top,
                pct(rest)
            );
        }
        out += &format!(
            "| data segments | {} | {:.1}% |\n",
            self.data,
            pct(self.data)
        );
        out += &format!(
            "| types, imports, tables, headers | {} | {:.1}% |\n",
            self.other,
            pct(self.other)
        );
        out += &format!("| **total shipped** | **{total}** | 100% |\n");
        out += &format!(
            "| not shipped: names, exports, wasm-bindgen's descriptors | {} | – |\n",
            self.unshipped
        );
        out
    }
}

/// The crate a (mangled) symbol belongs to; symbols that are not Rust
/// paths (wasm-bindgen's exports, C builtins) count together.
fn crate_of(symbol: &str) -> String {
    let Ok(demangled) = rustc_demangle::try_demangle(symbol) else {
        return "(not Rust symbols)".to_string();
    };
    let demangled = format!("{demangled:#}");
    let path = demangled.trim_start_matches(['<', '&', '*', '(', '[', ' ']);
    let path = path.strip_prefix("mut ").unwrap_or(path);
    let path = path.strip_prefix("dyn ").unwrap_or(path);
    let end = path
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(path.len());
    let (name, after) = path.split_at(end);
    if name.is_empty() {
        return "(other)".to_string();
    }
    if after.starts_with("::") {
        return name.to_string();
    }
    // A blanket impl (`<T as reactive_graph::traits::Get>::get`): the
    // code is the trait's; a bare type name (`<Match as …>`) likewise.
    match after.split_once(" as ") {
        Some((_, tr)) => crate_of_path(tr),
        None => "(generic)".to_string(),
    }
}

/// The first segment of a path that has one.
fn crate_of_path(path: &str) -> String {
    let path = path.trim_start_matches(['<', '&', '*', '(', '[', ' ']);
    let path = path.strip_prefix("dyn ").unwrap_or(path);
    let end = path
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(path.len());
    if path[end..].starts_with("::") {
        path[..end].to_string()
    } else {
        "(generic)".to_string()
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.at..end];
                self.at = end;
                Ok(s)
            }
            None => fail("truncated wasm module"),
        }
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn leb(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        fail("bad LEB128 number in wasm module")
    }

    fn name(&mut self) -> Result<&'a [u8]> {
        let len = self.leb()? as usize;
        self.take(len)
    }

    fn limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }

    /// Counts the function imports (they take the first function indices).
    fn imported_functions(&mut self) -> Result<u32> {
        let count = self.leb()?;
        let mut functions = 0;
        for _ in 0..count {
            self.name()?;
            self.name()?;
            match self.byte()? {
                0 => {
                    self.leb()?;
                    functions += 1;
                }
                1 => {
                    self.byte()?;
                    self.limits()?;
                }
                2 => self.limits()?,
                3 => {
                    self.byte()?;
                    self.byte()?;
                }
                4 => {
                    self.byte()?;
                    self.leb()?;
                }
                other => return fail(format!("unknown import kind {other} in wasm module")),
            }
        }
        Ok(functions)
    }

    /// Reads the function-names subsection of a `name` custom section.
    fn function_names(&mut self, names: &mut BTreeMap<u32, String>) -> Result<()> {
        while self.at < self.bytes.len() {
            let id = self.byte()?;
            let len = self.leb()? as usize;
            let mut sub = Reader {
                bytes: self.take(len)?,
                at: 0,
            };
            if id == 1 {
                let count = sub.leb()?;
                for _ in 0..count {
                    let index = sub.leb()? as u32;
                    let name = String::from_utf8_lossy(sub.name()?).into_owned();
                    names.insert(index, name);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_wasm_names_another_wasm() {
        std::env::set_var(SIZE_WASM, "/elsewhere/floor.wasm");
        let named = linked_wasm();
        std::env::remove_var(SIZE_WASM);
        assert_eq!(
            named.expect("a path"),
            PathBuf::from("/elsewhere/floor.wasm")
        );
    }

    fn leb(mut v: usize, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
        out.push(id);
        leb(body.len(), out);
        out.extend_from_slice(body);
    }

    fn string(s: &str, out: &mut Vec<u8>) {
        leb(s.len(), out);
        out.extend_from_slice(s.as_bytes());
    }

    /// One imported function, then two bodies (3 and 200 bytes) named by
    /// mangled Rust paths, and a data section.
    fn module() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        let mut imports = vec![2];
        string("env", &mut imports);
        string("f", &mut imports);
        imports.extend([0, 0]);
        string("env", &mut imports);
        string("memory", &mut imports);
        imports.extend([2, 1, 1, 2]);
        section(2, &imports, &mut m);
        let mut code = vec![2];
        code.extend([3, 0, 0, 0x0b]);
        leb(200, &mut code);
        code.extend(std::iter::repeat_n(0, 200));
        section(10, &code, &mut m);
        section(11, &[0; 50], &mut m);
        let mut names = Vec::new();
        string("name", &mut names);
        let mut fns = vec![3];
        for (i, n) in [
            "wbg_import",
            "_ZN10serde_json2de5parse17h0123456789abcdefE",
            "_ZN66_$LT$alloc..vec..Vec$LT$T$GT$$u20$as$u20$core..ops..drop..Drop$GT$4drop17h0123456789abcdefE",
        ]
        .iter()
        .enumerate()
        {
            leb(i, &mut fns);
            string(n, &mut fns);
        }
        names.push(1);
        leb(fns.len(), &mut names);
        names.extend(fns);
        section(0, &names, &mut m);
        m
    }

    #[test]
    fn bodies_count_under_their_crate_past_the_imports() {
        let m = module();
        let c = Composition::of(&m).expect("a valid module");
        assert_eq!(c.code.get("serde_json"), Some(&3));
        assert_eq!(c.code.get("alloc"), Some(&200));
        assert_eq!(c.code.len(), 2, "{:?}", c.code);
        assert_eq!(c.data, 50);
        assert!(c.unshipped > 100, "the name section: {}", c.unshipped);
        assert_eq!(c.other, m.len() as u64 - 253 - c.unshipped);
        let fns = c.functions_of("alloc", 5);
        assert!(fns.contains("1 functions of alloc, 200 bytes"), "{fns}");
        let table = c.table(1);
        assert!(table.contains("| alloc | 200 |"), "{table}");
        assert!(table.contains("| code of 1 other crates | 3 |"), "{table}");
    }

    #[test]
    fn a_truncated_module_is_an_error() {
        let m = module();
        assert!(Composition::of(&m[..m.len() - 5]).is_err());
        assert!(Composition::of(b"\0asm\x02\0\0\0").is_err());
    }

    #[test]
    fn symbols_name_their_crate() {
        assert_eq!(
            crate_of("_ZN6tachys4view5mount17h0123456789abcdefE"),
            "tachys"
        );
        assert_eq!(crate_of("__wbindgen_malloc"), "(not Rust symbols)");
        assert_eq!(
            crate_of(
                "_ZN49_$LT$T$u20$as$u20$reactive_graph..traits..Get$GT$3get17h0123456789abcdefE"
            ),
            "reactive_graph"
        );
    }
}
