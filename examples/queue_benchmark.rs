//! Seeds a database with 100,000 requests and measures the review queue's
//! default page and a text search with EXPLAIN ANALYZE.
//!
//! Run it through `bench/queue.sh`, which creates and drops its own database
//! and writes the results to `docs/benchmark-results/queue.md`. It reads
//! `DATABASE_URL`, which must name a database it may fill.

use std::time::Duration;

use ist_intake::requests::queue::{self, AssigneeFilter, QueueFilter, QueueSort, StatusFilter};
use ist_intake::review::queue::PAGE_SIZE;
use sqlx::postgres::PgPoolOptions;

const REQUESTS: i64 = 100_000;
const RUNS: usize = 7;

/// Fills the database with users and requests spread over three years, in
/// every kind and status, with the columns each status needs.
const SEED_SQL: &str = r#"
INSERT INTO users (email, display_name, department, role)
SELECT 'bench' || g || '@uwaterloo.ca', 'Bench Person ' || g, 'Department ' || (g % 40), 'requester'
FROM generate_series(1, 2000) AS g;

INSERT INTO requests (
    reference, kind, status, requester_id, requester_name, requester_email, department,
    application_name, vendor, business_purpose, sending_address, application_details,
    hosting_location, authentication_method, sending_pattern, expected_volume,
    unmet_requirements, tree_answers, policy_version, submission_key,
    created_at, updated_at, review_clock_started_at, open_question, rejection_reason)
SELECT
    format('IST-%s-2026-%s', CASE WHEN g % 3 = 0 THEN 'EX' ELSE 'AR' END, lpad(g::text, 6, '0')),
    (CASE WHEN g % 3 = 0 THEN 'exception_review' ELSE 'app_registration' END)::request_kind,
    status,
    users.id, users.display_name, users.email, users.department,
    (ARRAY['Room Booking', 'Lab Monitor', 'Survey Tool', 'Payroll Notices', 'Library Alerts'])[1 + g % 5] || ' ' || g,
    CASE WHEN g % 3 = 0 THEN NULL ELSE (ARRAY['Acme', 'Qualtrix', 'Globex', 'Initech'])[1 + g % 4] END,
    CASE WHEN g % 3 = 0 THEN NULL ELSE 'Sends notifications to staff' END,
    'sender' || (g % 500) || '@uwaterloo.ca',
    CASE WHEN g % 3 = 0 THEN 'A campus application' END,
    CASE WHEN g % 3 = 0 THEN 'Campus server' END,
    CASE WHEN g % 3 = 0 THEN 'None' END,
    CASE WHEN g % 3 = 0 THEN 'Daily reports' END,
    CASE WHEN g % 3 = 0 THEN '100 a day' END,
    CASE WHEN g % 3 = 0 THEN ARRAY['SMTP authentication: not supported'] ELSE '{}' END,
    '[]'::jsonb, 'bench', gen_random_uuid(),
    now() - g * interval '15 minutes', now() - g * interval '10 minutes', now() - g * interval '10 minutes',
    CASE WHEN status = 'needs_info' THEN 'Which mailbox?' END,
    CASE WHEN status = 'rejected' THEN 'Not needed' END
FROM generate_series(1, $1) AS g
CROSS JOIN LATERAL (
    SELECT (ARRAY['completed', 'completed', 'rejected', 'withdrawn', 'completed', 'completed',
                  'submitted', 'in_review', 'needs_info', 'approved'])[1 + g % 10]::request_status AS status
) AS chosen
JOIN users ON users.email = 'bench' || (1 + g % 2000) || '@uwaterloo.ca';
"#;

fn execution_ms(plan: &[String]) -> f64 {
    plan.iter()
        .find_map(|line| line.trim().strip_prefix("Execution Time: "))
        .and_then(|rest| rest.trim_end_matches(" ms").parse().ok())
        .expect("EXPLAIN ANALYZE reports an execution time")
}

/// The queue page's query to measure.
#[derive(Clone, Copy)]
enum Query {
    Page,
    Counts,
}

async fn measure(pool: &sqlx::PgPool, name: &str, filter: &QueueFilter, query: Query) -> Result<(), sqlx::Error> {
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let mut conn = pool.acquire().await?;
        let plan = match query {
            Query::Page => queue::explain_page(&mut conn, filter, PAGE_SIZE).await?,
            Query::Counts => queue::explain_counts(&mut conn, filter).await?,
        };
        runs.push((execution_ms(&plan), plan));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let times: Vec<String> = runs.iter().map(|(ms, _)| format!("{ms:.3}")).collect();
    let (median, plan) = &runs[RUNS / 2];
    println!("## {name}\n");
    println!("Execution time, median of {RUNS} runs: {median:.3} ms (all runs, sorted: {} ms)\n", times.join(", "));
    println!("Plan of the median run:\n\n```");
    for line in plan {
        println!("{line}");
    }
    println!("```\n");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL to the benchmark's own database")?;
    let pool = PgPoolOptions::new().max_connections(2).acquire_timeout(Duration::from_secs(10)).connect(&url).await?;

    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM requests").fetch_one(&pool).await?;
    if existing < REQUESTS {
        let mut tx = pool.begin().await?;
        for statement in SEED_SQL.split(";\n\n") {
            let statement = statement.trim().trim_end_matches(';');
            if statement.contains("$1") {
                sqlx::query(statement).bind(REQUESTS).execute(&mut *tx).await?;
            } else if !statement.is_empty() {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
    }
    sqlx::query("ANALYZE").execute(&pool).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM requests").fetch_one(&pool).await?;
    println!("Requests in the database: {count}\n");

    let default_view = QueueFilter {
        status: StatusFilter::Open,
        kind: None,
        assignee: AssigneeFilter::Anyone,
        text: None,
        sort: QueueSort::Newest,
    };
    measure(&pool, "Default queue page (open requests, newest first)", &default_view, Query::Page).await?;
    measure(&pool, "Counts per status for the default page", &default_view, Query::Counts).await?;
    let search =
        QueueFilter { status: StatusFilter::All, text: Some("lab monitor 4217".to_owned()), ..default_view.clone() };
    measure(&pool, "Text search \"lab monitor 4217\" over all statuses", &search, Query::Page).await?;
    measure(&pool, "Counts per status for that search", &search, Query::Counts).await?;
    let vendor = QueueFilter { text: Some("qualtrix".to_owned()), ..default_view };
    measure(&pool, "Text search \"qualtrix\" over open requests", &vendor, Query::Page).await?;
    Ok(())
}
