//! The statement import format (README, "Statement CSV import"): UTF-8 CSV with a header row,
//! one row per statement line; rows with the same account number and statement date make one
//! statement. Parsing is all or nothing: the first problem refuses the whole file with its row
//! number (the header is row 1, as a spreadsheet numbers it) and a reason a billing clerk can
//! act on. The statement rules that need the database (previous balance, the account) are
//! checked by the caller, which maps them back to rows with [`statement_error_row`].

use super::money::Money;
use super::statement::{clean_text, Line, LineKind, NewStatement, StatementError, DEPARTMENT_MAX, DESCRIPTION_MAX, LINES_MAX};
use crate::dates::CalendarDate;

pub const ROWS_MAX: usize = 10_000;
pub const BYTES_MAX: usize = 5 * 1024 * 1024;

pub const COLUMNS: [&str; 11] =
    ["account_number", "statement_date", "period_start", "period_end", "due_date", "amount_due", "line_date", "kind", "department", "description", "amount"];

/// A statement read from the file, with the row of each of its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedStatement {
    pub account_number: String,
    pub statement: NewStatement,
    pub rows: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Row {row}: {reason}")]
pub struct RowError {
    pub row: usize,
    pub reason: String,
}

fn refuse(row: usize, reason: impl Into<String>) -> RowError {
    RowError { row, reason: reason.into() }
}

/// A field as quoted in a reason: at most 40 characters.
fn quoted(value: &str) -> String {
    let mut short: String = value.chars().take(40).collect();
    if value.chars().count() > 40 {
        short.push('…');
    }
    format!("{short:?}")
}

pub fn template_header() -> &'static str {
    "account_number,statement_date,period_start,period_end,due_date,amount_due,line_date,kind,department,description,amount"
}

/// A small valid file: two statements, five lines.
pub fn example() -> &'static str {
    "account_number,statement_date,period_start,period_end,due_date,amount_due,line_date,kind,department,description,amount\n\
     G000000101,2026-11-01,2026-10-01,2026-10-31,2026-11-25,130.05,2026-10-06,charge,Family Medicine,\"Office visit, established patient\",180.00\n\
     G000000101,2026-11-01,2026-10-01,2026-10-31,2026-11-25,130.05,2026-10-06,charge,Laboratory,Lipid panel,45.10\n\
     G000000101,2026-11-01,2026-10-01,2026-10-31,2026-11-25,130.05,2026-10-20,adjustment,Family Medicine,Insurance contractual adjustment,-95.05\n\
     G000000202,2026-11-01,2026-10-01,2026-10-31,2026-11-25,70.00,2026-10-09,charge,Radiology,\"X-ray, chest\",120.00\n\
     G000000202,2026-11-01,2026-10-01,2026-10-31,2026-11-25,70.00,2026-10-28,payment,Radiology,\"Payment, thank you\",-50.00\n"
}

/// The file row of the line or statement a rule error is about.
pub fn statement_error_row(imported: &ImportedStatement, error: &StatementError) -> usize {
    error.line().and_then(|n| imported.rows.get(n.wrapping_sub(1)).copied()).or_else(|| imported.rows.first().copied()).unwrap_or(1)
}

/// The statement columns of one row, which must agree on every row of a statement.
#[derive(PartialEq, Eq)]
struct StatementColumns {
    period_start: CalendarDate,
    period_end: CalendarDate,
    due_date: CalendarDate,
    amount_due: Money,
}

