//! The PostgreSQL reads that more than one part of the backend makes, the row access of
//! `schema.rs`, and the listing query builder.

use sqlx::postgres::{PgPool, PgRow};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use uuid::Uuid;
use wrapup_types::Division;

use crate::error::DbFailure;
use crate::listing::PageQuery;
use crate::records::{CodeRecord, EventRecord, QueueRecord, UserRecord};
use crate::schema::{
    self, code_columns, division_columns, event_columns, queue_columns, user_columns, ResultRow,
};
use crate::write::Lookup;

impl ResultRow for PgRow {
    fn uuid(&self, column: usize) -> Result<Uuid, DbFailure> {
        Ok(self.try_get(column)?)
    }
    fn opt_uuid(&self, column: usize) -> Result<Option<Uuid>, DbFailure> {
        Ok(self.try_get(column)?)
    }
    fn int(&self, column: usize) -> Result<i64, DbFailure> {
        Ok(self.try_get(column)?)
    }
    fn opt_int(&self, column: usize) -> Result<Option<i64>, DbFailure> {
        Ok(self.try_get(column)?)
    }
    fn flag(&self, column: usize) -> Result<bool, DbFailure> {
        Ok(self.try_get(column)?)
    }
    fn text(&self, column: usize) -> Result<String, DbFailure> {
        Ok(self.try_get(column)?)
    }
    fn opt_text(&self, column: usize) -> Result<Option<String>, DbFailure> {
        Ok(self.try_get(column)?)
    }
}

pub(super) async fn code(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<CodeRecord>, DbFailure> {
    let row = sqlx::query(concat!(
        "SELECT ",
        code_columns!(),
        " FROM wrapup_codes WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(schema::code).transpose()
}

pub(super) async fn division(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Division>, DbFailure> {
    let row = sqlx::query(concat!(
        "SELECT ",
        division_columns!(),
        " FROM divisions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row
        .as_ref()
        .map(schema::division)
        .transpose()?
        .map(|(_, d)| d))
}

pub(super) async fn queue(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<QueueRecord>, DbFailure> {
    let row = sqlx::query(concat!(
        "SELECT ",
        queue_columns!(),
        " FROM queues WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(schema::queue).transpose()
}

pub(super) async fn user(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<UserRecord>, DbFailure> {
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(schema::user).transpose()
}

/// Point reads on a connection of the pool.
impl Lookup for PgConnection {
    async fn queue(&mut self, id: Uuid) -> Result<Option<QueueRecord>, DbFailure> {
        queue(self, id).await
    }

    async fn code(&mut self, id: Uuid) -> Result<Option<CodeRecord>, DbFailure> {
        code(self, id).await
    }

    async fn division(&mut self, id: Uuid) -> Result<Option<Division>, DbFailure> {
        division(self, id).await
    }
}

pub(super) async fn events_after(
    pool: &PgPool,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<EventRecord>, DbFailure> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        event_columns!(),
        " FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"
    ))
    .bind(after_seq)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(schema::event).collect()
}

/// A listing query being built, with `$n` placeholders.
pub(super) struct PgPageQuery(QueryBuilder<'static, Postgres>);

impl PageQuery for PgPageQuery {
    const FALSE: &'static str = "FALSE";
    const BY_CODE_POINT: &'static str = " COLLATE \"C\"";

    fn new() -> Self {
        PgPageQuery(QueryBuilder::new(""))
    }

    fn push(&mut self, sql: &str) {
        self.0.push(sql);
    }

    fn bind_int(&mut self, value: i64) {
        self.0.push_bind(value);
    }

    fn bind_uuid(&mut self, value: Uuid) {
        self.0.push_bind(value);
    }

    fn bind_text(&mut self, value: String) {
        self.0.push_bind(value);
    }

    fn push_one_of(&mut self, column: &str, ids: &[Uuid]) {
        self.0
            .push(format!(" AND {column} = ANY("))
            .push_bind(ids.to_vec())
            .push(")");
    }
}

impl PgPageQuery {
    /// Runs the listing query and decodes every row.
    pub(super) async fn run<T>(
        mut self,
        pool: &PgPool,
        decode: impl Fn(&PgRow) -> Result<T, DbFailure>,
    ) -> Result<Vec<T>, DbFailure> {
        let rows = self.0.build().fetch_all(pool).await?;
        rows.iter().map(decode).collect()
    }
}
