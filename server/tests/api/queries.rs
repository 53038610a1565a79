//! Every SQL statement written in the project's code is prepared against both databases'
//! migrated schemas, so a misspelt table or column, or SQL one of the two databases does not
//! accept, fails here and not in production (issue 17). sqlx's compile-time `query!` cannot
//! check queries on `sqlx::Any`; this is its replacement: the statements are read from the
//! source (every string literal that starts with SELECT, INSERT, UPDATE, DELETE or WITH) and each
//! is prepared, not run, by the database itself.
//!
//! Statements assembled at run time (`format!` templates, fragments joined in code) cannot be
//! read this way; they are counted and their number is bounded below, so that new code prefers
//! literal statements.

use crate::on_both_databases;
use crate::support::{Backend, TestPortal};
use std::path::{Path, PathBuf};

/// A statement found in the source, with where it was found.
struct Statement {
    sql: String,
    place: String,
}

/// Statements assembled at run time, which this test cannot check, at most. Lower it when one
/// becomes a literal; raising it needs a reason in the commit.
const ASSEMBLED_AT_MOST: usize = 15;

on_both_databases!(every_statement_in_the_code_prepares_against_the_schema);

async fn every_statement_in_the_code_prepares_against_the_schema(backend: Backend) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (statements, assembled) = statements_in(&[root.join("app/src"), root.join("server/src")]);
    assert!(statements.len() > 300, "the source was read: {} statements found", statements.len());
    assert!(
        assembled.len() <= ASSEMBLED_AT_MOST,
        "{} statements are assembled at run time (at most {ASSEMBLED_AT_MOST}); write new ones as literals:\n{}",
        assembled.len(),
        assembled.join("\n")
    );

    let portal = TestPortal::start(backend).await;
    let mut conn = portal.state.db.pool.acquire().await.unwrap();
    // The check itself: a misspelt column is refused by this database.
    assert!(sqlx::Executor::prepare(&mut *conn, "SELECT logn FROM users WHERE id = $1").await.is_err(), "a misspelt column must be refused");
    let mut refused = Vec::new();
    for s in &statements {
        if let Err(e) = sqlx::Executor::prepare(&mut *conn, s.sql.as_str()).await {
            // PostgreSQL infers a parameter's type from its use; where nothing says (`$1 IS NULL`)
            // it asks for the type, which sqlx gives when the query runs with its values. The
            // names in the statement were checked before that question is asked.
            let untyped_parameter = matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42P18"));
            if !untyped_parameter {
                refused.push(format!("{}: {e}\n    {}", s.place, s.sql));
            }
        }
    }
    drop(conn);
    portal.stop().await;
    eprintln!("{} statements prepared on {backend:?}; {} assembled at run time, not checked", statements.len(), assembled.len());
    assert!(refused.is_empty(), "{} of {} statements are refused by {backend:?}:\n{}", refused.len(), statements.len(), refused.join("\n"));
}

/// The statements in the `.rs` files under `dirs`, and the places of the statements that are
/// templates or fragments (they hold `{`, or stop where code adds the rest).
fn statements_in(dirs: &[PathBuf]) -> (Vec<Statement>, Vec<String>) {
    let mut files = Vec::new();
    for dir in dirs {
        collect_rs_files(dir, &mut files);
    }
    files.sort();
    let (mut statements, mut assembled) = (Vec::new(), Vec::new());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.components().rev().take_while(|c| c.as_os_str() != "..").collect::<Vec<_>>();
        let name = name.iter().rev().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        for (line, literal) in string_literals(&text) {
            let sql = literal.trim();
            let first = sql.split_whitespace().next().unwrap_or_default();
            if !["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"].contains(&first) || sql.split_whitespace().count() < 2 {
                continue;
            }
            let place = format!("{name}:{line}");
            if sql.contains('{') || is_fragment(sql) {
                assembled.push(place);
            } else {
                statements.push(Statement { sql: sql.to_string(), place });
            }
        }
    }
    (statements, assembled)
}

/// A statement that code completes: it ends where a condition, a list or a value follows.
fn is_fragment(sql: &str) -> bool {
    let last = sql.split_whitespace().last().unwrap_or_default().to_ascii_uppercase();
    ["WHERE", "AND", "OR", "IN", "BY", "FROM", "SET", "VALUES", "=", ",", "("].contains(&last.as_str()) || sql.ends_with('(') || sql.ends_with(',')
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals of a Rust source file, unescaped, each with the line it starts on.
/// Comments, character literals and byte strings are skipped; raw strings are read as written.
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && at(i + 1) == '/') {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
                i += 2;
            }
            // A character literal ('x', '\n', '\''), not a lifetime ('a).
            '\'' if at(i + 2) == '\'' || at(i + 1) == '\\' => {
                i += if at(i + 1) == '\\' { 2 } else { 1 };
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            }
            'r' if (at(i + 1) == '"' || (at(i + 1) == '#' && (at(i + 2) == '"' || at(i + 2) == '#'))) && !is_ident(at(i.wrapping_sub(1))) => {
                let start_line = line;
                let mut j = i + 1;
                let mut hashes = 0;
                while at(j) == '#' {
                    hashes += 1;
                    j += 1;
                }
                j += 1; // the opening quote
                let mut text = String::new();
                loop {
                    if j >= chars.len() {
                        break;
                    }
                    if chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#') {
                        j += 1 + hashes;
                        break;
                    }
                    line += usize::from(chars[j] == '\n');
                    text.push(chars[j]);
                    j += 1;
                }
                out.push((start_line, text));
                i = j;
            }
            '"' => {
                let byte_string = at(i.wrapping_sub(1)) == 'b' && !is_ident(at(i.wrapping_sub(2)));
                let start_line = line;
                let mut j = i + 1;
                let mut text = String::new();
                while j < chars.len() && chars[j] != '"' {
                    if chars[j] == '\\' {
                        let next = at(j + 1);
                        j += 2;
                        match next {
                            'n' => text.push('\n'),
                            't' => text.push('\t'),
                            '\n' => {
                                // A line continuation: the newline and the next line's indent go.
                                line += 1;
                                while j < chars.len() && chars[j].is_whitespace() {
                                    line += usize::from(chars[j] == '\n');
                                    j += 1;
                                }
                            }
                            'u' => {
                                while j < chars.len() && chars[j] != '}' {
                                    j += 1;
                                }
                                j += 1;
                            }
                            other => text.push(other),
                        }
                    } else {
                        line += usize::from(chars[j] == '\n');
                        text.push(chars[j]);
                        j += 1;
                    }
                }
                if !byte_string {
                    out.push((start_line, text));
                }
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[test]
fn string_literals_are_read_as_the_compiler_reads_them() {
    let src = "let a = 'x'; // \"not this\"\nfn f<'a>(s: &'a str) {}\nlet q = \"SELECT a \\\n     FROM t WHERE b = $1\";\nlet r = r#\"SELECT \"c\" FROM t\"#;\nlet b = b\"SELECT x\";\n/* \"nor this\" */ let e = \"say \\\"hi\\\"\";";
    let found = string_literals(src);
    assert_eq!(found, vec![(3, "SELECT a FROM t WHERE b = $1".to_string()), (5, "SELECT \"c\" FROM t".to_string()), (7, "say \"hi\"".to_string())]);
    assert!(is_fragment("SELECT a FROM t WHERE"));
    assert!(!is_fragment("SELECT a FROM t WHERE b = $1"));
}
