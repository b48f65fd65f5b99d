//! Re-encodes TensorFlow graph files in every form stepflow writes, so that TensorFlow itself can
//! check it reads them back (`tests/tf/check_export.py`).
//!
//! usage: cargo run --release --example tf_export -- OUT_DIR FILE...
//! Each GraphDef file (`.pb`, `.pbtxt`, `.json`) gives OUT_DIR/NAME.{pb,pbtxt,json}; each
//! MetaGraphDef (`.meta`) gives OUT_DIR/NAME.meta.{pb,pbtxt,json}.

use std::path::Path;
use stepflow::Result;
use stepflow::io::tf::{Form, TfGraph, TfMetaGraph};

const FORMS: [(Form, &str); 3] = [(Form::Binary, "pb"), (Form::Text, "pbtxt"), (Form::Json, "json")];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, files)) = args.split_first() else {
        eprintln!("usage: tf_export OUT_DIR FILE...");
        std::process::exit(2);
    };
    std::fs::create_dir_all(out).map_err(|e| stepflow::Error::io(out, e))?;
    for file in files {
        let path = Path::new(file);
        let stem = path.file_stem().map_or("graph".into(), |s| s.to_string_lossy().into_owned());
        let meta = path.extension().is_some_and(|e| e == "meta");
        for (form, ext) in FORMS {
            if meta {
                TfMetaGraph::read(path)?.write(Path::new(out).join(format!("{stem}.meta.{ext}")), form)?;
            } else {
                TfGraph::read(path)?.write(Path::new(out).join(format!("{stem}.{ext}")), form)?;
            }
        }
        println!("{file}: written in {} forms", FORMS.len());
    }
    Ok(())
}
