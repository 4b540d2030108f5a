//! Batch input: JSON Lines or CSV, read as a stream (memory does not grow with the file).
//!
//! Each record names `interactionId`, `code` (a UUID or a name), `durationMs` (a number of
//! milliseconds) or `duration` (`120s`, `2m`, `1h30m`, or a bare number of milliseconds from
//! 1000 up: `wrapup_client::parse_duration`), and optionally `notes`.
//! A CSV file has a header row with those names. Records are numbered by their line in the
//! input, which is how the journal recognises them on a re-run.

use std::io::BufRead;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;
use wrapup_client::{parse_duration, CodeRef};
use wrapup_types::ErrorCode;

use crate::row::{Row, RowError};

/// A record as written, before validation.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Record {
    interaction_id: Option<String>,
    code: Option<String>,
    duration_ms: Option<serde_json::Value>,
    duration: Option<serde_json::Value>,
    notes: Option<String>,
}

fn row_error(line: u64, code: &str, message: impl Into<String>) -> RowError {
    RowError {
        line,
        interaction_id: None,
        code: code.into(),
        message: message.into(),
    }
}

fn duration_of(line: u64, value: &serde_json::Value, field: &str) -> Result<Duration, RowError> {
    let bad = |what: String| row_error(line, ErrorCode::WrapupDurationInvalid.as_str(), what);
    match value {
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(ms) => Ok(Duration::from_millis(ms)),
            None => Err(bad(format!(
                "{field} must be a whole number of milliseconds; got {n}"
            ))),
        },
        serde_json::Value::String(s) if field == "duration" => {
            parse_duration(s).map_err(|e| bad(format!("duration: {e}")))
        }
        serde_json::Value::String(s) => match s.trim().parse::<u64>() {
            Ok(ms) => Ok(Duration::from_millis(ms)),
            Err(_) => Err(bad(format!(
                "{field} must be a number of milliseconds; got \"{s}\""
            ))),
        },
        other => Err(bad(format!("{field} must be a number; got {other}"))),
    }
}

impl Record {
    fn into_row(self, line: u64) -> Result<Row, RowError> {
        let id_text = self
            .interaction_id
            .ok_or_else(|| row_error(line, "row.invalid", "interactionId is missing"))?;
        let interaction_id = Uuid::parse_str(id_text.trim()).map_err(|_| {
            row_error(
                line,
                ErrorCode::InteractionNotFound.as_str(),
                format!("interactionId \"{id_text}\" is not a UUID"),
            )
        })?;
        let with_id = |mut e: RowError| {
            e.interaction_id = Some(interaction_id);
            e
        };
        let code = self
            .code
            .ok_or_else(|| {
                row_error(
                    line,
                    ErrorCode::WrapupCodeMissing.as_str(),
                    "code is missing",
                )
            })
            .and_then(|c| {
                c.parse::<CodeRef>()
                    .map_err(|e| row_error(line, ErrorCode::WrapupCodeInvalid.as_str(), e))
            })
            .map_err(with_id)?;
        let duration = match (&self.duration_ms, &self.duration) {
            (Some(v), None) => duration_of(line, v, "durationMs"),
            (None, Some(v)) => duration_of(line, v, "duration"),
            (Some(_), Some(_)) => Err(row_error(
                line,
                "row.invalid",
                "give durationMs or duration, not both",
            )),
            (None, None) => Err(row_error(
                line,
                ErrorCode::WrapupDurationMissing.as_str(),
                "durationMs (or duration) is missing",
            )),
        }
        .map_err(with_id)?;
        Ok(Row {
            line,
            interaction_id,
            code,
            duration,
            notes: self.notes.filter(|n| !n.is_empty()),
        })
    }
}

/// The input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    JsonLines,
    Csv,
}

impl Format {
    /// Guesses from the first bytes: `{` starts JSON Lines, anything else CSV.
    pub fn sniff(start: &[u8]) -> Format {
        match start.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Format::JsonLines,
            _ => Format::Csv,
        }
    }
}

/// Records of the input, one at a time.
pub struct Records<R: BufRead> {
    reader: FormatReader<R>,
}

/// The reader of one input format.
enum FormatReader<R: BufRead> {
    Lines { reader: R, line: u64, buf: String },
    Csv(Box<csv::DeserializeRecordsIntoIter<R, Record>>),
}

impl<R: BufRead> Records<R> {
    pub fn new(mut reader: R, format: Option<Format>) -> std::io::Result<Records<R>> {
        let format = match format {
            Some(f) => f,
            None => Format::sniff(reader.fill_buf()?),
        };
        let reader = match format {
            Format::JsonLines => FormatReader::Lines {
                reader,
                line: 0,
                buf: String::new(),
            },
            Format::Csv => FormatReader::Csv(Box::new(
                csv::ReaderBuilder::new()
                    .trim(csv::Trim::All)
                    .from_reader(reader)
                    .into_deserialize(),
            )),
        };
        Ok(Records { reader })
    }
}

