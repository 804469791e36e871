//! A job posting as the user gives it (flags, a TOML or JSON file, or both) and its validation
//! against the contract's rules before anything is sent.
//!
//! The limits mirror `JobBoard._validatePosting`, so a bad posting fails here with a message
//! naming the flag instead of as a revert after a gas estimate. The contract stays the
//! authority: anything that slips through is still refused on-chain and decoded.
//!
//! About 510 lines of code and 180 of tests: the posting's sources (flags, file, defaults for an
//! update) and the rules they are checked by are one concern, read together.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use super::args::PostingArgs;
use crate::contract::JobBoard;

/// `JobBoard.MAX_TITLE_LENGTH`: the most bytes a title may have (it must also be non-empty).
pub const MAX_TITLE_LENGTH: usize = 200;
/// `JobBoard.MAX_COMPANY_LENGTH`.
pub const MAX_COMPANY_LENGTH: usize = 100;
/// `JobBoard.MAX_LOCATION_LENGTH`.
pub const MAX_LOCATION_LENGTH: usize = 100;
/// `JobBoard.MAX_TAGS_LENGTH`.
pub const MAX_TAGS_LENGTH: usize = 200;
/// `JobBoard.MAX_DESCRIPTION_LENGTH`.
pub const MAX_DESCRIPTION_LENGTH: usize = 4096;
/// `JobBoard.MAX_SALARY_CURRENCY_LENGTH`.
pub const MAX_SALARY_CURRENCY_LENGTH: usize = 12;

/// A posting field, for messages that name the flag the user typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `title`.
    Title,
    /// `company`.
    Company,
    /// `location`.
    Location,
    /// `tags`.
    Tags,
    /// `description`.
    Description,
    /// `salaryCurrency`.
    SalaryCurrency,
    /// `salaryMin`.
    SalaryMin,
    /// `salaryMax`.
    SalaryMax,
    /// `deadline`.
    Deadline,
}

impl Field {
    /// The flag (and file key, without the dashes) that sets this field.
    pub fn flag(self) -> &'static str {
        match self {
            Field::Title => "--title",
            Field::Company => "--company",
            Field::Location => "--location",
            Field::Tags => "--tags",
            Field::Description => "--description",
            Field::SalaryCurrency => "--salary-currency",
            Field::SalaryMin => "--salary-min",
            Field::SalaryMax => "--salary-max",
            Field::Deadline => "--deadline",
        }
    }

    /// The field's name in messages and JSON output (the Solidity name).
    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Company => "company",
            Field::Location => "location",
            Field::Tags => "tags",
            Field::Description => "description",
            Field::SalaryCurrency => "salaryCurrency",
            Field::SalaryMin => "salaryMin",
            Field::SalaryMax => "salaryMax",
            Field::Deadline => "deadline",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a posting cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum PostingError {
    /// The title is missing or empty.
    #[error("a job needs a title: pass --title (1..{MAX_TITLE_LENGTH} bytes)")]
    EmptyTitle,
    /// A text field is longer than the contract allows.
    #[error("{field} is {length} bytes, over the board's limit of {max} bytes ({flag})", flag = field.flag())]
    TooLong {
        /// The field.
        field: Field,
        /// Its length in bytes.
        length: usize,
        /// The contract's limit.
        max: usize,
    },
    /// A salary was given without a currency.
    #[error("a salary ({min}..{max}) needs a currency: pass --salary-currency, e.g. USD")]
    CurrencyRequired {
        /// The minimum given.
        min: u64,
        /// The maximum given.
        max: u64,
    },
    /// Both salary bounds are set and the minimum is above the maximum.
    #[error("--salary-min {min} is above --salary-max {max}")]
    SalaryInverted {
        /// The minimum given.
        min: u64,
        /// The maximum given.
        max: u64,
    },
    /// The deadline is not after the chain's current time.
    #[error(
        "--deadline {} is not in the future (the chain's time is {}): pass a later --deadline, or \
         --deadline none for no deadline",
        format_time(*deadline),
        format_time(*now)
    )]
    DeadlinePassed {
        /// The deadline, unix seconds.
        deadline: u64,
        /// The latest block's timestamp.
        now: u64,
    },
    /// Nothing to change: an update without any field.
    #[error("nothing to update: give at least one field (e.g. --title) or --file")]
    NothingToUpdate,
    /// The posting file is not a `.toml` or `.json` file.
    #[error("--file {}: use a .toml or .json file", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A file could not be read.
    #[error("cannot read {what} {}", path.display())]
    Read {
        /// What the file is for ("--file", "--description-file", ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The posting file does not parse or has a bad value.
    #[error("--file {}: {message}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A field currently on-chain is not UTF-8, so it cannot be sent back unchanged.
    #[error(
        "the current {field} of the job is not valid UTF-8 and cannot be kept as is: pass {flag} \
         to replace it",
        flag = field.flag()
    )]
    CurrentNotUtf8 {
        /// The field.
        field: Field,
    },
}

