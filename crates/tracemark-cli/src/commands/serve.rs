//! `tracemark serve`: the HTTP API and the web page.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use clap::Args;
use tracemark::{Config, Error, Result, config::ConfigSource};
use tracemark_server::{Service, service::ApiTokens, shard::ShardService};

use crate::Output;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: the configuration's, else 127.0.0.1:8080].
    #[arg(long)]
    addr: Option<String>,
    /// The demo work folder to serve when no configuration is found.
    #[arg(long, default_value = "tracemark-demo")]
    demo_dir: PathBuf,
    /// Serve one shard of a sharded index (a part directory, `DIR/part-NNNNN`) to the
    /// routers that query it, and nothing else.
    #[arg(long, value_name = "DIR", conflicts_with = "shards")]
    index_shard: Option<PathBuf>,
    /// Route: answer count, trace and attribute requests from the shard servers of one
    /// sharded index (base URLs, in the order of its parts) instead of the configured
    /// indexes; a shard that does not answer makes the answer `incomplete`.
    #[arg(long, value_name = "URL", num_args = 1..)]
    shards: Vec<String>,
    /// How long the router waits for every shard's answer, in milliseconds
    /// [default: the configuration's, else 5000].
    #[arg(long, value_name = "MS", requires = "shards")]
    shard_deadline_ms: Option<u64>,
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
    let ServeArgs {
        addr,
        demo_dir,
        index_shard,
        shards,
        shard_deadline_ms,
    } = args;
    if let Some(dir) = index_shard {
        return serve_shard(addr, &dir);
    }
    let (mut config, origin) = configuration(config, &demo_dir)?;
    if !shards.is_empty() {
        // The router's corpus is the sharded index, in place of any configured one (whose
        // corpus model, when it is the model, stays the model).
        if config.model.path.is_none() && !config.index.paths.is_empty() {
            config.model.path = Some(config.index.paths[0].clone());
        }
        config.index.paths.clear();
        config.index.shards = shards;
        config.index.shard_deadline_ms = shard_deadline_ms.or(config.index.shard_deadline_ms);
    }
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
    Ok(stopped(addr))
}

fn stopped(addr: String) -> Output {
    Output::new(serde_json::json!({ "stopped": addr }), "stopped".to_owned())
}

/// `serve --index-shard DIR`: the shard's answers, for routers.
fn serve_shard(addr: Option<String>, dir: &Path) -> Result<Output> {
    let addr = addr.unwrap_or_else(|| "127.0.0.1:8080".into());
    let shard = ShardService::open(dir)?;
    tracemark_server::run_shard(&addr, shard, |bound| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{bound}");
        let _ = writeln!(out, "  shard: {}", dir.display());
        let _ = out.flush();
    })
    .map_err(|source| Error::Io {
        action: "serve on",
        path: addr.clone().into(),
        source,
    })?;
    Ok(stopped(addr))
}
