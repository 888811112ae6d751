//! Differential test: our field normalizers against npm's own code (normalize-package-data,
//! hosted-git-info, validate-npm-package-license) on every manifest in
//! `fixtures/manifests.json`.
//!
//! The npm packages are installed into a temporary folder with the machine's `npm`, then
//! `differential/normalize.js` prints what npm derives, one JSON line per manifest. Every
//! field must agree, except the (fixture, field) pairs of [`DELIBERATE`], which must differ:
//! a listed difference that went away fails too, so the table stays true. A difference
//! listed for removed credentials must be exactly that (see [`only_credentials_removed`]).
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use nodules_npm::normalize::Warnings;
use nodules_npm::normalize::fields::{bin, dependencies, js_trim, keywords};
use nodules_npm::normalize::hosted::Hosted;
use nodules_npm::normalize::license::{Validity, license, validate};
use nodules_npm::normalize::links::{bugs, homepage};
use nodules_npm::normalize::person::{people, person};
use nodules_npm::normalize::repository::repository;
use nodules_store::model::Person;
use serde_json::{Map, Value, json};

/// Pinned: hosted-git-info 10 and normalize-package-data 9 need Node 22; hosted-git-info
/// 10.1.1 parses exactly as 9.0.3 (only `require('url')` changed).
const NPM_PACKAGES: [&str; 3] =
    ["hosted-git-info@9.0.3", "normalize-package-data@8.0.0", "validate-npm-package-license@3.0.4"];

/// A field where we differ from npm on purpose.
struct Deliberate {
    fixture: &'static str,
    field: &'static str,
    reason: &'static str,
}

const fn d(fixture: &'static str, field: &'static str, reason: &'static str) -> Deliberate {
    Deliberate { fixture, field, reason }
}

const UNSAFE_SCHEME: &str = "a URL whose scheme is not http, https or mailto is dropped: we render it as a link";
const TEXT_LICENSE: &str =
    "license objects and arrays become text that we validate; npm only warns that the field is not a string";
const NON_STRING: &str = "non-string values are dropped with a warning; npm keeps them or prints them";
const CREDENTIALS: &str = "credentials are not published";

const DELIBERATE: &[Deliberate] = &[
    d("repo-object-url-number", "repository.normalized", "a non-string url is dropped; npm crashes on it (r.match)"),
    d(
        "repo-array",
        "repository.normalized",
        "a `repository` array counts by its first entry; npm reads only `repositories` so",
    ),
    d("repo-array", "bugs", "follows from the `repository` array being read"),
    d("repo-array", "homepage", "follows from the `repository` array being read"),
    d("person-object-number-email", "author", NON_STRING),
    d("people-single-string", "contributors", "a single person counts as a one-person list; npm leaves it as it is"),
    d("bugs-javascript", "bugs", UNSAFE_SCHEME),
    d("bugs-javascript-object", "bugs", UNSAFE_SCHEME),
    d("bugs-url-array", "bugs", "a non-string url is dropped; npm keeps an array whose String() parses as a URL"),
    d("homepage-javascript", "homepage", UNSAFE_SCHEME),
    d("homepage-localhost-port", "homepage", UNSAFE_SCHEME),
    d("keywords-mixed", "keywords", "keywords are trimmed, and dropped when blank; npm keeps the spaces"),
    d("bin-object-number", "bin", NON_STRING),
    d("bin-array", "bin", "a bin that is neither a string nor an object is dropped; npm keeps it"),
    d("deps-array-scoped", "dependencies", "npm's legacy split turns `@scope/x@1` into a nameless entry; we drop it"),
    d("license-object", "license.spdx", TEXT_LICENSE),
    d("license-array", "license.spdx", TEXT_LICENSE),
    d("license-array-objects", "license.spdx", TEXT_LICENSE),
    d("license-array-one", "license.spdx", TEXT_LICENSE),
    d("license-array-compound", "license.spdx", TEXT_LICENSE),
    d(
        "licenses-legacy",
        "license.spdx",
        "the legacy `licenses` array is read when `license` is absent; npm ignores it",
    ),
    d("repo-auth-user-pass", "repository.raw", CREDENTIALS),
    d("repo-auth-user-pass", "repository.normalized", CREDENTIALS),
    d("repo-auth-token-branch", "repository.raw", CREDENTIALS),
    d("repo-auth-token-branch", "repository.normalized", CREDENTIALS),
    // the login stays; npm's normalized form has `git@` anyway
    d("repo-auth-ssh", "repository.raw", CREDENTIALS),
    d("repo-auth-git-protocol-object", "repository.raw", CREDENTIALS),
    d("repo-auth-git-protocol-object", "repository.normalized", CREDENTIALS),
    d("repo-auth-https-user-only", "repository.raw", CREDENTIALS),
    d("repo-auth-https-user-only", "repository.normalized", CREDENTIALS),
    d("repo-auth-no-slashes", "repository.raw", CREDENTIALS),
    d("repo-auth-no-slashes", "repository.normalized", CREDENTIALS),
    d("repo-auth-scp-password", "repository.raw", CREDENTIALS),
    d("repo-auth-shortcut", "repository.raw", CREDENTIALS),
    d("repo-auth-unhosted-ssh", "repository.raw", CREDENTIALS),
    d("repo-auth-unhosted-ssh", "repository.normalized", CREDENTIALS),
    d("repo-unhosted-auth", "repository.raw", CREDENTIALS),
    d("repo-unhosted-auth", "repository.normalized", CREDENTIALS),
];