/// A posting's fields as given: any may be missing (an update keeps the current value of a
/// missing field; a new posting leaves it empty or zero).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostingInput {
    /// `title`.
    pub title: Option<String>,
    /// `company`.
    pub company: Option<String>,
    /// `location`.
    pub location: Option<String>,
    /// `tags`, comma-separated.
    pub tags: Option<String>,
    /// `description`, markdown.
    pub description: Option<String>,
    /// `salaryCurrency`.
    pub salary_currency: Option<String>,
    /// `salaryMin`.
    pub salary_min: Option<u64>,
    /// `salaryMax`.
    pub salary_max: Option<u64>,
    /// `deadline`, unix seconds (0 = none).
    pub deadline: Option<u64>,
}

/// A posting file's keys: the flags' names, also accepted in the Solidity (camelCase) and
/// snake_case spellings. Unknown keys are an error, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct PostingFile {
    title: Option<String>,
    company: Option<String>,
    location: Option<String>,
    tags: Option<Tags>,
    description: Option<String>,
    #[serde(alias = "descriptionFile", alias = "description_file")]
    description_file: Option<PathBuf>,
    #[serde(alias = "salaryCurrency", alias = "salary_currency")]
    salary_currency: Option<String>,
    #[serde(alias = "salaryMin", alias = "salary_min")]
    salary_min: Option<u64>,
    #[serde(alias = "salaryMax", alias = "salary_max")]
    salary_max: Option<u64>,
    deadline: Option<Deadline>,
}

/// Tags as one comma-separated string or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Tags {
    Text(String),
    List(Vec<String>),
}

/// A deadline as unix seconds or text (a TOML date or datetime arrives as text).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Deadline {
    Seconds(u64),
    Text(String),
}

impl PostingInput {
    /// The fields given on the command line, with the `--file` values under them.
    ///
    /// # Errors
    /// [`PostingError`] if a file cannot be read or parsed.
    pub fn from_args(args: &PostingArgs) -> Result<PostingInput, PostingError> {
        let from_file = match &args.file {
            Some(path) => PostingInput::from_file(path)?,
            None => PostingInput::default(),
        };
        let description = match &args.description_file {
            Some(path) => Some(read_text(path, "--description-file")?),
            None => args.description.clone(),
        };
        let flags = PostingInput {
            title: args.title.clone(),
            company: args.company.clone(),
            location: args.location.clone(),
            tags: args.tags.clone(),
            description,
            salary_currency: args.salary_currency.clone(),
            salary_min: args.salary_min,
            salary_max: args.salary_max,
            deadline: args.deadline,
        };
        Ok(from_file.overridden_by(flags))
    }