impl<R: BufRead> Iterator for Records<R> {
    /// A row, or a record that is not one. An I/O error ends the input.
    type Item = InputItem;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.reader {
            FormatReader::Lines { reader, line, buf } => loop {
                buf.clear();
                match reader.read_line(buf) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(e) => return Some(Err(e)),
                }
                *line += 1;
                let text = buf.trim();
                if text.is_empty() {
                    continue;
                }
                let parsed = serde_json::from_str::<Record>(text)
                    .map_err(|e| {
                        row_error(
                            *line,
                            "row.invalid",
                            format!("not a JSON record of the batch format: {e}"),
                        )
                    })
                    .and_then(|r| r.into_row(*line));
                return Some(Ok(parsed));
            },
            FormatReader::Csv(records) => {
                // Where the next record starts (the header, once read, is behind us).
                let before = records.reader().position().line();
                let item = records.next()?;
                let line = before.max(2);
                Some(Ok(match item {
                    Ok(record) => record.into_row(line),
                    Err(e) => match e.kind() {
                        csv::ErrorKind::Io(_) => {
                            return Some(Err(std::io::Error::other(e.to_string())))
                        }
                        _ => {
                            let line = e.position().map_or(line, |p| p.line());
                            Err(row_error(
                                line,
                                "row.invalid",
                                format!("not a CSV record of the batch format: {e}"),
                            ))
                        }
                    },
                }))
            }
        }
    }
}

/// A record of the input: a row, or a record that is not one; an I/O error ends the input.
pub type InputItem = Result<Result<Row, RowError>, std::io::Error>;

/// Reads `records` on a blocking thread into a bounded channel (the input is read only as
/// fast as the batch consumes it).
pub fn feed<R: BufRead + Send + 'static>(
    records: Records<R>,
    capacity: usize,
) -> mpsc::Receiver<InputItem> {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    tokio::task::spawn_blocking(move || {
        for item in records {
            let stop = item.is_err();
            if tx.blocking_send(item).is_err() || stop {
                return;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Result<Row, RowError>> {
        Records::new(text.as_bytes(), None)
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    const ID: &str = "00000000-0000-4000-8000-0000000000e3";
    const CODE: &str = "00000000-0000-4000-8000-0000000000c1";

    #[test]
    fn json_lines() {
        let text = format!(
            "{{\"interactionId\": \"{ID}\", \"code\": \"Sale\", \"durationMs\": 120000}}\n\n\
             {{\"interactionId\": \"{ID}\", \"code\": \"{CODE}\", \"duration\": \"1h30m\", \"notes\": \"x\"}}\n\
             {{\"interactionId\": \"{ID}\", \"code\": \"Sale\", \"durationMs\": 1.5}}\n\
             {{\"interactionId\": \"nope\", \"code\": \"Sale\", \"durationMs\": 1}}\n\
             {{\"interactionId\": \"{ID}\", \"wrapUpCode\": \"Sale\", \"durationMs\": 1}}\n\
             not json\n"
        );
        let rows = rows(&text);
        assert_eq!(rows.len(), 6);
        let first = rows[0].as_ref().unwrap();
        assert_eq!(
            (first.line, &first.code),
            (1, &CodeRef::Name("Sale".into()))
        );
        assert_eq!(first.duration, Duration::from_secs(120));
        let second = rows[1].as_ref().unwrap();
        assert_eq!(second.line, 3, "blank lines keep their number");
        assert_eq!(second.duration, Duration::from_secs(5400));
        assert_eq!(second.notes.as_deref(), Some("x"));
        let e = rows[2].as_ref().unwrap_err();
        assert_eq!((e.line, e.code.as_str()), (4, "wrapup.duration.invalid"));
        assert!(e.interaction_id.is_some());
        assert_eq!(rows[3].as_ref().unwrap_err().code, "interaction.not.found");
        assert!(rows[4].as_ref().unwrap_err().message.contains("wrapUpCode"));
        assert_eq!(rows[5].as_ref().unwrap_err().line, 7);
    }

    #[test]
    fn csv_with_a_header() {
        let text = format!(
            "interactionId,code,duration,notes\n{ID},Sale,2m,\n{ID},{CODE},120000,\"said \"\"hi\"\", left\"\n{ID},Sale,,\n"
        );
        let rows = rows(&text);
        assert_eq!(rows.len(), 3);
        let first = rows[0].as_ref().unwrap();
        assert_eq!(
            (first.line, first.duration, first.notes.clone()),
            (2, Duration::from_secs(120), None)
        );
        let second = rows[1].as_ref().unwrap();
        assert_eq!(second.notes.as_deref(), Some("said \"hi\", left"));
        assert_eq!(second.code, CodeRef::Id(CODE.parse().unwrap()));
        let third = rows[2].as_ref().unwrap_err();
        assert_eq!(third.line, 4);
    }

    #[test]
    fn the_spec_is_canonical() {
        let a = rows(&format!(
            "{{\"interactionId\": \"{ID}\", \"code\": \"Sale\", \"durationMs\": 120000}}"
        ));
        let b = rows(&format!(
            "{{\"duration\": \"2m\", \"code\": \"Sale\", \"interactionId\": \"{ID}\"}}"
        ));
        assert_eq!(a[0].as_ref().unwrap().spec(), b[0].as_ref().unwrap().spec());
        // The exact text journals hold (a journal written by an earlier version must match).
        assert_eq!(
            a[0].as_ref().unwrap().spec(),
            format!(
                "{{\"interactionId\":\"{ID}\",\"code\":\"Sale\",\"durationMs\":120000,\"notes\":null}}"
            )
        );
    }
}