pub fn parse(bytes: &[u8]) -> Result<Vec<ImportedStatement>, RowError> {
    if bytes.len() > BYTES_MAX {
        return Err(refuse(1, format!("the file is larger than {} MB", BYTES_MAX / (1024 * 1024))));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut records = reader.records();
    // Where a record starts, as a text editor or spreadsheet numbers rows: blank lines count,
    // and a quoted field may span lines. (The csv crate's own line count skips blank lines.)
    let newlines: Vec<usize> = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect();
    // A record's position may point at blank lines before it: they are not part of it.
    let line_at = |offset: u64| {
        let mut offset = offset as usize;
        while matches!(bytes.get(offset), Some(b'\n') | Some(b'\r')) {
            offset += 1;
        }
        1 + newlines.partition_point(|&n| n < offset)
    };
    let row_of = |r: &csv::StringRecord, fallback: usize| r.position().map(|p| line_at(p.byte())).unwrap_or(fallback);
    let not_text = |e: &csv::Error| -> RowError {
        let row = e.position().map(|p| line_at(p.byte())).unwrap_or(1);
        match e.kind() {
            csv::ErrorKind::Utf8 { .. } => refuse(row, "the file is not UTF-8 text"),
            _ => refuse(row, "the row cannot be read as CSV"),
        }
    };
    let header = loop {
        match records.next() {
            None => return Err(refuse(1, "the file is empty")),
            Some(Err(e)) => return Err(not_text(&e)),
            Some(Ok(r)) if r.iter().all(|f| f.trim().is_empty()) => continue,
            Some(Ok(r)) => break r,
        }
    };
    let header_row = row_of(&header, 1);
    let mut index = [usize::MAX; 11];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(c) if index[c] != usize::MAX => return Err(refuse(header_row, format!("the column {name} appears twice"))),
            Some(c) => index[c] = i,
            None => return Err(refuse(header_row, format!("unknown column {}", quoted(&name)))),
        }
    }
    if let Some(missing) = COLUMNS.iter().zip(index).find(|(_, i)| *i == usize::MAX) {
        return Err(refuse(header_row, format!("the column {} is missing", missing.0)));
    }

    let mut statements: Vec<(ImportedStatement, StatementColumns)> = Vec::new();
    let mut data_rows = 0usize;
    for (n, record) in records.enumerate() {
        let record = record.map_err(|e| not_text(&e))?;
        let row = row_of(&record, header_row + 1 + n);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        data_rows += 1;
        if data_rows > ROWS_MAX {
            return Err(refuse(row, format!("a file can have at most {ROWS_MAX} rows")));
        }
        if record.len() != header.len() {
            return Err(refuse(row, format!("the row has {} fields; the header has {}", record.len(), header.len())));
        }
        let field = |c: usize| record.get(index[c]).unwrap_or("").trim();
        let date = |c: usize| {
            CalendarDate::parse(field(c)).ok_or_else(|| refuse(row, format!("{} {} is not a date: write it like 2026-11-01", COLUMNS[c], quoted(field(c)))))
        };
        let money = |c: usize| Money::parse(field(c)).map_err(|e| refuse(row, format!("{} {} {e}", COLUMNS[c], quoted(field(c)))));

        let account_number = field(0).to_string();
        if account_number.is_empty() || account_number.len() > 20 || !account_number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(refuse(row, format!("account_number {} must be 1–20 letters, digits or dashes", quoted(&account_number))));
        }
        let statement_date = date(1)?;
        let columns = StatementColumns { period_start: date(2)?, period_end: date(3)?, due_date: date(4)?, amount_due: money(5)? };
        let line_date = date(6)?;
        let kind = LineKind::parse(field(7)).ok_or_else(|| refuse(row, "kind must be charge, payment or adjustment"))?;
        let department = clean_text(field(8));
        if department.is_empty() || department.chars().count() > DEPARTMENT_MAX {
            return Err(refuse(row, format!("department is needed (at most {DEPARTMENT_MAX} characters)")));
        }
        let description = clean_text(field(9));
        if description.is_empty() || description.chars().count() > DESCRIPTION_MAX {
            return Err(refuse(row, format!("description is needed (at most {DESCRIPTION_MAX} characters)")));
        }
        let line = Line { kind, date: line_date, department, description, amount: money(10)? };

        match statements.iter_mut().find(|(s, _)| s.account_number == account_number && s.statement.statement_date == statement_date) {
            Some((s, first)) => {
                if *first != columns {
                    let first_row = s.rows[0];
                    let column = if first.period_start != columns.period_start {
                        "period_start"
                    } else if first.period_end != columns.period_end {
                        "period_end"
                    } else if first.due_date != columns.due_date {
                        "due_date"
                    } else {
                        "amount_due"
                    };
                    return Err(refuse(row, format!("{column} differs from row {first_row} of the same statement")));
                }
                if s.statement.lines.len() >= LINES_MAX {
                    return Err(refuse(row, format!("a statement can have at most {LINES_MAX} lines")));
                }
                s.statement.lines.push(line);
                s.rows.push(row);
            }
            None => {
                let statement = NewStatement {
                    statement_date,
                    period_start: columns.period_start,
                    period_end: columns.period_end,
                    due_date: columns.due_date,
                    lines: vec![line],
                    expected_amount_due: columns.amount_due,
                };
                statements.push((ImportedStatement { account_number, statement, rows: vec![row] }, columns));
            }
        }
    }
    if statements.is_empty() {
        return Err(refuse(header_row, "the file has no statement lines"));
    }
    Ok(statements.into_iter().map(|(s, _)| s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEADER: &str = "account_number,statement_date,period_start,period_end,due_date,amount_due,line_date,kind,department,description,amount";

    fn file(rows: &[&str]) -> String {
        let mut s = String::from(HEADER);
        for r in rows {
            s.push('\n');
            s.push_str(r);
        }
        s.push('\n');
        s
    }

    const GOOD: &str = "G1,2026-11-01,2026-10-01,2026-10-31,2026-11-25,10.00,2026-10-02,charge,Lab,Test,10.00";

    #[test]
    fn the_example_reads_as_two_statements() {
        let s = parse(example().as_bytes()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].account_number, "G000000101");
        assert_eq!(s[0].rows, vec![2, 3, 4]);
        assert_eq!(s[0].statement.lines[0].description, "Office visit, established patient");
        assert_eq!(s[0].statement.lines[2].amount, Money(-9_505));
        assert_eq!(s[0].statement.lines[2].kind, LineKind::Adjustment);
        assert_eq!(s[0].statement.expected_amount_due, Money(13_005));
        assert_eq!(s[1].rows, vec![5, 6]);
        assert_eq!(s[1].statement.lines[1].kind, LineKind::Payment);
        // And the example adds up, as the server will check.
        for i in &s {
            assert!(super::super::statement::check(&i.statement, Money::ZERO).is_ok());
        }
        assert!(example().starts_with(template_header()));
    }

    #[test]
    fn columns_in_any_order_and_case_with_a_bom() {
        let text = "\u{feff}Amount, KIND ,line_date,department,description,account_number,statement_date,period_start,period_end,due_date,amount_due\n\
                    -5.00,payment,2026-10-03,Lab,\"Paid, thanks\nby card\",G-7,2026-11-01,2026-10-01,2026-10-31,2026-11-20,-5.00\n";
        let s = parse(text.as_bytes()).unwrap();
        assert_eq!(s[0].account_number, "G-7");
        assert_eq!(s[0].statement.lines[0].description, "Paid, thanks by card");
        assert_eq!(s[0].statement.lines[0].amount, Money(-500));
    }

    #[test]
    fn rows_of_one_statement_group_even_apart_and_blank_lines_are_skipped() {
        let other = "G2,2026-11-01,2026-10-01,2026-10-31,2026-11-25,3.00,2026-10-02,charge,Lab,Test,3.00";
        let s = parse(file(&[GOOD, "", other, GOOD]).as_bytes()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].rows, vec![2, 5]);
        assert_eq!(s[1].rows, vec![4]);
    }

    #[test]
    fn a_row_spanning_lines_is_numbered_where_it_starts() {
        let bad = "G1,2026-11-01,2026-10-01,2026-10-31,2026-11-25,10.00,2026-10-02,charge,Lab,Test,1O.00";
        let two_lines = "G1,2026-11-01,2026-10-01,2026-10-31,2026-11-25,10.00,2026-10-02,charge,Lab,\"Two\nlines\",1.00";
        let e = parse(file(&[two_lines, bad]).as_bytes()).unwrap_err();
        assert_eq!(e.row, 4);
    }

    #[test]
    fn every_problem_names_its_row_and_column() {
        let cases: Vec<(String, usize, &str)> = vec![
            (String::new(), 1, "the file is empty"),
            (format!("{HEADER},total\n{GOOD},1\n"), 1, "unknown column \"total\""),
            (HEADER.replace(",due_date", "") + "\n", 1, "the column due_date is missing"),
            (file(&[]), 1, "the file has no statement lines"),
            (file(&[GOOD, &GOOD.replace("Test,10.00", "Test,12,5")]), 3, "the row has 12 fields; the header has 11"),
            (file(&[GOOD, &GOOD.replace("Test,10.00", "Test,12.5.0")]), 3, "amount \"12.5.0\" is not an amount"),
            (file(&[&GOOD.replace("charge", "refund")]), 2, "kind must be charge, payment or adjustment"),
            (file(&[&GOOD.replace("2026-10-02", "2026-02-30")]), 2, "line_date \"2026-02-30\" is not a date"),
            (file(&[GOOD, &GOOD.replace("2026-11-25", "2026-11-26")]), 3, "due_date differs from row 2 of the same statement"),
            (file(&[GOOD, &GOOD.replace(",10.00,2026", ",11.00,2026")]), 3, "amount_due differs from row 2 of the same statement"),
            (file(&[&GOOD.replace("Lab", "")]), 2, "department is needed"),
            (file(&[&GOOD.replace("G1", "G 1")]), 2, "account_number \"G 1\" must be"),
        ];
        for (text, row, reason) in cases {
            let e = parse(text.as_bytes()).unwrap_err();
            assert_eq!(e.row, row, "{text:?}: {e}");
            assert!(e.reason.contains(reason), "{text:?}: {e}");
        }
        let mut bytes = file(&[GOOD]).into_bytes();
        bytes.extend_from_slice(b"G1,2026-11-01,2026-10-01,2026-10-31,2026-11-25,10.00,2026-10-02,charge,Lab,T\xff,1.00\n");
        let e = parse(&bytes).unwrap_err();
        assert_eq!((e.row, e.reason.as_str()), (3, "the file is not UTF-8 text"));
        let long = file(&[&GOOD.replace("Test,10.00", &format!("Test,{}", "9".repeat(80)))]);
        assert!(parse(long.as_bytes()).unwrap_err().reason.contains('…'), "values are quoted short");
    }

    #[test]
    fn limits_hold() {
        // Many small statements (one per account), so that only the row limit is met.
        let many: Vec<String> = (0..=ROWS_MAX).map(|i| GOOD.replacen("G1", &format!("G{i}"), 1)).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let e = parse(file(&many).as_bytes()).unwrap_err();
        assert_eq!(e.row, ROWS_MAX + 2);
        let one_statement: Vec<&str> = std::iter::repeat_n(GOOD, LINES_MAX + 1).collect();
        assert_eq!(parse(file(&one_statement).as_bytes()).unwrap_err().row, LINES_MAX + 2);
    }

    #[test]
    fn rule_errors_map_to_rows() {
        let s = parse(file(&[GOOD, "", GOOD]).as_bytes()).unwrap();
        assert_eq!(statement_error_row(&s[0], &StatementError::ChargeNotPositive(2)), 4);
        assert_eq!(statement_error_row(&s[0], &StatementError::NoLines), 2);
    }

    fn write_csv(statements: &[ImportedStatement]) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(COLUMNS).unwrap();
        for s in statements {
            for l in &s.statement.lines {
                out.write_record([
                    s.account_number.clone(),
                    s.statement.statement_date.to_string(),
                    s.statement.period_start.to_string(),
                    s.statement.period_end.to_string(),
                    s.statement.due_date.to_string(),
                    s.statement.expected_amount_due.plain(),
                    l.date.to_string(),
                    l.kind.as_str().to_string(),
                    l.department.clone(),
                    l.description.clone(),
                    l.amount.plain(),
                ])
                .unwrap();
            }
        }
        String::from_utf8(out.into_inner().unwrap()).unwrap()
    }

    fn line_strategy() -> impl Strategy<Value = (u8, u32, String, String, i64)> {
        (0u8..3, 1u32..=28, "[A-Za-z][A-Za-z ,\"]{0,20}", "[A-Za-z0-9][A-Za-z0-9 ,\"\n]{0,40}", 1i64..1_000_000)
    }

    /// An account, its statement's month and its lines (kind, day, department, text, cents).
    type AccountSpec = (String, u32, Vec<(u8, u32, String, String, i64)>);
    type FileSpec = Vec<AccountSpec>;

    fn file_strategy() -> impl Strategy<Value = FileSpec> {
        proptest::collection::vec(("G[0-9]{3}", 1u32..=12, proptest::collection::vec(line_strategy(), 1..6)), 1..6)
    }

    fn build(spec: &[AccountSpec]) -> String {
        let mut rows = vec![HEADER.to_string()];
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        for (account, month, lines) in spec {
            for (kind, day, department, description, cents) in lines {
                let (kind, amount) = match kind {
                    0 => ("charge", Money(*cents)),
                    1 => ("payment", Money(-cents)),
                    _ => ("adjustment", Money(-cents)),
                };
                w.write_record([
                    account.clone(),
                    format!("2025-{month:02}-28"),
                    format!("2025-{month:02}-01"),
                    format!("2025-{month:02}-28"),
                    format!("2025-{month:02}-28"),
                    "0.00".to_string(),
                    format!("2025-{month:02}-{day:02}"),
                    kind.to_string(),
                    department.clone(),
                    description.clone(),
                    amount.plain(),
                ])
                .unwrap();
            }
        }
        rows.push(String::from_utf8(w.into_inner().unwrap()).unwrap());
        rows.join("\n")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn arbitrary_rows_after_a_good_header_never_panic(rest in "[a-z0-9,\"\n\\- .]{0,300}") {
            let _ = parse(format!("{HEADER}\n{rest}").as_bytes());
        }

        /// A valid file reads whole: every row becomes exactly one line, and writing what was
        /// read and reading it again gives the same statements.
        #[test]
        fn valid_files_read_whole_and_round_trip(spec in file_strategy()) {
            let text = build(&spec);
            let read = parse(text.as_bytes()).unwrap();
            let rows: usize = spec.iter().map(|(_, _, l)| l.len()).sum();
            let mut seen: Vec<usize> = read.iter().flat_map(|s| s.rows.clone()).collect();
            prop_assert_eq!(read.iter().map(|s| s.statement.lines.len()).sum::<usize>(), rows);
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen.len(), rows);
            let again = parse(write_csv(&read).as_bytes()).unwrap();
            let strip = |v: &[ImportedStatement]| v.iter().map(|s| (s.account_number.clone(), s.statement.clone())).collect::<Vec<_>>();
            prop_assert_eq!(strip(&again), strip(&read));
        }

        /// One bad field anywhere refuses the whole file at exactly that row.
        #[test]
        fn one_bad_row_refuses_the_file_at_that_row(spec in file_strategy(), pick in any::<prop::sample::Index>(), what in 0u8..3) {
            let text = build(&spec);
            let mut lines: Vec<String> = Vec::new();
            // Rebuild row by row so the corrupted record is known by its row number.
            let read = parse(text.as_bytes()).unwrap();
            let mut all: Vec<(usize, String, &Line, &ImportedStatement)> = Vec::new();
            for s in &read {
                for (l, r) in s.statement.lines.iter().zip(&s.rows) {
                    all.push((*r, s.account_number.clone(), l, s));
                }
            }
            all.sort_by_key(|a| a.0);
            let bad = pick.index(all.len());
            let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
            for (i, (_, account, l, s)) in all.iter().enumerate() {
                let mut amount = l.amount.plain();
                let mut date = l.date.to_string();
                let mut kind = l.kind.as_str().to_string();
                if i == bad {
                    match what {
                        0 => amount = "12,34".into(),
                        1 => date = "2025-13-01".into(),
                        _ => kind = "refund".into(),
                    }
                }
                w.write_record([
                    account.clone(), s.statement.statement_date.to_string(), s.statement.period_start.to_string(),
                    s.statement.period_end.to_string(), s.statement.due_date.to_string(), s.statement.expected_amount_due.plain(),
                    date, kind, l.department.clone(), l.description.clone(), amount,
                ]).unwrap();
            }
            lines.push(HEADER.to_string());
            lines.push(String::from_utf8(w.into_inner().unwrap()).unwrap());
            let corrupted = lines.join("\n");
            // The bad record's row: where it starts in the rewritten file.
            let expected = parse_rows_before(&corrupted, bad);
            let e = parse(corrupted.as_bytes()).unwrap_err();
            prop_assert_eq!(e.row, expected);
        }
    }

    /// The row at which the `n`-th data record of a file starts (quoted fields may hold line breaks).
    fn parse_rows_before(text: &str, n: usize) -> usize {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
        let mut record = csv::StringRecord::new();
        let mut i = 0;
        while reader.read_record(&mut record).unwrap() {
            if i == n {
                let mut offset = record.position().unwrap().byte() as usize;
                while matches!(text.as_bytes().get(offset), Some(b'\n') | Some(b'\r')) {
                    offset += 1;
                }
                return 1 + text.as_bytes()[..offset].iter().filter(|b| **b == b'\n').count();
            }
            i += 1;
        }
        panic!("no record {n}");
    }
}
