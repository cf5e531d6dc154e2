//! A setting from the environment that cannot be used: what every binary's
//! `Settings::from_env` stops with, naming the variable.

use std::net::SocketAddr;

/// `var` holds a value that cannot be used, or a required one is not set;
/// `problem` says which and what would do (it may quote the value, so no
/// secret variable is ever reported with its value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct EnvError {
    pub var: String,
    pub problem: String,
}

impl EnvError {
    pub fn new(var: impl Into<String>, problem: impl Into<String>) -> EnvError {
        EnvError {
            var: var.into(),
            problem: problem.into(),
        }
    }
}

/// `name`, when it is set to something other than blanks.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `name` read as a duration (`90s`, `10m`, `168h`), when it is set.
pub fn duration(name: &str) -> Result<Option<std::time::Duration>, EnvError> {
    var(name)
        .map(|text| crate::parse_duration(&text).map_err(|problem| EnvError::new(name, problem)))
        .transpose()
}

/// `var` read as a socket address, else `default` (`None`: none).
pub fn addr(var: &str, default: Option<&str>) -> Result<Option<SocketAddr>, EnvError> {
    let Some(text) = self::var(var).or(default.map(str::to_owned)) else {
        return Ok(None);
    };
    let example = default.unwrap_or("127.0.0.1:9102");
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| EnvError::new(var, format!("`{text}` is not an address such as {example}")))
}

/// `HERALD_METRICS_ADDR`, else `default` (`None`: no listener of its own).
pub fn metrics_addr(default: Option<&str>) -> Result<Option<SocketAddr>, EnvError> {
    addr("HERALD_METRICS_ADDR", default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_variable_is_named_when_bad() {
        // nextest runs each test in a process of its own.
        // SAFETY: no other thread reads the environment in this test.
        unsafe { std::env::set_var("HERALD_METRICS_ADDR", "localhost") };
        let error = metrics_addr(Some("127.0.0.1:9101"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("HERALD_METRICS_ADDR"), "{error}");
        unsafe { std::env::set_var("HERALD_METRICS_ADDR", "127.0.0.1:9999") };
        assert_eq!(
            metrics_addr(None).unwrap(),
            Some("127.0.0.1:9999".parse().unwrap())
        );
        unsafe { std::env::remove_var("HERALD_METRICS_ADDR") };
        assert_eq!(metrics_addr(None).unwrap(), None);
        assert_eq!(
            metrics_addr(Some("127.0.0.1:9101")).unwrap(),
            Some("127.0.0.1:9101".parse().unwrap())
        );
    }
}
