//! `frontend-gray`: the operator's tools of frontend-gray for nginx, built from the module's own
//! core.
//!
//!     frontend-gray check FILE…
//!     frontend-gray explain FILE [--path P] [--cookie 'a=b; c=d'] [--header 'Name: value']…
//!                           [--ip ADDR] [--user-agent UA] [--query 'a=b'] [--var name=value]…
//!                           [--json]
//!     frontend-gray bucket UID…

mod explain;

use std::path::Path;
use std::process::ExitCode;

use frontend_gray_core::{uid, ConfigError, GrayConfig};

const USAGE: &str = "usage:
  frontend-gray check FILE...
  frontend-gray explain FILE [--path P] [--cookie 'a=b; c=d'] [--header 'Name: value']...
                        [--ip ADDR] [--user-agent UA] [--query 'a=b'] [--var name=value]... [--json]
  frontend-gray bucket UID...";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rc = match args.first().map(String::as_str) {
        Some("check") => check(&args[1..]),
        Some("explain") => run_explain(&args[1..]),
        Some("bucket") => bucket(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match rc {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Reads and compiles `file` as nginx does (relative key paths from its directory).
fn load(file: &str) -> Result<GrayConfig, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let dir = Path::new(file).parent().unwrap_or(Path::new("."));
    GrayConfig::from_yaml_in(&text, dir).map_err(|e| match e {
        ConfigError::Syntax {
            line,
            column,
            message,
        } => format!("{file}:{line}:{column}: {message}"),
        other => format!("{file}: {other}"),
    })
}

fn check(files: &[String]) -> Result<(), String> {
    if files.is_empty() {
        return Err(USAGE.to_owned());
    }
    let mut failed = false;
    for f in files {
        match load(f) {
            Ok(cfg) => {
                for w in &cfg.warnings {
                    eprintln!("{f}: warning: {w}");
                }
                if !cfg.variables.is_empty() {
                    eprintln!(
                        "{f}: note: nginx variables {} are checked by nginx -t",
                        cfg.variables
                            .iter()
                            .map(|v| format!("${v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                println!("{f}: ok ({cfg})");
            }
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        Err(String::new()) // the errors are printed already
    } else {
        Ok(())
    }
}

fn run_explain(args: &[String]) -> Result<(), String> {
    let mut it = args.iter();
    let file = it.next().ok_or(USAGE)?;
    let cfg = load(file)?;
    let mut req = explain::SimRequest {
        path: "/".into(),
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        vars: vec![None; cfg.variables.len()],
        ..Default::default()
    };
    let mut json = false;
    let mut cookies = Vec::new();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--path" => {
                let p = val()?;
                match p.split_once('?') {
                    Some((p, q)) => {
                        req.path = p.into();
                        req.query = q.into();
                    }
                    None => req.path = p,
                }
            }
            "--query" => req.query = val()?,
            "--cookie" => cookies.push(val()?),
            "--header" => {
                let h = val()?;
                let (k, v) = h
                    .split_once(':')
                    .ok_or(format!("--header \"{h}\": expected \"Name: value\""))?;
                req.headers
                    .push((k.trim().to_ascii_lowercase(), v.trim().as_bytes().to_vec()));
            }
            "--user-agent" => req.headers.push(("user-agent".into(), val()?.into_bytes())),
            "--ip" => {
                let ip = val()?;
                req.ip = Some(
                    ip.parse()
                        .map_err(|_| format!("--ip \"{ip}\": not an address"))?,
                );
            }
            "--var" => {
                let v = val()?;
                let (k, value) = v
                    .split_once('=')
                    .ok_or(format!("--var \"{v}\": expected name=value"))?;
                let k = k.trim_start_matches('$');
                match cfg.variables.iter().position(|n| n == k) {
                    Some(slot) => req.vars[slot] = Some(value.as_bytes().to_vec()),
                    None => eprintln!("note: no condition reads ${k}"),
                }
            }
            "--json" => json = true,
            other => return Err(format!("unknown option \"{other}\"\n{USAGE}")),
        }
    }
    req.cookie = cookies.join("; ");
    for (slot, v) in req.vars.iter().enumerate() {
        if v.is_none() {
            eprintln!(
                "note: a rule reads ${} (give it with --var {}=VALUE): taken as not found",
                cfg.variables[slot], cfg.variables[slot]
            );
        }
    }
    let out = explain::explain(&cfg, &req);
    if json {
        println!("{out}");
    } else {
        print!("{}", explain::to_text(&out));
    }
    Ok(())
}

fn bucket(uids: &[String]) -> Result<(), String> {
    if uids.is_empty() {
        return Err(USAGE.to_owned());
    }
    for u in uids {
        let valid = uid::is_valid(u.as_bytes());
        println!(
            "{u}\t{}{}",
            uid::bucket(u.as_bytes()),
            if valid {
                ""
            } else {
                "\t(not a valid uid: the module replaces it with a new one)"
            }
        );
    }
    Ok(())
}
