//! Why the local runner could not start or stopped serving. A [`StartError::Config`] is the operator's to fix
//! (the binary exits with status 2); the others are the machine's (a port in use, a disk that cannot be written).

use shared::config::ConfigError;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A variable with a bad value; the message names it.
    #[error("configuration: {0}")]
    Config(ConfigError),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("opening {path}")]
    Store {
        path: String,
        #[source]
        source: shared::ports::StoreError,
    },
    #[error("engine configuration")]
    Engine(#[source] shared::adapters::engine_http::EngineConfigError),
}

impl From<ConfigError> for StartError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl StartError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }

    /// The process exit status for this error: 2 for configuration, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) => 2,
            _ => 1,
        }
    }

    /// The message with its causes, on one line.
    pub fn one_line(&self) -> String {
        let mut line = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            line = format!("{line}: {s}");
            source = s.source();
        }
        line
    }
}
