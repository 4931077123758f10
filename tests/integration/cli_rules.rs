//! The `rules` and `determine` commands, run as the built binary: the repository's rule files
//! pass the check, a broken copy fails it naming the parameter, `rules show` prints values with
//! their citations and confidence, and `determine` runs over a demo database.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{cpaudit_command, demo_enterprise_id, enterprise_count, test_db};

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

/// Runs a `rules` command; it reads no database.
fn rules(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cpaudit"))
        .arg("rules")
        .args(args)
        .env("CPAUDIT_LOG", "error")
        .output()
        .expect("run cpaudit")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the repository's rule files whose entry for `id` in the Gansu parameters file is
/// rewritten by `edit`; `rules check --dir` on it must fail and name the parameter.
fn check_broken_copy(id: &str, edit: impl Fn(&str) -> String) -> String {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&rules_dir(), dir.path());
    let path = dir.path().join("gansu").join("parameters.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find(&format!("id = \"{id}\"")).expect("the parameter");
    let end = text[start..]
        .find("[[parameter]]")
        .map_or(text.len(), |offset| start + offset);
    let edited = format!(
        "{}{}{}",
        &text[..start],
        edit(&text[start..end]),
        &text[end..]
    );
    std::fs::write(&path, edited).unwrap();

    let output = rules(&["check", "--dir", dir.path().to_str().unwrap()]);
    let printed = stdout(&output);
    assert!(
        !output.status.success(),
        "a broken copy must fail:\n{printed}"
    );
    assert!(
        printed.contains(&format!("{}: parameter {id}", path.display())),
        "the fault names the file and the parameter:\n{printed}"
    );
    assert!(printed.contains("FAILED"), "{printed}");
    printed
}

#[test]
fn rules_check_passes_on_the_repository_files_and_prints_a_summary() {
    for args in [
        vec!["check"],
        vec!["check", "--dir", rules_dir().to_str().unwrap()],
    ] {
        let output = rules(&args);
        let printed = stdout(&output);
        assert!(
            output.status.success(),
            "{args:?}:\n{printed}{}",
            stderr(&output)
        );
        for expected in [
            "parameters with",
            "unverified",
            "partly verified",
            "design",
            "documents",
            "calendar",
            "emission limits emission-limits-",
            "GB 13223-2011",
            "OK: no faults",
        ] {
            assert!(
                printed.contains(expected),
                "{args:?}: {expected}:\n{printed}"
            );
        }
    }
}

#[test]
fn rules_check_fails_on_a_citation_of_an_unknown_document() {
    let printed = check_broken_copy("deadline.disclose", |section| {
        section.replacen(
            "document = \"measures-2016\"",
            "document = \"no-such-document\"",
            1,
        )
    });
    assert!(printed.contains("\"no-such-document\""), "{printed}");
}

#[test]
fn rules_check_fails_on_overlapping_periods() {
    let printed = check_broken_copy("deadline.disclose", |section| {
        let lapsing = section.replacen(
            "from = 2016-07-01\n",
            "from = 2016-07-01\nuntil = 2030-01-01\n",
            1,
        );
        format!(
            "{lapsing}\n[[parameter.period]]\nfrom = 2020-01-01\nvalue = 2\n\n\
             [[parameter.period.citation]]\ndocument = \"measures-2016\"\n\
             article = \"第十一条\"\nconfidence = \"design\"\n\n"
        )
    });
    assert!(printed.contains("value from 2020-01-01"), "{printed}");
    assert!(printed.contains("overlaps"), "{printed}");
}

#[test]
fn rules_check_fails_on_a_value_period_without_citation() {
    let printed = check_broken_copy("deadline.disclose", |section| {
        let end = section.find("[[parameter.period.citation]]").unwrap();
        section[..end].to_string()
    });
    assert!(printed.contains("has no citation"), "{printed}");
}

#[test]
fn rules_show_prints_the_value_in_force_with_its_citations() {
    let output = rules(&["show", "deadline.disclose", "--at", "2027-01-15"]);
    let printed = stdout(&output);
    assert!(output.status.success(), "{printed}{}", stderr(&output));
    assert!(
        printed.contains("value on 2027-01-15: 1 month"),
        "{printed}"
    );
    assert!(printed.contains("第十一条"), "{printed}");
    assert!(printed.contains("《清洁生产审核办法》"), "{printed}");
    assert!(printed.contains("quote: "), "{printed}");
}

