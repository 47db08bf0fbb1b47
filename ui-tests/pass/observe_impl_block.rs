// `#[observe]` on an impl block instruments every method as `Type::method`;
// a method's own `#[observe(...)]` refines the block's arguments, and
// `#[observe(skip)]` opts it out. Associated consts and types are left alone.
#![deny(warnings)]

use o11y::observe;

struct OrderRepo {
    orders: Vec<u32>,
}

#[observe(err, concurrency)]
impl OrderRepo {
    const LIMIT: usize = 10;

    fn new() -> Self {
        OrderRepo { orders: Vec::new() }
    }

    fn add(&mut self, order: u32) -> Result<(), String> {
        if self.orders.len() >= Self::LIMIT {
            return Err("full".to_owned());
        }
        self.orders.push(order);
        Ok(())
    }

    #[observe(level = "debug", args(id))]
    fn get(&self, id: usize) -> Option<u32> {
        self.orders.get(id).copied()
    }

    #[observe(skip)]
    fn len(&self) -> usize {
        self.orders.len()
    }

    #[o11y::observe(name = "orders.total")]
    async fn total(&self) -> u32 {
        self.orders.iter().sum()
    }
}

trait Named {
    fn name(&self) -> &'static str;
}

#[observe(level = "trace")]
impl Named for OrderRepo {
    fn name(&self) -> &'static str {
        "orders"
    }
}

struct Generic<T>(T);

#[observe]
impl<T: Copy + std::fmt::Debug> Generic<T> {
    fn get(&self) -> T {
        self.0
    }
}

fn main() {
    let config = o11y::Config::builder()
        .env_vars(Vec::<(String, String)>::new())
        .no_config_file()
        .log_file_enabled(false)
        .build()
        .unwrap();
    let _guard = o11y::init_with(config).unwrap();

    let mut repo = OrderRepo::new();
    repo.add(5).unwrap();
    assert_eq!(repo.get(0), Some(5));
    assert_eq!(repo.len(), 1);
    assert_eq!(repo.name(), "orders");
    assert_eq!(Generic(3).get(), 3);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(repo.total()), 5);

    let exposition = o11y::metrics::render(o11y::metrics::Format::Prometheus);
    let called = |function: &str| {
        exposition.lines().any(|line| {
            line.starts_with("function_calls_total{")
                && line.contains(&format!("function=\"{function}\""))
        })
    };
    for function in [
        "OrderRepo::new",
        "OrderRepo::add",
        "OrderRepo::get",
        "OrderRepo::total",
        "OrderRepo::name",
        "Generic::get",
    ] {
        assert!(called(function), "{function} not counted:\n{exposition}");
    }
    assert!(!called("OrderRepo::len"), "{exposition}");
}
