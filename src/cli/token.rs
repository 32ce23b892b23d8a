//! `portcullis token mint` (DEV ONLY): a short-lived token signed with the dev key of the
//! config's first issuer that has `dev_key_file` (the quickstart's).

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, load};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Sign a token with the dev key of the first issuer that has `dev_key_file` (DEV ONLY).
    Mint {
        #[arg(long, short)]
        config: Option<PathBuf>,
        #[arg(long)]
        sub: String,
        /// Group names (repeat, or comma-separated).
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        /// Scopes (repeat, or comma-separated).
        #[arg(long, value_delimiter = ',')]
        scope: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

pub(super) fn run(cmd: TokenCommand) -> Result<(), CliError> {
    let TokenCommand::Mint {
        config,
        sub,
        groups,
        scope,
        ttl,
    } = cmd;
    let cfg = load(config.as_deref())?;
    let auth = cfg
        .auth
        .as_ref()
        .map(|a| a.get_ref().clone())
        .ok_or_else(|| CliError::Usage("the config has no [auth]".into()))?;
    let issuer = auth
        .issuers
        .iter()
        .find(|i| i.dev_key_file.is_some())
        .ok_or_else(|| {
            CliError::Usage(
                "no `[[auth.issuers]]` with `dev_key_file` in this config: minting is for dev \
                 setups only"
                    .into(),
            )
        })?;
    let key_path = issuer
        .dev_key_file
        .as_ref()
        .map(|p| cfg.resolve_path(p))
        .ok_or_else(|| CliError::Usage("no dev key".into()))?;
    let dev_key = |e: crate::identity::dev::DevKeyError| CliError::Runtime {
        what: "dev key",
        message: e.to_string(),
    };
    let key = crate::identity::dev::DevKey::load_or_create(&key_path).map_err(dev_key)?;
    let audience = issuer
        .audiences
        .as_ref()
        .and_then(|a| a.first().cloned())
        .or_else(|| cfg.listen.get_ref().public_url.clone())
        .ok_or_else(|| CliError::Usage("no audience: set listen.public_url".into()))?;
    let claims =
        crate::identity::dev::claims(&issuer.issuer, &audience, &sub, &groups, &scope, ttl);
    println!("{}", key.sign(&claims).map_err(dev_key)?);
    eprintln!("DEV ONLY token for `{sub}` (audience {audience}, valid {ttl} s)");
    Ok(())
}