    /// Reads a posting file, TOML or JSON by its extension. A `description-file` key in it is
    /// read relative to the posting file's folder.
    ///
    /// # Errors
    /// [`PostingError`] if it cannot be read, has another extension, or does not parse.
    pub fn from_file(path: &Path) -> Result<PostingInput, PostingError> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let text = read_text(path, "--file")?;
        let bad = |message: String| PostingError::BadFile { path: path.to_owned(), message };
        let value = match extension.as_deref() {
            Some("toml") => {
                toml_to_json(toml::from_str::<toml::Table>(&text).map_err(|e| bad(e.to_string()))?)
            }
            Some("json") => serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?,
            _ => return Err(PostingError::UnknownFormat { path: path.to_owned() }),
        };
        let file: PostingFile = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        let description = match file.description_file {
            Some(relative) if file.description.is_some() => {
                return Err(bad(format!(
                    "give description or description-file ({}), not both",
                    relative.display()
                )));
            }
            Some(relative) => {
                let base = path.parent().unwrap_or(Path::new("."));
                Some(read_text(&base.join(relative), "the description-file of --file")?)
            }
            None => file.description,
        };
        let deadline = match file.deadline {
            None => None,
            Some(Deadline::Seconds(seconds)) => Some(seconds),
            Some(Deadline::Text(text)) => {
                Some(parse_deadline(&text).map_err(|e| bad(format!("deadline: {e}")))?)
            }
        };
        Ok(PostingInput {
            title: file.title,
            company: file.company,
            location: file.location,
            tags: file.tags.map(|tags| match tags {
                Tags::Text(text) => text,
                Tags::List(list) => list.join(","),
            }),
            description,
            salary_currency: file.salary_currency,
            salary_min: file.salary_min,
            salary_max: file.salary_max,
            deadline,
        })
    }

    /// `self` with every field that `flags` sets replaced by the flag's value.
    pub fn overridden_by(self, flags: PostingInput) -> PostingInput {
        PostingInput {
            title: flags.title.or(self.title),
            company: flags.company.or(self.company),
            location: flags.location.or(self.location),
            tags: flags.tags.or(self.tags),
            description: flags.description.or(self.description),
            salary_currency: flags.salary_currency.or(self.salary_currency),
            salary_min: flags.salary_min.or(self.salary_min),
            salary_max: flags.salary_max.or(self.salary_max),
            deadline: flags.deadline.or(self.deadline),
        }
    }

    /// Whether no field is given.
    pub fn is_empty(&self) -> bool {
        *self == PostingInput::default()
    }

    /// A new posting: missing fields are empty or zero. Not yet validated.
    pub fn into_new_posting(self) -> JobBoard::Posting {
        JobBoard::Posting {
            title: self.title.unwrap_or_default(),
            company: self.company.unwrap_or_default(),
            location: self.location.unwrap_or_default(),
            tags: self.tags.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            salaryCurrency: self.salary_currency.unwrap_or_default(),
            salaryMin: self.salary_min.unwrap_or_default(),
            salaryMax: self.salary_max.unwrap_or_default(),
            deadline: self.deadline.unwrap_or_default(),
        }
    }

    /// The posting that results from applying the given fields to `current`, and the fields
    /// whose value changes. Not yet validated.
    ///
    /// # Errors
    /// [`PostingError::CurrentNotUtf8`] if a kept text field is not UTF-8 on-chain (it could
    /// not be sent back byte for byte as a `string`).
    pub fn apply_to(
        self,
        current: &crate::contract::Posting,
    ) -> Result<(JobBoard::Posting, Vec<Field>), PostingError> {
        let text = |given: Option<String>, now: &[u8], field: Field| match given {
            Some(value) => Ok(value),
            None => String::from_utf8(now.to_vec()).map_err(|_| PostingError::CurrentNotUtf8 { field }),
        };
        let posting = JobBoard::Posting {
            title: text(self.title, &current.title, Field::Title)?,
            company: text(self.company, &current.company, Field::Company)?,
            location: text(self.location, &current.location, Field::Location)?,
            tags: text(self.tags, &current.tags, Field::Tags)?,
            description: text(self.description, &current.description, Field::Description)?,
            salaryCurrency: text(self.salary_currency, &current.salary_currency, Field::SalaryCurrency)?,
            salaryMin: self.salary_min.unwrap_or(current.salary_min),
            salaryMax: self.salary_max.unwrap_or(current.salary_max),
            deadline: self.deadline.unwrap_or(current.deadline),
        };
        let mut changed = Vec::new();
        let texts = [
            (Field::Title, &posting.title, &current.title),
            (Field::Company, &posting.company, &current.company),
            (Field::Location, &posting.location, &current.location),
            (Field::Tags, &posting.tags, &current.tags),
            (Field::Description, &posting.description, &current.description),
            (Field::SalaryCurrency, &posting.salaryCurrency, &current.salary_currency),
        ];
        for (field, new, old) in texts {
            if new.as_bytes() != old.as_ref() {
                changed.push(field);
            }
        }
        let numbers = [
            (Field::SalaryMin, posting.salaryMin, current.salary_min),
            (Field::SalaryMax, posting.salaryMax, current.salary_max),
            (Field::Deadline, posting.deadline, current.deadline),
        ];
        changed.extend(numbers.into_iter().filter(|(_, new, old)| new != old).map(|(field, _, _)| field));
        Ok((posting, changed))
    }
}

