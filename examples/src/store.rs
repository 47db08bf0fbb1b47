//! The quickstart's database: an in-memory SQLite database (no server to
//! run), migrated and seeded at start, and the queries the handlers make.
//! sqlx reports every query to o11y, which turns it into a span, metrics,
//! and input for the N+1 detector: nothing here calls o11y.

use std::collections::BTreeMap;
use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, SqliteConnection};

use crate::orders::{Item, Money, NewOrder, Order};

/// The migrations in `examples/migrations`, read when the service starts
/// (sqlx's `migrate!` would embed them, at the cost of its macro crate).
pub async fn migrator() -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations"
    )))
    .await
}

/// `(sku, quantity, unit price in cents)`.
type SeedItem = (&'static str, i64, i64);

/// Customers and carts of the seed data: enough orders for the N+1 route to
/// repeat its per-order query past the detector's threshold (5).
const SEED: &[(&str, &[SeedItem])] = &[
    ("ada", &[("A-1", 2, 999), ("B-7", 1, 2450)]),
    ("grace", &[("C-3", 1, 1500)]),
    ("alan", &[("A-1", 1, 999), ("D-9", 3, 325)]),
    ("barbara", &[("E-2", 5, 120)]),
    ("edsger", &[("B-7", 2, 2450), ("C-3", 1, 1500)]),
    ("margaret", &[("F-4", 1, 9900)]),
    ("donald", &[("A-1", 10, 999)]),
    ("frances", &[("D-9", 1, 325), ("E-2", 2, 120)]),
];

/// Opens a fresh in-memory database named `name` (connections of the pool
/// share it; it lives as long as one of them does), applies `migrator` and
/// inserts the seed orders.
pub async fn open(name: &str, migrator: &Migrator) -> Result<SqlitePool, sqlx::Error> {
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite:file:{name}?mode=memory&cache=shared"))?;
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        // An in-memory database disappears with its last connection.
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await?;
    migrator.run(&pool).await?;
    for (customer, items) in SEED {
        let items = items
            .iter()
            .map(|&(sku, quantity, cents)| Item {
                sku: sku.to_owned(),
                quantity,
                unit_price: Money(cents),
            })
            .collect();
        let new = NewOrder {
            customer: (*customer).to_owned(),
            items,
        };
        insert(&pool, &new).await?;
    }
    Ok(pool)
}

/// One order with its items, in one query.
pub async fn order(pool: &SqlitePool, id: i64) -> Result<Option<Order>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT o.id, o.customer, o.status, i.sku, i.quantity, i.unit_price_cents
         FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
         WHERE o.id = ?1 ORDER BY i.rowid",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(group(rows).into_values().next())
}

/// Every order with its items, the slow way: one query for the orders, then
/// one more per order for its items. The N+1 detector flags it.
pub async fn orders_one_by_one(pool: &SqlitePool) -> Result<Vec<Order>, sqlx::Error> {
    let heads = sqlx::query("SELECT id, customer, status FROM orders ORDER BY id")
        .fetch_all(pool)
        .await?;
    let mut orders = Vec::with_capacity(heads.len());
    for head in heads {
        let id: i64 = head.get("id");
        let items = sqlx::query(
            "SELECT sku, quantity, unit_price_cents FROM order_items WHERE order_id = ?1 ORDER BY rowid",
        )
        .bind(id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(item)
        .collect();
        orders.push(Order::new(
            id,
            head.get("customer"),
            head.get("status"),
            items,
        ));
    }
    Ok(orders)
}

/// Every order with its items, in one joined query.
pub async fn orders_joined(pool: &SqlitePool) -> Result<Vec<Order>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT o.id, o.customer, o.status, i.sku, i.quantity, i.unit_price_cents
         FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
         ORDER BY o.id, i.rowid",
    )
    .fetch_all(pool)
    .await?;
    Ok(group(rows).into_values().collect())
}

/// Inserts an order and its items in one transaction; the stored order.
pub async fn insert(pool: &SqlitePool, new: &NewOrder) -> Result<Order, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let id = insert_in(&mut tx, new).await?;
    tx.commit().await?;
    Ok(Order::new(
        id,
        new.customer.clone(),
        "pending".to_owned(),
        new.items.clone(),
    ))
}

async fn insert_in(db: &mut SqliteConnection, new: &NewOrder) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar("INSERT INTO orders (customer) VALUES (?1) RETURNING id")
        .bind(&new.customer)
        .fetch_one(&mut *db)
        .await?;
    // One statement for all the items: a loop of INSERTs would itself be an
    // N+1 for a large order.
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) ",
    );
    insert.push_values(&new.items, |mut row, item| {
        row.push_bind(id)
            .push_bind(&item.sku)
            .push_bind(item.quantity)
            .push_bind(item.unit_price.0);
    });
    insert.build().execute(&mut *db).await?;
    Ok(id)
}

/// Marks an order confirmed; false when there is no such pending order.
pub async fn confirm(pool: &SqlitePool, id: i64) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE orders SET status = 'confirmed' WHERE id = ?1 AND status = 'pending'")
            .bind(id)
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

fn item(row: &sqlx::sqlite::SqliteRow) -> Item {
    Item {
        sku: row.get("sku"),
        quantity: row.get("quantity"),
        unit_price: Money(row.get("unit_price_cents")),
    }
}

/// Orders from the rows of an orders ⟕ items join, by id.
fn group(rows: Vec<sqlx::sqlite::SqliteRow>) -> BTreeMap<i64, Order> {
    let mut orders: BTreeMap<i64, (String, String, Vec<Item>)> = BTreeMap::new();
    for row in &rows {
        let entry = orders
            .entry(row.get("id"))
            .or_insert_with(|| (row.get("customer"), row.get("status"), Vec::new()));
        // An order without items has one row of NULLs for them.
        if row.get::<Option<String>, _>("sku").is_some() {
            entry.2.push(item(row));
        }
    }
    orders
        .into_iter()
        .map(|(id, (customer, status, items))| (id, Order::new(id, customer, status, items)))
        .collect()
}
