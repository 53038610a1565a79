//! Lists shown a page at a time (the staff inbox, the print queue), read by page number from 1.

use std::future::Future;

/// Where page `page` of `page_size` rows starts (the SQL's OFFSET).
pub fn offset(page: u32, page_size: u32) -> i64 {
    i64::from(page.max(1) - 1) * i64::from(page_size)
}

/// Reads page `page` (from 1) with `read`; a page past the last (the list shrank since the link
/// was made, as after a batch was handled or printed) shows the first. Returns the page shown
/// and its rows.
pub async fn read_page<R, F, Fut>(page: u32, read: F) -> Result<(u32, Vec<R>), sqlx::Error>
where
    F: Fn(u32) -> Fut,
    Fut: Future<Output = Result<Vec<R>, sqlx::Error>>,
{
    let page = page.max(1);
    let rows = read(page).await?;
    if rows.is_empty() && page > 1 {
        return Ok((1, read(1).await?));
    }
    Ok((page, rows))
}

/// How many pages `total` rows make (at least one, the empty list's).
pub fn page_count(total: i64, page_size: u32) -> u32 {
    (total.max(1) as u64).div_ceil(u64::from(page_size.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_row_once() {
        assert_eq!((offset(0, 50), offset(1, 50), offset(3, 50)), (0, 0, 100));
        assert_eq!((page_count(0, 50), page_count(50, 50), page_count(51, 50), page_count(120, 50)), (1, 1, 2, 3));
    }

    #[tokio::test]
    async fn a_page_past_the_last_shows_the_first() {
        let rows: Vec<u32> = (1..=120).collect();
        let read = |page: u32| {
            let rows = &rows;
            async move { Ok(rows.iter().copied().skip(offset(page, 50) as usize).take(50).collect::<Vec<_>>()) }
        };
        assert_eq!(read_page(3, read).await.unwrap().0, 3);
        let (page, shown) = read_page(9, read).await.unwrap();
        assert_eq!((page, shown.first()), (1, Some(&1)));
        assert_eq!(read_page(0, read).await.unwrap().0, 1);
    }
}