#[test]
fn rules_show_marks_an_unverified_value() {
    let output = rules(&["show", "toxic.category.2"]);
    let printed = stdout(&output);
    assert!(output.status.success(), "{printed}{}", stderr(&output));
    assert!(printed.contains("standing: UNVERIFIED"), "{printed}");
    assert!(printed.contains("confidence: UNVERIFIED"), "{printed}");
}

#[test]
fn rules_show_refuses_an_unknown_id_and_a_date_without_value() {
    let unknown = rules(&["show", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("\"nope\""),
        "{}",
        stderr(&unknown)
    );

    let before = rules(&["show", "deadline.disclose", "--at", "2000-01-01"]);
    assert!(!before.status.success());
    assert!(
        stderr(&before).contains("no value in force on 2000-01-01"),
        "{}",
        stderr(&before)
    );
}

#[test]
fn rules_list_marks_every_parameter() {
    let output = rules(&["list", "--at", "2027-01-15"]);
    let printed = stdout(&output);
    assert!(output.status.success(), "{printed}{}", stderr(&output));
    let line = |id: &str| {
        printed
            .lines()
            .find(|line| line.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} is listed:\n{printed}"))
            .to_string()
    };
    assert!(line("deadline.disclose").contains("1 month"));
    assert!(line("toxic.category.2").contains("UNVERIFIED"));
}

#[tokio::test]
async fn determine_runs_over_the_demo_database() {
    let store = test_db().await;
    let output = cpaudit_command(
        &store.url,
        &[
            "determine",
            "--year",
            "2027",
            "--as-of",
            "2027-01-15",
            "--plan",
            "--timing",
        ],
    );
    let printed = stdout(&output);
    assert!(output.status.success(), "{printed}{}", stderr(&output));
    let total = enterprise_count(&store.db).await;
    assert!(
        printed.contains(&format!("{total} enterprises with")),
        "{printed}"
    );
    for expected in [
        "must audit",
        "not required",
        "plan of the lists 2027–",
        "total",
        "load facts",
        "determine",
        "peak memory",
    ] {
        assert!(printed.contains(expected), "{expected}:\n{printed}");
    }

    let id = demo_enterprise_id(&store.db).await.to_string();
    let one = cpaudit_command(
        &store.url,
        &[
            "determine",
            "--year",
            "2027",
            "--as-of",
            "2027-01-15",
            "--enterprise",
            &id,
        ],
    );
    let printed = stdout(&one);
    assert!(one.status.success(), "{printed}{}", stderr(&one));
    assert!(printed.contains(&format!("enterprise {id} ")), "{printed}");
    assert!(printed.contains("explanation:"), "{printed}");
    assert!(printed.contains("rules used:"), "{printed}");

    let json = cpaudit_command(
        &store.url,
        &[
            "determine",
            "--year",
            "2027",
            "--as-of",
            "2027-01-15",
            "--json",
        ],
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let lines: Vec<serde_json::Value> = stdout(&json)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len() as i64, total);
    assert!(lines.iter().all(|line| line["outcome"].is_string()));

    let unknown = cpaudit_command(
        &store.url,
        &["determine", "--year", "2027", "--city", "999999"],
    );
    assert!(!unknown.status.success());
}

#[test]
fn rules_check_reads_the_scoring_forms_and_fails_when_points_do_not_add_up() {
    let printed = stdout(&rules(&["check"]));
    assert!(printed.contains("scoring forms"), "{printed}");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&rules_dir(), dir.path());
    let path = dir.path().join("gansu").join("scoring.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("max = 15", "max = 14", 1)).unwrap();
    let output = rules(&["check", "--dir", dir.path().to_str().unwrap()]);
    let printed = stdout(&output);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains(&format!(
            "{}: form assessment-2016.1: the items' points add up to 99, not 100",
            path.display()
        )),
        "{printed}"
    );
}

#[test]
fn rules_check_fails_on_a_broken_emission_limit_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&rules_dir(), dir.path());
    let path = dir.path().join("emission_limits.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("value = 100.0", "value = 0.0", 1);
    std::fs::write(&path, text).unwrap();
    let output = rules(&["check", "--dir", dir.path().to_str().unwrap()]);
    let printed = stdout(&output);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains(&format!("{}: limit #", path.display())),
        "{printed}"
    );
    assert!(printed.contains("must be a positive number"), "{printed}");
}
