//! URL parsing, remembered per thread. One delivery reads its account's URL
//! several times (the connector checks the field, the policy checks the
//! host, the outbound client sends to it), and a parse with IDNA host
//! processing costs thousands of instructions: measured with callgrind, a
//! tenth of the pipeline's work was parsing the same few URLs again.

use std::cell::RefCell;
use std::collections::HashMap;

use url::{ParseError, Url};

/// Distinct URLs remembered per thread; the map starts over when full.
const CAPACITY: usize = 1024;
/// Longer texts are parsed every time, so the memory stays small.
const MAX_LEN: usize = 2048;

thread_local! {
    static PARSED: RefCell<HashMap<String, Result<Url, ParseError>>> =
        RefCell::new(HashMap::new());
}

/// `Url::parse(text)`, answered from this thread's memory when `text` was
/// parsed before.
pub fn parse(text: &str) -> Result<Url, ParseError> {
    if text.len() > MAX_LEN {
        return Url::parse(text);
    }
    PARSED.with_borrow_mut(|parsed| {
        if let Some(known) = parsed.get(text) {
            return known.clone();
        }
        let url = Url::parse(text);
        if parsed.len() >= CAPACITY {
            parsed.clear();
        }
        parsed.insert(text.to_owned(), url.clone());
        url
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_url_parse_does_on_first_and_later_calls() {
        for text in [
            "https://Hooks.Example.com:443/services/a?b=c#d",
            "http://127.0.0.1:8080/x",
            "https://bücher.example/",
            "not a url",
            "http://[::1",
        ] {
            for _ in 0..2 {
                assert_eq!(parse(text), Url::parse(text), "{text}");
            }
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_LEN));
        assert_eq!(parse(&long), Url::parse(&long));
    }

    #[test]
    fn starts_over_when_full() {
        for i in 0..CAPACITY + 10 {
            let text = format!("https://h{i}.example.com/");
            assert_eq!(
                parse(&text).unwrap().host_str(),
                Some(&text[8..text.len() - 1])
            );
        }
        assert!(PARSED.with_borrow(|p| p.len()) <= CAPACITY);
    }
}
