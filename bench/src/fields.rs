//! The fields whose spelling varies from package to package, as in the real registry:
//! author (object or `"Name <email> (url)"`), license (SPDX, object, legacy array, …),
//! repository (object, shorthands, git URLs, `{}`), keywords, bugs, homepage; and scripts.

use crate::json::Json;
use crate::plan::{Kind, License, Plan};

/// Fields a document repeats at its top level and in every version.
pub fn common_fields(j: &mut Json, plan: &Plan, owner: &str, repo: &str) {
    let style = &plan.style;
    if style.author != 2 {
        j.key("author");
        person(j, style.author, owner);
    }
    match style.license {
        License::Absent => {}
        // the legacy array, without `license`
        License::LegacyArray => {
            j.key("licenses");
            j.raw(r#"[{"type":"BSD-2-Clause","url":"https://opensource.org/licenses/BSD-2-Clause"}]"#);
        }
        other => {
            j.key("license");
            match other {
                License::Spdx(id) => j.str(id),
                License::Object => j.raw(r#"{"type":"MIT","url":"https://opensource.org/licenses/MIT"}"#),
                License::SeeFile => j.str("SEE LICENSE IN LICENSE"),
                _ => j.str("UNLICENSED"),
            }
        }
    }
    j.key("keywords");
    if style.keywords_string {
        j.str(&plan.keywords.join(", "));
    } else {
        j.open_arr();
        for k in &plan.keywords {
            j.str(k);
        }
        j.close_arr();
    }
    match style.repository {
        6 => {}
        5 => {
            j.key("repository");
            j.raw("{}");
        }
        0 | 7..=9 => {
            j.key("repository");
            j.open_obj();
            j.kv_str("type", "git");
            j.key("url");
            match style.repository {
                7 => j.str_parts(&["https://github.com/", owner, "/", repo]),
                8 => j.str_parts(&["git://github.com/", owner, "/", repo, ".git"]),
                9 => j.str_parts(&["git+ssh://git@github.com/", owner, "/", repo, ".git"]),
                _ => j.str_parts(&["git+https://github.com/", owner, "/", repo, ".git"]),
            }
            if plan.name.starts_with('@') {
                j.key("directory");
                j.str_parts(&["packages/", repo]);
            }
            j.close_obj();
        }
        n => {
            j.key("repository");
            match n {
                1 => j.str_parts(&[owner, "/", repo]),
                2 => j.str_parts(&["github:", owner, "/", repo]),
                3 => j.str_parts(&["git+ssh://git@github.com/", owner, "/", repo, ".git"]),
                _ => j.str_parts(&["git@github.com:", owner, "/", repo, ".git"]),
            }
        }
    }
    j.key("bugs");
    if style.bugs_string {
        j.str_parts(&["https://github.com/", owner, "/", repo, "/issues"]);
    } else {
        j.open_obj();
        j.key("url");
        j.str_parts(&["https://github.com/", owner, "/", repo, "/issues"]);
        j.close_obj();
    }
    j.key("homepage");
    if style.homepage_array {
        j.open_arr();
        j.str_parts(&["https://github.com/", owner, "/", repo]);
        j.str_parts(&["https://", owner, ".example.com"]);
        j.close_arr();
    } else {
        j.str_parts(&["https://github.com/", owner, "/", repo, "#readme"]);
    }
}

pub fn scripts(j: &mut Json, kind: Kind) {
    j.key("scripts");
    if kind != Kind::Giant {
        j.raw(r#"{"test":"node test.js","build":"tsc -p ."}"#);
        return;
    }
    j.open_obj();
    for (k, v) in [
        ("build", "gulp local && gulp build-types --no-lint"),
        ("build:compiler", "gulp local --no-bundle && gulp build-types"),
        ("build:tests", "gulp tests --no-bundle --no-typecheck"),
        ("start", "node lib/tsc.js --build src/tsconfig-base.json"),
        ("test", "gulp runtests-parallel --light=false --workers=4"),
        ("test:eslint-rules", "mocha --reporter dot scripts/eslint/tests"),
        ("clean", "gulp clean && git clean -fdx built lib/*.d.ts"),
        ("gulp", "gulp --max-old-space-size=8192"),
        ("lint", "eslint --cache --max-warnings 0 --report-unused-disable-directives ."),
        ("format", "dprint fmt && node scripts/checkFormatting.mjs"),
        ("setup-hooks", "node scripts/link-hooks.mjs && git config core.hooksPath .githooks"),
        ("knip", "knip --tags=+internal,-knipignore --no-config-hints --exclude unlisted"),
    ] {
        j.kv_str(k, v);
    }
    j.close_obj();
}

/// `style` 0: `{name,email}`; 1: `"name <email> (url)"`.
pub fn person(j: &mut Json, style: u8, user: &str) {
    if style == 1 {
        j.str_parts(&[user, " <", user, "@example.com> (https://", user, ".example.com)"]);
        return;
    }
    j.open_obj();
    j.kv_str("name", user);
    j.key("email");
    j.str_parts(&[user, "@example.com"]);
    j.close_obj();
}

pub fn people(j: &mut Json, users: &[String]) {
    j.open_arr();
    for u in users {
        person(j, 0, u);
    }
    j.close_arr();
}
