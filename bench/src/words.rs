//! Word lists and the prose made from them: descriptions, keywords, READMEs.

use rand::Rng;
use rand::rngs::SmallRng;

/// Words packages are named after and described with. None of them is a pseudo-word core
/// (see `names::is_core`), so a name's core stays recognisable and names stay unique.
pub const WORDS: &[&str] = &[
    "json",
    "parser",
    "react",
    "plugin",
    "eslint",
    "config",
    "utils",
    "cli",
    "loader",
    "webpack",
    "babel",
    "string",
    "array",
    "object",
    "promise",
    "async",
    "stream",
    "buffer",
    "file",
    "path",
    "http",
    "server",
    "client",
    "request",
    "router",
    "middleware",
    "logger",
    "color",
    "format",
    "date",
    "time",
    "number",
    "math",
    "random",
    "hash",
    "crypto",
    "token",
    "auth",
    "session",
    "cookie",
    "cache",
    "queue",
    "event",
    "emitter",
    "observable",
    "state",
    "store",
    "redux",
    "hooks",
    "component",
    "button",
    "modal",
    "icon",
    "theme",
    "style",
    "css",
    "sass",
    "less",
    "svg",
    "image",
    "canvas",
    "chart",
    "graph",
    "table",
    "grid",
    "list",
    "tree",
    "map",
    "set",
    "deep",
    "merge",
    "clone",
    "equal",
    "diff",
    "patch",
    "semver",
    "version",
    "release",
    "build",
    "bundle",
    "compile",
    "transform",
    "minify",
    "lint",
    "test",
    "mock",
    "spec",
    "runner",
    "watch",
    "glob",
    "template",
    "render",
    "markdown",
    "html",
    "xml",
    "yaml",
    "toml",
    "csv",
    "query",
    "schema",
    "validate",
    "type",
    "types",
    "typescript",
    "native",
    "mobile",
    "browser",
    "worker",
    "thread",
    "process",
    "spawn",
    "shell",
    "terminal",
    "prompt",
    "spinner",
    "progress",
    "layout",
    "box",
    "wrap",
    "pad",
    "trim",
    "slug",
    "case",
    "camel",
    "kebab",
    "snake",
    "escape",
    "encode",
    "decode",
    "base64",
    "url",
    "uri",
    "socket",
    "websocket",
    "proxy",
    "fetch",
    "retry",
    "timeout",
    "debounce",
    "throttle",
    "memoize",
    "lazy",
    "sync",
    "storage",
    "database",
    "mongo",
    "redis",
    "postgres",
    "mysql",
    "sqlite",
    "orm",
    "model",
    "adapter",
    "driver",
    "sdk",
    "api",
    "rest",
    "graphql",
    "grpc",
    "protobuf",
    "codegen",
    "openapi",
    "swagger",
    "docs",
    "blog",
    "static",
    "site",
    "generator",
    "scaffold",
    "starter",
    "boilerplate",
    "preset",
    "polyfill",
    "shim",
    "runtime",
    "helper",
    "tool",
    "toolkit",
    "framework",
    "engine",
    "core",
    "common",
    "shared",
    "internal",
    "legacy",
    "next",
];

const ADJECTIVES: &[&str] = &[
    "fast",
    "tiny",
    "simple",
    "minimal",
    "lightweight",
    "modern",
    "robust",
    "flexible",
    "typed",
    "zero-dependency",
    "blazing fast",
    "small",
    "universal",
    "isomorphic",
    "declarative",
    "functional",
    "reactive",
    "extensible",
    "pluggable",
    "configurable",
    "opinionated",
    "tree-shakeable",
    "headless",
    "accessible",
];

const OPENERS: &[&str] = &["A", "The", "Yet another", "An experimental", "A collection of", "Utilities for a"];

/// One pick from `list`.
pub fn pick<'a>(rng: &mut SmallRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// A one-line description such as `A fast json parser for node and browsers`.
pub fn description(rng: &mut SmallRng) -> String {
    let mut s = String::with_capacity(80);
    s.push_str(pick(rng, OPENERS));
    s.push(' ');
    s.push_str(pick(rng, ADJECTIVES));
    for _ in 0..rng.random_range(1..4) {
        s.push(' ');
        s.push_str(pick(rng, WORDS));
    }
    match rng.random_range(0..4) {
        0 => s.push_str(" for node and browsers"),
        1 => {
            s.push_str(" for ");
            s.push_str(pick(rng, WORDS));
        }
        2 => s.push_str(" with TypeScript types"),
        _ => {}
    }
    s
}

/// 0–8 keywords, distinct.
pub fn keywords(rng: &mut SmallRng) -> Vec<&'static str> {
    let n = if rng.random_bool(0.3) { 0 } else { rng.random_range(1..9) };
    let mut out: Vec<&'static str> = Vec::with_capacity(n);
    for _ in 0..n {
        let w = pick(rng, WORDS);
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// A Markdown README of about `target` bytes: title, badges, install, usage, API, license.
pub fn readme(rng: &mut SmallRng, name: &str, description: &str, target: usize) -> String {
    let mut s = String::with_capacity(target + 512);
    s.push_str("# ");
    s.push_str(name);
    s.push_str("\n\n[![npm version](https://img.example.com/npm/v/");
    s.push_str(name);
    s.push_str(".svg)](https://www.example.com/package/");
    s.push_str(name);
    s.push_str(")\n\n> ");
    s.push_str(description);
    s.push_str("\n\n## Install\n\n```sh\nnpm install ");
    s.push_str(name);
    s.push_str("\n```\n\n## Usage\n\n```js\nconst lib = require(\"");
    s.push_str(name);
    s.push_str("\");\n\nlib.");
    s.push_str(pick(rng, WORDS));
    s.push_str("({ ");
    s.push_str(pick(rng, WORDS));
    s.push_str(": true });\n```\n\n## API\n");
    while s.len() < target {
        s.push_str("\n### ");
        s.push_str(pick(rng, WORDS));
        s.push_str("(options)\n\n");
        paragraph(rng, &mut s);
        if rng.random_bool(0.4) {
            for _ in 0..rng.random_range(2..6) {
                s.push_str("- `");
                s.push_str(pick(rng, WORDS));
                s.push_str("`: ");
                sentence(rng, &mut s);
                s.push('\n');
            }
        }
    }
    s.push_str("\n## License\n\nMIT\n");
    s
}

fn paragraph(rng: &mut SmallRng, s: &mut String) {
    for _ in 0..rng.random_range(2..6) {
        sentence(rng, s);
        s.push(' ');
    }
    s.push_str("\n\n");
}

fn sentence(rng: &mut SmallRng, s: &mut String) {
    s.push_str(pick(rng, OPENERS));
    for _ in 0..rng.random_range(4..14) {
        s.push(' ');
        s.push_str(pick(rng, WORDS));
    }
    s.push('.');
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn readme_reaches_its_target_size() {
        let mut rng = SmallRng::seed_from_u64(7);
        let r = readme(&mut rng, "pkg", "A pkg", 4000);
        assert!(r.len() >= 4000 && r.len() < 6000, "{}", r.len());
        assert!(r.starts_with("# pkg\n"));
    }

    #[test]
    fn keywords_are_distinct() {
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..100 {
            let k = keywords(&mut rng);
            let mut d = k.clone();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), k.len());
        }
    }
}