/// Checks everything `JobBoard._validatePosting` checks except the deadline, which needs the
/// chain's time (see [`check_deadline`]).
///
/// # Errors
/// The first rule the posting breaks, naming the field's flag.
pub fn validate_fields(posting: &JobBoard::Posting) -> Result<(), PostingError> {
    if posting.title.is_empty() {
        return Err(PostingError::EmptyTitle);
    }
    let limits = [
        (Field::Title, &posting.title, MAX_TITLE_LENGTH),
        (Field::Company, &posting.company, MAX_COMPANY_LENGTH),
        (Field::Location, &posting.location, MAX_LOCATION_LENGTH),
        (Field::Tags, &posting.tags, MAX_TAGS_LENGTH),
        (Field::Description, &posting.description, MAX_DESCRIPTION_LENGTH),
        (Field::SalaryCurrency, &posting.salaryCurrency, MAX_SALARY_CURRENCY_LENGTH),
    ];
    for (field, value, max) in limits {
        if value.len() > max {
            return Err(PostingError::TooLong { field, length: value.len(), max });
        }
    }
    let (min, max) = (posting.salaryMin, posting.salaryMax);
    if (min != 0 || max != 0) && posting.salaryCurrency.is_empty() {
        return Err(PostingError::CurrencyRequired { min, max });
    }
    if max != 0 && min > max {
        return Err(PostingError::SalaryInverted { min, max });
    }
    Ok(())
}

/// Checks that a deadline is none (0) or after `now`, the latest block's timestamp: the
/// contract compares with the timestamp of the block that includes the transaction, which is
/// at least that.
///
/// # Errors
/// [`PostingError::DeadlinePassed`].
pub fn check_deadline(deadline: u64, now: u64) -> Result<(), PostingError> {
    if deadline != 0 && deadline <= now {
        return Err(PostingError::DeadlinePassed { deadline, now });
    }
    Ok(())
}

/// Parses a deadline: `none` or `0` (no deadline), unix seconds, an RFC 3339 datetime
/// (`2026-12-31T12:00:00Z`), or a date (`2026-12-31`), which means the last second of that day
/// in UTC since the deadline is the last moment applications are taken.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_deadline(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let forms = "use 2026-12-31 (the end of that day, UTC), 2026-12-31T12:00:00Z, unix seconds, or none";
    if text.eq_ignore_ascii_case("none") {
        return Ok(0);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| format!("'{text}' is too large for unix seconds"));
    }
    let seconds = if text.contains(['T', 't', ' ']) {
        DateTime::parse_from_rfc3339(text)
            .map_err(|e| format!("'{text}' is not an RFC 3339 datetime with a time zone ({e}): {forms}"))?
            .timestamp()
    } else {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("'{text}' is not a deadline: {forms}"))?;
        let end_of_day =
            date.and_hms_opt(23, 59, 59).ok_or_else(|| format!("'{text}' is not a valid date"))?;
        Utc.from_utc_datetime(&end_of_day).timestamp()
    };
    match u64::try_from(seconds) {
        Ok(seconds) if seconds > 0 => Ok(seconds),
        _ => Err(format!("'{text}' is before 1970")),
    }
}

/// Unix seconds as RFC 3339 UTC, for messages; the raw number if out of chrono's range.
pub fn format_time(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("{seconds} (unix seconds)"))
}

/// Reads a UTF-8 text file; `what` names the flag it came from.
fn read_text(path: &Path, what: &'static str) -> Result<String, PostingError> {
    std::fs::read_to_string(path).map_err(|source| PostingError::Read { what, path: path.to_owned(), source })
}