/// Whether `ours` is `npm` with only credentials taken out: a `user[:password]@` after a
/// scheme, or the password of an ssh login (with or without its `:`), nothing else changed.
fn only_credentials_removed(ours: &str, npm: &str) -> bool {
    let Some(cut) = npm.len().checked_sub(ours.len()).filter(|&n| n > 0) else {
        return false;
    };
    (0..=ours.len()).filter(|&p| ours.is_char_boundary(p) && npm.is_char_boundary(p)).any(|p| {
        let (head, tail) = ours.split_at(p);
        let Some(removed) = npm.get(p..p + cut) else {
            return false;
        };
        let password = tail.starts_with('@') && (removed.starts_with(':') || head.ends_with(':'));
        let userinfo = removed.ends_with('@') || password;
        npm.starts_with(head) && npm.ends_with(tail) && !removed.contains('/') && userinfo
    })
}

/// The manifest's repository field: `repositories` wins when it is a list, as in npm.
fn repository_field(m: &Value) -> Option<&Value> {
    m.get("repositories").filter(|v| v.as_array().is_some()).or(m.get("repository"))
}

/// The repository URL as the manifest gives it (an array by its first entry, an object by
/// its url), which npm keeps as it is.
fn manifest_repository_url(m: &Value) -> Option<&str> {
    let mut v = repository_field(m)?;
    if let Value::Array(items) = v {
        v = items.first()?;
    }
    v.as_str().or_else(|| v.get("url")?.as_str())
}

