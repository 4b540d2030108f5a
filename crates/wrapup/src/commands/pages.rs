//! Paging through a list the API returns a page at a time.

/// Reads one page (after `cursor`), or every page with `all`.
pub async fn collect_pages<T, F, Fut>(
    all: bool,
    mut cursor: Option<String>,
    mut page: F,
) -> anyhow::Result<(Vec<T>, Option<String>)>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<wrapup_types::Page<T>, wrapup_client::Error>>,
{
    let mut entities = Vec::new();
    loop {
        let next = page(cursor.take()).await?;
        entities.extend(next.entities);
        match next.next_cursor {
            Some(more) if all => cursor = Some(more),
            more => return Ok((entities, more)),
        }
    }
}
