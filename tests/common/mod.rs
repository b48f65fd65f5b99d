//! Helpers for the end-to-end tests of the `stepflow` command: running it, scratch directories,
//! and checking that images are valid.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate's directory (the bundled graphs and data are relative to it).
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs `stepflow` in the crate's directory.
pub fn stepflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepflow")).args(args).current_dir(ROOT).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a zero exit status, showing the output otherwise.
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "status {:?}\nstdout:\n{}\nstderr:\n{}", o.status, stdout(o), stderr(o));
    stdout(o)
}

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stepflow-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Decodes a PNG fully; returns its size, and checks that it is not blank.
pub fn png_size(path: &Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pixels = &buf[..info.buffer_size()];
    assert!(pixels.iter().any(|&b| b < 128), "{} is blank", path.display());
    (info.width, info.height)
}

/// Parses an SVG as XML; returns its width and height attributes, and how many `<path>` and
/// `<polyline>` elements it draws.
pub fn svg_size(path: &Path) -> (u32, u32, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let dim = |a: &str| root.attribute(a).and_then(|v| v.parse().ok()).unwrap();
    let lines = doc.descendants().filter(|n| matches!(n.tag_name().name(), "path" | "polyline")).count();
    (dim("width"), dim("height"), lines)
}

/// A CSV file's header and rows.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().map(|l| l.split(',').map(String::from).collect::<Vec<_>>());
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// The number after `label` in `text` (e.g. `validation accuracy 0.97`).
pub fn number_after(text: &str, label: &str) -> f64 {
    let at = text.find(label).unwrap_or_else(|| panic!("no '{label}' in:\n{text}")) + label.len();
    let word: String = text[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e'))
        .collect();
    word.parse().unwrap_or_else(|_| panic!("'{word}' after '{label}' is not a number"))
}