/// What our normalizers make of one manifest, in the shapes npm prints.
fn ours(m: &Value) -> BTreeMap<&'static str, Value> {
    let mut w = Warnings::new();
    let name = m["name"].as_str().unwrap_or_default();
    let mut out = BTreeMap::new();
    let repo = repository(repository_field(m), &mut w);
    out.insert("repository.normalized", json!(repo.as_ref().map(|r| &r.normalized)));
    out.insert("repository.raw", json!(repo.as_ref().map(|r| &r.raw)));
    // hosted-git-info reads the manifest's URL: our `raw` has lost its credentials
    if let Some(h) = repo.as_ref().and(manifest_repository_url(m)).and_then(Hosted::from_url) {
        out.insert("hosted", hosted_view(&h));
        out.insert("repository.url", json!(repo.as_ref().and_then(|r| r.url.clone())));
    } else {
        out.insert("hosted", Value::Null);
    }
    let author = m.get("author").and_then(|a| person(a, "author", &mut w));
    out.insert("author", person_json(author.as_ref()));
    for field in ["maintainers", "contributors"] {
        let list = people(m.get(field), field, &mut w);
        out.insert(field, Value::Array(list.iter().map(|p| person_json(Some(p))).collect()));
    }
    let bugs = bugs(m.get("bugs"), repo.as_ref(), &mut w);
    out.insert("bugs", without_nulls(json!(bugs)));
    out.insert("homepage", json!(homepage(m.get("homepage"), repo.as_ref(), &mut w)));
    out.insert("keywords", json!(keywords(m.get("keywords"), &mut w)));
    out.insert("bin", json!(bin(m.get("bin"), name, &mut w)));
    // npm merges optionalDependencies into dependencies (addOptionalDepsToDeps)
    let mut deps = dependencies(m.get("dependencies"), "dependencies", &mut w);
    deps.extend(dependencies(m.get("optionalDependencies"), "optionalDependencies", &mut w));
    out.insert("dependencies", json!(deps));
    out.insert("devDependencies", json!(dependencies(m.get("devDependencies"), "devDependencies", &mut w)));
    let lic = license(m.get("license"), m.get("licenses"), &mut w);
    out.insert("license.spdx", json!(lic.as_ref().is_some_and(|l| l.spdx.is_some())));
    if let Some(Value::String(s)) = m.get("license") {
        out.insert("license.validity", validity_json(validate(s)));
        // the text we store is the trimmed declaration, SPDX exactly when npm says so
        let expected = (validate(s) == Validity::Spdx).then(|| js_trim(s).to_string());
        assert_eq!(lic.as_ref().and_then(|l| l.spdx.clone()), expected, "{name}: spdx must be the trimmed text");
    }
    out.insert("license.text", json!(lic.map(|l| l.text)));
    out
}

fn hosted_view(h: &Hosted) -> Value {
    json!({
        "type": h.kind.as_str(),
        "user": h.user,
        "project": h.project,
        "committish": h.committish,
        "auth": h.auth,
        "default": h.default_representation.as_str(),
        "browse": h.browse(),
        "https": h.https(),
        "sshurl": h.sshurl(),
        "docs": h.docs(),
        "bugs": h.bugs(),
        "shortcut": h.shortcut(),
        "toString": h.to_string(),
        "browseFile": h.browse_file("lib/index.js"),
        "file": h.raw_file("package.json"),
    })
}

fn person_json(p: Option<&Person>) -> Value {
    let Some(p) = p else { return Value::Null };
    let mut o = Map::new();
    for (k, v) in [("name", &p.name), ("email", &p.email), ("url", &p.url)] {
        if let Some(v) = v {
            o.insert(k.to_string(), json!(v));
        }
    }
    Value::Object(o)
}

/// npm leaves absent members out where serde writes `null`.
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

fn validity_json(v: Validity) -> Value {
    let special = match v {
        Validity::Unlicensed => json!("unlicensed"),
        Validity::InFile => json!("inFile"),
        Validity::Spdx | Validity::Invalid => Value::Null,
    };
    json!({"valid": v.valid_for_new_packages(), "special": special})
}

/// An npm person: `{}` or a leftover non-object is nobody.
fn npm_person(p: &Value) -> Value {
    match p {
        Value::Object(o) if !o.is_empty() => p.clone(),
        _ => Value::Null,
    }
}

