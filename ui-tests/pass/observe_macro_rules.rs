// Arguments handed down by a `macro_rules!` caller: `err` and `ret` keep
// pointing at their tokens for diagnostics, but the values they log are the
// macro's own bindings, which the caller's hygiene must not hide.
#![deny(warnings)]

use o11y::task::Envelope;

macro_rules! observed {
    ($($arguments:tt)*) => {
        #[o11y::observe($($arguments)*)]
        fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
            s.parse()
        }

        #[o11y::observe($($arguments)*)]
        async fn parse_async(s: &str) -> Result<u32, std::num::ParseIntError> {
            s.parse()
        }

        struct Parser;

        #[o11y::observe($($arguments)*)]
        impl Parser {
            fn parse(&self, s: &str) -> Result<u32, std::num::ParseIntError> {
                s.parse()
            }
        }

        #[o11y::task_traced($($arguments)*)]
        fn parse_task(job: Envelope<String>) -> Result<u32, std::num::ParseIntError> {
            job.payload.parse()
        }

        #[o11y::task_traced($($arguments)*)]
        async fn parse_task_async(job: Envelope<String>) -> Result<u32, std::num::ParseIntError> {
            job.payload.parse()
        }
    };
}

observed!(err, ret);

fn main() {
    assert_eq!(parse("7"), Ok(7));
    assert!(parse("x").is_err());
    assert_eq!(Parser.parse("8"), Ok(8));
    assert_eq!(parse_task(Envelope::new("parse_task", "9".to_owned())), Ok(9));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(runtime.block_on(parse_async("10")), Ok(10));
    let job = Envelope::new("parse_task_async", "11".to_owned());
    assert_eq!(runtime.block_on(parse_task_async(job)), Ok(11));
}
