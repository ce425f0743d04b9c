//! Helpers shared by the integration tests that replay `events/` fixtures.

use std::path::PathBuf;

/// `events/<kind>` at the repository root.
pub fn events_dir(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../events/{kind}"))
}

/// The fixture names (file names without `.json`) under `events/<kind>`, sorted, so a test can check that its
/// table of expectations covers every file on disk.
pub fn fixture_names(kind: &str) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(events_dir(kind))?
        .map(|e| {
            e.map(|e| {
                e.file_name()
                    .to_string_lossy()
                    .trim_end_matches(".json")
                    .to_owned()
            })
        })
        .collect::<Result<_, _>>()?;
    names.sort();
    Ok(names)
}