/// npm's output in our shapes: an empty person `{}` is nobody, an absent list is empty.
/// `m` is the manifest, for the repository URL npm keeps.
fn npm_view(n: &Value, m: &Value) -> BTreeMap<&'static str, Value> {
    let mut out = BTreeMap::new();
    let repo_url = n["repositoryUrl"].clone();
    out.insert("repository.normalized", repo_url);
    out.insert("repository.raw", json!(manifest_repository_url(m)));
    out.insert("hosted", n["hosted"].clone());
    if !n["hosted"].is_null() {
        out.insert("repository.url", n["hosted"]["browse"].clone());
    }
    let person = npm_person;
    out.insert("author", person(&n["author"]));
    for field in ["maintainers", "contributors"] {
        let list = match &n[field] {
            Value::Array(items) => Value::Array(items.iter().map(person).filter(|p| !p.is_null()).collect()),
            Value::Null => json!([]),
            other => other.clone(),
        };
        out.insert(field, list);
    }
    out.insert("bugs", n["bugs"].clone());
    out.insert("homepage", n["homepage"].clone());
    out.insert("keywords", if n["keywords"].is_null() { json!([]) } else { n["keywords"].clone() });
    out.insert("bin", if n["bin"].is_null() { json!({}) } else { n["bin"].clone() });
    for field in ["dependencies", "devDependencies"] {
        out.insert(field, if n[field].is_null() { json!({}) } else { n[field].clone() });
    }
    let lic = &n["license"];
    let spdx = lic["valid"].as_bool() == Some(true) && lic["special"].is_null();
    out.insert("license.spdx", json!(spdx));
    out
}

/// A deterministic xorshift generator: the same inputs every run.
struct Gen(u64);

impl Gen {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        items[(self.0 % items.len() as u64) as usize]
    }

    fn join(&mut self, count: usize, items: &[&str], glue: &[&str]) -> String {
        let mut out = String::new();
        for i in 0..count {
            if i > 0 {
                out.push_str(self.pick(glue));
            }
            out.push_str(self.pick(items));
        }
        out
    }
}

/// Inputs built from the pieces that trip parsers: case, stray characters, odd spacing.
fn generated() -> BTreeMap<&'static str, Vec<String>> {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let license_pieces = [
        "MIT",
        "ISC",
        "Apache-2.0",
        "GPL-2.0",
        "GPL-2.0-only",
        "GPL-3.0+",
        "LLVM-exception",
        "Classpath-exception-2.0",
        "PCRE2-exception",
        "LicenseRef-x",
        "DocumentRef-d",
        ":",
        "AND",
        "OR",
        "WITH",
        "and",
        "or",
        "(",
        ")",
        "+",
        "/",
        "é",
        "\t",
        "MITX",
        "0BSD",
        "UNLICENSED",
        "SEE LICENSE IN x",
        "X11",
        "eCos-2.0",
        "NOASSERTION",
        "BSD-3-Clause",
        "-",
        ".",
    ];
    let licenses = (0..3000).map(|i| g.join(1 + i % 6, &license_pieces, &[" ", "", "  "])).collect();
    let prefixes = [
        "",
        "git+",
        "git://",
        "https://",
        "http://",
        "ssh://",
        "git+ssh://",
        "git+https://",
        "git+http://",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
        "sourcehut:",
        "HTTPS://",
        "git@",
        "user:pw@",
        "git+https://tok@",
        "https://:pw@",
        "www.",
        " ",
        "file:",
    ];
    let hosts = [
        "github.com",
        "gitlab.com",
        "bitbucket.org",
        "gist.github.com",
        "git.sr.ht",
        "GitHub.com",
        "www.github.com",
        "example.com",
        "github.com:22",
        "",
        "raw.github.com",
    ];
    let seps = ["/", ":", "//", ""];
    let users = ["u", "~u", "g/sub", "", "u%20x", "%zz", "ü", "u.git", "@u", ".u"];
    let projects = [
        "r",
        "r.git",
        "r.git.git",
        "",
        "r/",
        "r/tree/main",
        "r/tree",
        "r/-/x",
        "r/get/x",
        "r/raw/x",
        "r/archive/x",
        "r/blob/x",
        "r%2Fx",
        "r/tree/a/b",
    ];
    let suffixes =
        ["", "#dev", "#", "#semver:^1.0.0", "#a@b:c", "?q=1", "/", " ", "#feature/x", "%", "\n", "#%E2%9C%93", "#a b"];
    let urls = (0..4000)
        .map(|_| {
            let (p, h, s) = (g.pick(&prefixes), g.pick(&hosts), g.pick(&seps));
            let (u, r, x) = (g.pick(&users), g.pick(&projects), g.pick(&suffixes));
            format!("{p}{h}{s}{u}/{r}{x}")
        })
        .collect();
    let person_pieces = ["a", "b c", " ", "(", ")", "<", ">", "@", ".", "\t", "\u{a0}", "\u{feff}", "é", "\n"];
    let people = (0..2000).map(|i| g.join(i % 12, &person_pieces, &[""])).collect();
    let dep_pieces = [
        "a",
        "@s/a",
        ":",
        "@",
        " ",
        ">=",
        "<",
        "=",
        "1.0.0",
        "^2",
        "latest",
        "u/r",
        "github:u/r",
        "\t",
        "x@git+https://github.com/u/r.git",
    ];
    let deps = (0..1500).map(|i| g.join(1 + i % 5, &dep_pieces, &["", " "])).collect();
    BTreeMap::from([("licenses", licenses), ("urls", urls), ("people", people), ("deps", deps)])
}

