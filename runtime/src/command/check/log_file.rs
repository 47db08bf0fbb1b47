//! The `check` section about the log file: when `logging.file_enabled` is
//! on, the file opens for appending as the log stage opens it (its
//! directory created if need be). A file the check itself created is
//! removed again.

use std::path::Path;

use crate::config::Config;
use crate::log;

use super::super::report::Section;

pub(super) fn log_file(config: &Config) -> Section {
    let mut section = Section::new("log_file", "Log file");
    if !config.logging.file_enabled {
        section.ok("no log file (logging.file_enabled is off)");
        return section;
    }
    let path = &config.logging.file_path;
    let shown = path.display().to_string();
    match opens(path) {
        Ok(()) => section.ok(format!("{shown} is writable")),
        Err(error) => section.error(format!(
            "{shown} is not writable: {error} (set logging.file_path to a file this user can \
             write, or logging.file_enabled = false)"
        )),
    }
    .with("path", shown);
    section
}

fn opens(path: &Path) -> std::io::Result<()> {
    let existed = path.exists();
    drop(log::Sink::file(path)?);
    if !existed {
        std::fs::remove_file(path)?;
    }
    Ok(())
}
