// `args` records a parameter of another type with Debug: one without it is
// reported at the parameter.
struct Card {
    number: String,
}

#[o11y::observe(args)]
fn pay(amount: u32, card: &Card) -> usize {
    card.number.len() + amount as usize
}

fn main() {}