/// Compares one generated input's line from normalize.js.
fn check_generated(report: &mut Report, n: &Value) {
    let input = n["input"].as_str().unwrap_or_default();
    let kind = n["generated"].as_str().unwrap_or_default();
    let fixture = format!("generated {kind} {input:?}");
    match kind {
        "license" => {
            let npm = json!({"valid": n["valid"], "special": n["special"]});
            report.check(&fixture, "validity", &validity_json(validate(input)), &npm);
        }
        "url" => {
            let ours = Hosted::from_url(input).map_or(Value::Null, |h| hosted_view(&h));
            report.check(&fixture, "hosted", &ours, &n["hosted"]);
            // what we store loses its credentials and nothing else, and still names the
            // repository npm reads from the input
            if let Some(r) = repository(Some(&json!(input)), &mut Warnings::new()) {
                let repo_of = |url: &str| Hosted::from_url(url).map(|h| h.to_hosted_repo());
                let only_credentials = r.raw == input || only_credentials_removed(&r.raw, input);
                if !only_credentials || repo_of(&r.raw) != repo_of(input) {
                    report
                        .failures
                        .push(format!("{fixture}: stored as {:?}, more than its credentials removed", r.raw));
                }
            }
        }
        "person" => {
            let ours = person(&json!(input), "author", &mut Warnings::new());
            report.check(&fixture, "person", &person_json(ours.as_ref()), &npm_person(&n["person"]));
        }
        "deps" => {
            let ours = dependencies(Some(&json!([input])), "dependencies", &mut Warnings::new());
            // a nameless entry is dropped on purpose (see `deps-array-scoped`)
            let mut npm = n["dependencies"].clone();
            if let Some(o) = npm.as_object_mut() {
                o.remove("");
            }
            report.check(&fixture, "dependencies", &json!(ours), &npm);
        }
        other => report.failures.push(format!("normalize.js printed an unknown kind `{other}`")),
    }
}

struct Report {
    failures: Vec<String>,
    differences_seen: BTreeSet<(String, String)>,
}

impl Report {
    fn check(&mut self, fixture: &str, field: &str, ours: &Value, npm: &Value) {
        if ours == npm {
            return;
        }
        // hosted-git-info's view attribute by attribute, so a failure names the one that differs
        if let (Value::Object(o), Value::Object(n)) = (ours, npm)
            && field == "hosted"
        {
            let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for k in keys {
                let null = Value::Null;
                let (a, b) = (o.get(k).unwrap_or(&null), n.get(k).unwrap_or(&null));
                self.check(fixture, &format!("hosted.{k}"), a, b);
            }
            return;
        }
        if let Some(d) = DELIBERATE.iter().find(|d| d.fixture == fixture && d.field == field) {
            self.differences_seen.insert((fixture.to_string(), field.to_string()));
            let removed_only = match (ours, npm) {
                (Value::String(o), Value::String(n)) => only_credentials_removed(o, n),
                _ => false,
            };
            if d.reason == CREDENTIALS && !removed_only {
                let what = format!("fixture `{fixture}`, field `{field}` differs by more than its credentials");
                self.failures.push(format!("{what}:\n    ours: {ours}\n    npm:  {npm}"));
            }
            return;
        }
        self.failures.push(format!("fixture `{fixture}`, field `{field}`:\n    ours: {ours}\n    npm:  {npm}"));
    }
}

