//! People and org units for access tests, written straight into the kernel tables so a
//! test can set up hundreds of principals quickly and independently of the admin API
//! (which has its own tests). The directory is reloaded after each change.

use sea_query::{Expr, Query};
use uuid::Uuid;
use weft_model::Principal;
use weft_store::records::codec::uuid;
use weft_workspace::{Error, Workspace};

fn alias(name: &str) -> sea_query::Alias {
    sea_query::Alias::new(name)
}

/// A member (or, with `party`, a guest of that party) holding `roles`.
pub async fn principal(ws: &Workspace, party: Option<Uuid>, roles: &[&str]) -> Principal {
    let id = Uuid::now_v7();
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    ws.database()
        .write(move |tx| {
            Box::pin(async move {
                let at = weft_store::timestamp(tx.backend(), weft_store::now());
                let insert = Query::insert()
                    .into_table(alias("principals"))
                    .columns(
                        ["id", "kind", "login", "display_name", "party_id", "status", "created_at", "updated_at"]
                            .map(alias),
                    )
                    .values_panic([
                        Expr::val(uuid(id)).into(),
                        (if party.is_some() { "guest" } else { "member" }).into(),
                        format!("p-{id}").into(),
                        format!("Person {id}").into(),
                        Expr::val(weft_store::records::codec::opt_uuid(party)).into(),
                        "active".into(),
                        Expr::val(at.clone()).into(),
                        Expr::val(at).into(),
                    ])
                    .to_owned();
                tx.execute(&insert).await?;
                weft_store::kernel::access::set_holdings(tx, id, &roles).await?;
                Ok::<_, Error>(())
            })
        })
        .await
        .expect("insert principal");
    ws.reload_directory().await.expect("reload directory");
    match party {
        Some(party) => Principal::guest(id, party),
        None => Principal::member(id),
    }
}

/// A member holding `roles`.
pub async fn member(ws: &Workspace, roles: &[&str]) -> Principal {
    principal(ws, None, roles).await
}

/// A guest of `party` holding `roles`.
pub async fn guest(ws: &Workspace, party: Uuid, roles: &[&str]) -> Principal {
    principal(ws, Some(party), roles).await
}

/// An org unit under `parent`.
pub async fn unit(ws: &Workspace, name: &str, parent: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    let name = name.to_owned();
    ws.database()
        .write(move |tx| {
            Box::pin(async move {
                let at = weft_store::timestamp(tx.backend(), weft_store::now());
                let insert = Query::insert()
                    .into_table(alias("org_units"))
                    .columns(["id", "name", "parent_id", "created_at", "updated_at"].map(alias))
                    .values_panic([
                        Expr::val(uuid(id)).into(),
                        name.into(),
                        Expr::val(weft_store::records::codec::opt_uuid(parent)).into(),
                        Expr::val(at.clone()).into(),
                        Expr::val(at).into(),
                    ])
                    .to_owned();
                tx.execute(&insert).await?;
                Ok::<_, Error>(())
            })
        })
        .await
        .expect("insert unit");
    ws.reload_directory().await.expect("reload directory");
    id
}

/// Makes `principal` a member of `unit` (its primary unit when `primary`).
pub async fn join(ws: &Workspace, principal: &Principal, unit: Uuid, primary: bool) {
    let who = principal.id;
    ws.database()
        .write(move |tx| {
            Box::pin(async move {
                let insert = Query::insert()
                    .into_table(alias("unit_members"))
                    .columns(["unit_id", "principal_id", "is_primary"].map(alias))
                    .values_panic([Expr::val(uuid(unit)).into(), Expr::val(uuid(who)).into(), primary.into()])
                    .to_owned();
                tx.execute(&insert).await?;
                Ok::<_, Error>(())
            })
        })
        .await
        .expect("insert membership");
    ws.reload_directory().await.expect("reload directory");
}
