//! A fake GitHub's answers: GitHub's recorded ones (`fixtures/github/`, from
//! @octokit/fixtures) with each test repository's names and counts put in, and bodies
//! built in the shapes of GitHub's OpenAPI description. `samples()` lists one of each kind
//! for `tests/github_spec.rs`, which checks them against that description.

use serde_json::{Value, json};

/// GitHub's 404 for a repository that is not there (or not visible to the token).
pub const NOT_FOUND: &str = r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#;

fn recorded(name: &str) -> String {
    let path = crate::fixture(&format!("github/{name}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A recorded full repository, with what GitHub has answered since the recording.
fn recorded_repository(name: &str) -> Value {
    let mut v: Value = serde_json::from_str(&recorded(name)).expect("JSON");
    // recorded before GitHub added it; its description requires it now
    v["has_discussions"] = json!(false);
    v
}

/// GitHub's recorded answer for a repository, renamed to `owner/repo`, with `stars`.
pub fn repository(owner: &str, repo: &str, stars: i64) -> String {
    let mut v = recorded_repository("repository.json");
    v["name"] = json!(repo);
    v["full_name"] = json!(format!("{owner}/{repo}"));
    v["owner"]["login"] = json!(owner);
    v["html_url"] = json!(format!("https://github.com/{owner}/{repo}"));
    v["stargazers_count"] = json!(stars);
    v.to_string()
}

/// GitHub's recorded answer for the repository a 301 points at:
/// `octokit-fixture-org/rename-repository-newname`, id 1000.
pub fn renamed() -> String {
    recorded_repository("renamed.json").to_string()
}

/// The body of GitHub's recorded 301 for a renamed repository; its `url` names
/// api.github.com, where a test's `location` header points at the fake.
pub fn moved() -> String {
    let v: Value = serde_json::from_str(&recorded("moved.json")).expect("JSON");
    v["body"].to_string()
}

/// A GitHub user (`simple-user`): the recorded repository's owner, renamed to `login`.
fn user(login: &str, id: i64) -> Value {
    let recorded = recorded_repository("repository.json");
    let Value::Object(owner) = &recorded["owner"] else { panic!("repository.json: no owner") };
    let old = owner["login"].as_str().expect("owner login").to_string();
    let mut user: serde_json::Map<String, Value> = owner
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.clone(), |s| json!(s.replace(&old, login)))))
        .collect();
    user.insert("id".into(), json!(id));
    user.insert("avatar_url".into(), json!(format!("https://avatars.githubusercontent.com/u/{id}?v=4")));
    user.insert("type".into(), json!("User"));
    Value::Object(user)
}

/// `GET /repos/{o}/{r}/commits?per_page=1`, in the shape of GitHub's `commit` schema.
pub fn commits(owner: &str, repo: &str, sha: &str, message: &str) -> String {
    let person = json!({ "name": "Alice", "email": "alice@example.com", "date": "2026-11-30T12:00:00Z" });
    json!([{
        "sha": sha,
        "node_id": "C_kwDOAAAA",
        "url": format!("https://api.github.com/repos/{owner}/{repo}/commits/{sha}"),
        "html_url": format!("https://github.com/{owner}/{repo}/commit/{sha}"),
        "comments_url": format!("https://api.github.com/repos/{owner}/{repo}/commits/{sha}/comments"),
        "commit": {
            "url": format!("https://api.github.com/repos/{owner}/{repo}/git/commits/{sha}"),
            "author": person, "committer": person, "message": message, "comment_count": 0,
            "tree": { "sha": sha, "url": format!("https://api.github.com/repos/{owner}/{repo}/git/trees/{sha}") },
        },
        "author": user("alice", 1),
        "committer": user("alice", 1),
        "parents": [],
    }])
    .to_string()
}

/// `GET /repos/{o}/{r}/stats/commit_activity`: 52 weeks, oldest first, `total` commits in
/// week `i` being `totals(i)`.
pub fn activity(totals: impl Fn(usize) -> i64) -> String {
    let start = 1_733_011_200; // a Sunday
    let weeks: Vec<Value> = (0..52)
        .map(|i| {
            let t = totals(i);
            json!({ "days": [0, t, 0, 0, 0, 0, 0], "total": t, "week": start + i as i64 * 7 * 86_400 })
        })
        .collect();
    Value::Array(weeks).to_string()
}

/// One answer of each kind the fake gives: the OpenAPI path template of the operation
/// (always a `get`), the status, the body.
pub fn samples() -> Vec<(&'static str, u16, String)> {
    const REPO: &str = "/repos/{owner}/{repo}";
    vec![
        (REPO, 200, repository("octo", "mono", 10)),
        // the 301's target, /repositories/{id}, is not in GitHub's description; it
        // answers with the same full repository as /repos/{owner}/{repo}
        (REPO, 200, renamed()),
        (REPO, 301, moved()),
        (REPO, 404, NOT_FOUND.to_string()),
        ("/repos/{owner}/{repo}/commits", 200, commits("octo", "mono", "abc123", "Fix <b>it</b>\n\nmore")),
        ("/repos/{owner}/{repo}/stats/commit_activity", 200, activity(|i| (i % 3) as i64)),
    ]
}