/// TOML values as JSON values, so one serde path reads both formats (TOML dates and datetimes
/// become their RFC 3339 text).
fn toml_to_json(table: toml::Table) -> serde_json::Value {
    fn convert(value: toml::Value) -> serde_json::Value {
        match value {
            toml::Value::String(s) => serde_json::Value::String(s),
            toml::Value::Integer(i) => serde_json::Value::from(i),
            toml::Value::Float(f) => serde_json::Value::from(f),
            toml::Value::Boolean(b) => serde_json::Value::Bool(b),
            toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
            toml::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(convert).collect()),
            toml::Value::Table(table) => {
                serde_json::Value::Object(table.into_iter().map(|(k, v)| (k, convert(v))).collect())
            }
        }
    }
    convert(toml::Value::Table(table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::Bytes;

    fn valid() -> JobBoard::Posting {
        JobBoard::Posting {
            title: "Rust engineer".into(),
            company: "Acme".into(),
            location: "Remote".into(),
            tags: "rust,ethereum".into(),
            description: "## Role".into(),
            salaryCurrency: "USD".into(),
            salaryMin: 100,
            salaryMax: 200,
            deadline: 0,
        }
    }

    #[test]
    fn deadlines_parse_in_every_documented_form() {
        assert_eq!(parse_deadline("none"), Ok(0));
        assert_eq!(parse_deadline("0"), Ok(0));
        assert_eq!(parse_deadline("1798761600"), Ok(1_798_761_600));
        // A date is the last second of that day, UTC.
        assert_eq!(parse_deadline("2026-12-31"), Ok(1_798_761_599));
        assert_eq!(parse_deadline("2026-12-31T12:00:00Z"), Ok(1_798_718_400));
        assert_eq!(parse_deadline("2026-12-31T14:00:00+02:00"), Ok(1_798_718_400));
        let no_zone = parse_deadline("2026-12-31T12:00:00").expect_err("a datetime needs a zone");
        assert!(no_zone.contains("time zone"), "{no_zone}");
        assert!(parse_deadline("next friday").is_err());
        assert!(parse_deadline("2026-13-01").is_err());
        assert!(parse_deadline("1969-12-31").is_err());
        assert!(parse_deadline("99999999999999999999999").is_err());
    }

    #[test]
    fn every_contract_rule_is_checked_and_names_the_flag() {
        assert!(validate_fields(&valid()).is_ok());
        let err = validate_fields(&JobBoard::Posting { title: String::new(), ..valid() }).expect_err("empty");
        assert!(matches!(err, PostingError::EmptyTitle));
        assert!(err.to_string().contains("--title"), "{err}");

        let at_limit = JobBoard::Posting { title: "t".repeat(MAX_TITLE_LENGTH), ..valid() };
        assert!(validate_fields(&at_limit).is_ok(), "the limit itself is allowed");
        let cases = [
            (Field::Title, JobBoard::Posting { title: "t".repeat(201), ..valid() }, 201, 200),
            (Field::Company, JobBoard::Posting { company: "c".repeat(101), ..valid() }, 101, 100),
            (Field::Location, JobBoard::Posting { location: "l".repeat(101), ..valid() }, 101, 100),
            (Field::Tags, JobBoard::Posting { tags: "t".repeat(201), ..valid() }, 201, 200),
            (Field::Description, JobBoard::Posting { description: "d".repeat(4097), ..valid() }, 4097, 4096),
            (Field::SalaryCurrency, JobBoard::Posting { salaryCurrency: "X".repeat(13), ..valid() }, 13, 12),
        ];
        for (expected, posting, length, max) in cases {
            match validate_fields(&posting) {
                Err(err @ PostingError::TooLong { field, length: l, max: m }) => {
                    assert_eq!((field, l, m), (expected, length, max));
                    assert!(err.to_string().contains(expected.flag()), "{err}");
                }
                other => panic!("{expected}: expected TooLong, got {other:?}"),
            }
        }
        // Lengths are bytes, not characters: 67 three-byte characters are 201 bytes.
        let multibyte = JobBoard::Posting { title: "€".repeat(67), ..valid() };
        assert!(matches!(validate_fields(&multibyte), Err(PostingError::TooLong { length: 201, .. })));

        let no_currency = JobBoard::Posting { salaryCurrency: String::new(), salaryMin: 0, ..valid() };
        assert!(matches!(
            validate_fields(&no_currency),
            Err(PostingError::CurrencyRequired { min: 0, max: 200 })
        ));
        let no_salary =
            JobBoard::Posting { salaryCurrency: String::new(), salaryMin: 0, salaryMax: 0, ..valid() };
        assert!(validate_fields(&no_salary).is_ok());
        let inverted = JobBoard::Posting { salaryMin: 300, salaryMax: 200, ..valid() };
        assert!(matches!(
            validate_fields(&inverted),
            Err(PostingError::SalaryInverted { min: 300, max: 200 })
        ));
        let open_ended = JobBoard::Posting { salaryMin: 300, salaryMax: 0, ..valid() };
        assert!(validate_fields(&open_ended).is_ok(), "a minimum alone is fine");
    }

    #[test]
    fn deadlines_must_be_none_or_after_the_chain_time() {
        assert!(check_deadline(0, 1000).is_ok());
        assert!(check_deadline(1001, 1000).is_ok());
        let err = check_deadline(1000, 1000).expect_err("equal is not in the future");
        assert!(err.to_string().contains("--deadline none"), "{err}");
    }

    #[test]
    fn files_parse_in_both_formats_and_flags_override_them() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("role.md"), "# From a file\n")?;
        let toml = dir.path().join("posting.toml");
        std::fs::write(
            &toml,
            r#"
title = "From TOML"
company = "Acme"
tags = ["rust", "evm"]
description-file = "role.md"
salary-currency = "EUR"
salary-min = 10
salaryMax = 20
deadline = 2026-12-31
"#,
        )?;
        let input = PostingInput::from_file(&toml)?;
        assert_eq!(input.title.as_deref(), Some("From TOML"));
        assert_eq!(input.tags.as_deref(), Some("rust,evm"));
        assert_eq!(input.description.as_deref(), Some("# From a file\n"));
        assert_eq!((input.salary_min, input.salary_max), (Some(10), Some(20)));
        assert_eq!(input.deadline, Some(1_798_761_599));
        assert_eq!(input.location, None);

        let json = dir.path().join("posting.json");
        std::fs::write(
            &json,
            r#"{"title": "From JSON", "tags": "a,b", "deadline": 1798761600, "salary_min": 5}"#,
        )?;
        let input = PostingInput::from_file(&json)?;
        assert_eq!(input.title.as_deref(), Some("From JSON"));
        assert_eq!(input.deadline, Some(1_798_761_600));
        assert_eq!(input.salary_min, Some(5));

        let args = PostingArgs {
            file: Some(toml.clone()),
            title: Some("From a flag".into()),
            salary_max: Some(30),
            ..PostingArgs::default()
        };
        let merged = PostingInput::from_args(&args)?;
        assert_eq!(merged.title.as_deref(), Some("From a flag"));
        assert_eq!(merged.company.as_deref(), Some("Acme"), "file values stay where no flag is given");
        assert_eq!(merged.salary_max, Some(30));

        std::fs::write(&json, r#"{"title": "x", "salary-mni": 5}"#)?;
        let err = PostingInput::from_file(&json).expect_err("unknown keys are refused");
        assert!(err.to_string().contains("salary-mni"), "{err}");
        std::fs::write(&toml, "deadline = \"soon\"\n")?;
        let err = PostingInput::from_file(&toml).expect_err("a bad deadline is refused");
        assert!(err.to_string().contains("deadline"), "{err}");
        let yaml = dir.path().join("posting.yaml");
        std::fs::write(&yaml, "title: x")?;
        assert!(matches!(PostingInput::from_file(&yaml), Err(PostingError::UnknownFormat { .. })));
        Ok(())
    }

    #[test]
    fn an_update_keeps_missing_fields_and_reports_what_changed() -> Result<(), PostingError> {
        let current = crate::contract::Posting {
            title: Bytes::from_static(b"Old title"),
            company: Bytes::from_static(b"Acme"),
            location: Bytes::from_static(b"Remote"),
            tags: Bytes::from_static(b"rust"),
            description: Bytes::from_static(b"text"),
            salary_currency: Bytes::from_static(b"USD"),
            salary_min: 1,
            salary_max: 2,
            deadline: 0,
        };
        let input =
            PostingInput { title: Some("New title".into()), salary_max: Some(2), ..Default::default() };
        let (posting, changed) = input.apply_to(&current)?;
        assert_eq!(posting.title, "New title");
        assert_eq!(posting.company, "Acme");
        assert_eq!((posting.salaryMin, posting.salaryMax), (1, 2));
        assert_eq!(changed, [Field::Title], "an unchanged value given again is not a change");

        let broken = crate::contract::Posting { company: Bytes::from_static(b"\xff\xfe"), ..current.clone() };
        let err = PostingInput { title: Some("x".into()), ..Default::default() }
            .apply_to(&broken)
            .expect_err("invalid UTF-8 cannot be kept");
        assert!(err.to_string().contains("--company"), "{err}");
        let (fixed, _) =
            PostingInput { company: Some("Fixed".into()), ..Default::default() }.apply_to(&broken)?;
        assert_eq!(fixed.company, "Fixed");
        Ok(())
    }
}
