// A function that never returns has no result to log.
#[o11y::observe(err, ret)]
fn serve() -> ! {
    loop {}
}

fn main() {}
