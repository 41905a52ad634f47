//! `tracemark serve`: the HTTP API and the web page.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use clap::Args;
use tracemark::{Config, Error, Result, config::ConfigSource};
use tracemark_server::{Service, service::ApiTokens};

use crate::Output;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: the configuration's, else 127.0.0.1:8080].
    #[arg(long)]
    addr: Option<String>,
    /// The demo work folder to serve when no configuration is found.
    #[arg(long, default_value = "tracemark-demo")]
    demo_dir: PathBuf,
}

/// Where the demo's API tokens are kept when `serve` sets the demo up.
const DEMO_TOKENS: &str = "api-tokens";

/// The configuration to serve: the one located, else the demo work folder's (set up on
/// first use, with a tokens file of its own), so that one command starts a service.
fn configuration(config: Option<&Path>, demo_dir: &Path) -> Result<(Config, String)> {
    let (config, source) = Config::locate(config)?;
    match source {
        ConfigSource::Explicit(path)
        | ConfigSource::WorkingDirectory(path)
        | ConfigSource::KeyStore(path) => return Ok((config, path.display().to_string())),
        ConfigSource::Defaults => {}
    }
    let workspace = tracemark_demo::prepare(demo_dir, &Default::default())?;
    let mut config = workspace.config;
    if config.server.tokens_file.is_none() {
        let tokens = workspace.out.join(DEMO_TOKENS);
        ApiTokens::create_file(&tokens)?;
        config.server.tokens_file = Some(tokens);
    }
    Ok((config, format!("the demo in {}", workspace.out.display())))
}

pub fn serve(args: ServeArgs, config: Option<&Path>) -> Result<Output> {
    let ServeArgs { addr, demo_dir } = args;
    let (config, origin) = configuration(config, &demo_dir)?;
    let addr = addr
        .or_else(|| config.server.addr.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let tokens = config.server.tokens_file.clone();
    let service = Service::open(config)?;
    tracemark_server::run(&addr, service, |bound| {
        // The first line is what scripts wait for; the token itself is never printed. A
        // closed stdout (a script that read that line and left) must not stop the server.
        let mut lines = vec![
            format!("listening on http://{bound}"),
            format!("  page: http://{bound}/   API: http://{bound}/openapi.json"),
            format!("  configuration: {origin}"),
        ];
        lines.push(match &tokens {
            Some(path) => format!("  API tokens (for generation): {}", path.display()),
            None => "  no API tokens configured: generation is closed".into(),
        });
        let mut out = std::io::stdout().lock();
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    })
    .map_err(|source| Error::Io {
        action: "serve on",
        path: addr.clone().into(),
        source,
    })?;
    Ok(Output::new(
        serde_json::json!({ "stopped": addr }),
        "stopped".to_owned(),
    ))
}