fn npm_install(dir: &Path) -> PathBuf {
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", "--prefix"])
        .arg(dir)
        .args(NPM_PACKAGES)
        .output()
        .unwrap_or_else(|e| panic!("the differential test needs `npm` (from Node.js) on PATH: {e}"));
    assert!(
        out.status.success(),
        "npm install {} failed ({}):\n{}",
        NPM_PACKAGES.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("node_modules")
}

#[test]
fn normalizers_agree_with_npm() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let fixtures = root.join("fixtures/manifests.json");
    let text = std::fs::read_to_string(&fixtures).expect("read fixtures/manifests.json");
    let manifests: Vec<Value> = serde_json::from_str(&text).expect("fixtures/manifests.json is a JSON array");

    let mut our_views = BTreeMap::new();
    let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &manifests {
        let name = m["name"].as_str().expect("every fixture has a name").to_string();
        let view = ours(m);
        // let npm's validator judge the texts we derive from objects and arrays
        if let Some(Value::String(t)) = view.get("license.text")
            && !m["license"].is_string()
        {
            texts.entry(name.clone()).or_default().push(t.clone());
        }
        assert!(our_views.insert(name.clone(), view).is_none(), "fixture name `{name}` is used twice");
    }

    let tmp = tempfile::tempdir().expect("temp dir");
    let node_modules = npm_install(tmp.path());
    let texts_path = tmp.path().join("generated.json");
    let mut input = json!(generated());
    input["licenseTexts"] = json!(texts);
    let generated_count: usize =
        ["licenses", "urls", "people", "deps"].iter().map(|k| input[k].as_array().map_or(0, Vec::len)).sum();
    let bytes = serde_json::to_vec(&input).expect("inputs as JSON");
    std::fs::write(&texts_path, bytes).expect("write generated.json");
    let out = Command::new("node")
        .arg(root.join("differential/normalize.js"))
        .arg(&node_modules)
        .arg(&fixtures)
        .arg(&texts_path)
        .output()
        .unwrap_or_else(|e| panic!("the differential test needs `node` on PATH: {e}"));
    assert!(out.status.success(), "normalize.js failed:\n{}", String::from_utf8_lossy(&out.stderr));

    let mut report = Report { failures: Vec::new(), differences_seen: BTreeSet::new() };
    let mut seen = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let n: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("normalize.js printed `{line}`: {e}"));
        if n.get("generated").is_some() {
            check_generated(&mut report, &n);
            seen += 1;
            continue;
        }
        let name = n["name"].as_str().expect("name in npm output");
        let ours = &our_views[name];
        seen += 1;
        let manifest = manifests.iter().find(|m| m["name"] == name).expect("npm printed a known fixture");
        for (field, npm_value) in npm_view(&n, manifest) {
            report.check(name, field, ours.get(field).unwrap_or(&Value::Null), &npm_value);
        }
        if manifest["license"].is_string() {
            report.check(name, "license.validity", &ours["license.validity"], &n["license"]);
        }
        for derived in n["derivedLicenses"].as_array().into_iter().flatten() {
            let text = derived["text"].as_str().unwrap_or_default();
            let npm = json!({"valid": derived["valid"], "special": derived["special"]});
            report.check(name, &format!("license.derived({text})"), &validity_json(validate(text)), &npm);
        }
    }
    assert_eq!(seen, manifests.len() + generated_count, "normalize.js printed one line per input");
    for d in DELIBERATE {
        if !report.differences_seen.contains(&(d.fixture.to_string(), d.field.to_string())) {
            report.failures.push(format!(
                "fixture `{}`, field `{}` is listed as a deliberate difference ({}) but agrees with npm",
                d.fixture, d.field, d.reason
            ));
        }
    }
    let shown: Vec<&str> = report.failures.iter().take(80).map(String::as_str).collect();
    assert!(
        report.failures.is_empty(),
        "{} differences from npm (first {} shown):\n{}",
        report.failures.len(),
        shown.len(),
        shown.join("\n")
    );
}
