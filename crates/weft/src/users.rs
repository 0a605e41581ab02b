//! `weft user …` and `weft token …`: the operator's way in. The first administrator is
//! made here, and so is recovery when every administrator is locked out. The operator
//! holds the database, so these commands act as the system principal (audited as such),
//! except a member's own API token, which is made as that member.

use std::io::BufRead;

use anyhow::{Context, bail};
use time::OffsetDateTime;
use weft_model::Principal;
use weft_workspace::Workspace;
use weft_workspace::identity::{
    NewPrincipal, NewToken, PrincipalKindName, PrincipalQuery, PrincipalView, SecretString, generate_password,
};

use crate::cli::{Cli, TokenCommand, UserCommand};
use crate::commands::connect;
use crate::config::{self, Overrides};
use crate::logging;

async fn open(cli: &Cli) -> anyhow::Result<Workspace> {
    let loaded = config::load(&cli.common, &Overrides::default())?;
    logging::init(&loaded.config.log);
    let workspace = connect(&loaded).await?;
    // Principals live in the kernel's tables: bring the schema (and the built-in roles)
    // up to date first, as `serve` would.
    workspace.migrate().await?;
    Ok(workspace)
}

/// The password: the first line of standard input, or a generated one (printed once).
fn password(from_stdin: bool) -> anyhow::Result<(SecretString, bool)> {
    if !from_stdin {
        return Ok((generate_password()?, true));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let line = line.trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        bail!("standard input held no password (one line is read)");
    }
    Ok((SecretString::new(line), false))
}

async fn by_login(workspace: &Workspace, login: &str) -> anyhow::Result<PrincipalView> {
    workspace.principal_by_login(&Principal::system(), login).await.with_context(|| format!("no principal `{login}`"))
}

pub async fn user(cli: &Cli, command: &UserCommand) -> anyhow::Result<()> {
    let workspace = open(cli).await?;
    let result = run_user(&workspace, command).await;
    workspace.close().await;
    result
}

async fn run_user(workspace: &Workspace, command: &UserCommand) -> anyhow::Result<()> {
    let system = Principal::system();
    match command {
        UserCommand::Create { login, name, email, roles, service, password_stdin } => {
            let kind = if *service { PrincipalKindName::Service } else { PrincipalKindName::Member };
            let secret = if *service { None } else { Some(password(*password_stdin)?) };
            let roles = if roles.is_empty() { vec!["employee".to_owned()] } else { roles.clone() };
            let input = NewPrincipal {
                kind: Some(kind),
                login: login.clone(),
                display_name: name.clone().unwrap_or_else(|| login.clone()),
                email: email.clone(),
                roles: Some(roles),
                password: secret.as_ref().map(|(p, _)| p.clone()),
                ..NewPrincipal::default()
            };
            let created = workspace.create_principal(&system, input).await?;
            println!(
                "created {} `{}` ({}) with roles {}",
                kind.as_str(),
                created.login,
                created.id,
                created.roles.join(", ")
            );
            if let Some((secret, true)) = secret {
                println!("password: {}", secret.expose());
                println!("(shown once; sign in and change it under your profile)");
            }
        }
        UserCommand::ResetPassword { login, password_stdin } => {
            let who = by_login(workspace, login).await?;
            let (secret, generated) = password(*password_stdin)?;
            workspace.reset_password(&system, who.id, &secret).await?;
            println!("password of `{}` reset; its sessions have ended", who.login);
            if generated {
                println!("password: {}", secret.expose());
            }
        }
        UserCommand::Disable { login } => {
            let who = by_login(workspace, login).await?;
            workspace.disable_principal(&system, who.id).await?;
            println!("`{}` disabled; its sessions and tokens no longer work", who.login);
        }
        UserCommand::Enable { login } => {
            let who = by_login(workspace, login).await?;
            workspace.enable_principal(&system, who.id).await?;
            println!("`{}` enabled", who.login);
        }
        UserCommand::List => {
            let all = workspace.principals(&system, &PrincipalQuery::default()).await?;
            println!("{:<36}  {:<8}  {:<8}  {:<32}  roles", "id", "kind", "status", "login");
            for p in all {
                println!(
                    "{:<36}  {:<8}  {:<8}  {:<32}  {}",
                    p.id,
                    p.kind.as_str(),
                    p.status.as_str(),
                    p.login,
                    p.roles.join(",")
                );
            }
        }
    }
    Ok(())
}

pub async fn token(cli: &Cli, command: &TokenCommand) -> anyhow::Result<()> {
    let workspace = open(cli).await?;
    let result = run_token(&workspace, command).await;
    workspace.close().await;
    result
}

async fn run_token(workspace: &Workspace, command: &TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Create { login, name, roles, expires_days } = command;
    let owner = by_login(workspace, login).await?;
    // A member's token is made as the member (the façade lets members make their own); a
    // service account's by the system, as an administrator would.
    let actor = match owner.kind {
        PrincipalKindName::Member => Principal::member(owner.id),
        PrincipalKindName::Service => Principal::system(),
        PrincipalKindName::Guest => bail!("guests sign in with passwords; API tokens are for members and services"),
    };
    let expires_at = match expires_days {
        Some(days) => Some(
            (OffsetDateTime::now_utc() + time::Duration::days(i64::from(*days)))
                .format(&time::format_description::well_known::Rfc3339)?,
        ),
        None => None,
    };
    let input =
        NewToken { name: name.clone(), roles: if roles.is_empty() { None } else { Some(roles.clone()) }, expires_at };
    let created = workspace.create_token(&actor, owner.id, input).await?;
    eprintln!(
        "token `{}` for `{}` with roles {}{} (shown once):",
        created.view.name,
        owner.login,
        created.view.roles.join(", "),
        created.view.expires_at.as_deref().map(|e| format!(", expires {e}")).unwrap_or_default()
    );
    // The secret alone on standard output, so scripts can capture it.
    println!("{}", created.token);
    Ok(())
}
