//! Process definitions, instances and the rows their effects become (tasks, jobs,
//! subscriptions, steps), plus business calendars. The façade decides; these functions only
//! read and write rows. Effects are keyed by the engine's wait id, so every insert here is
//! "on conflict do nothing": a step replayed after a crash writes nothing twice.

use sea_query::{Cond, Expr, LockBehavior, LockType, OnConflict, Order, Query, SelectStatement};
use time::OffsetDateTime;
use uuid::Uuid;

use super::t;
use crate::records::codec::{opt_uuid, uuid};
use crate::shapes::shaped;
use crate::tx::{opt_timestamp, timestamp};
use crate::{Backend, Database, DbRow, Rendered, Result, Tx};

// ── definitions ────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDefinition {
    pub id: Uuid,
    pub process_key: String,
    pub version: i64,
    pub name: String,
    pub record_type: Option<String>,
    /// The bound type's transition that starts an instance.
    pub start_on: Option<String>,
    /// JSON object: declared process variables, name to type.
    pub variables: String,
    pub xml: String,
    pub checksum: String,
    pub deployed_at: OffsetDateTime,
    pub deployed_by: String,
}

const DEFINITION_COLUMNS: [&str; 11] = [
    "id",
    "process_key",
    "version",
    "name",
    "record_type",
    "start_on",
    "variables",
    "xml",
    "checksum",
    "deployed_at",
    "deployed_by",
];

fn definitions() -> SelectStatement {
    Query::select().columns(DEFINITION_COLUMNS.map(t)).from(t("process_definitions")).to_owned()
}

fn decode_definition(row: &DbRow) -> Result<StoredDefinition> {
    Ok(StoredDefinition {
        id: row.get("id")?,
        process_key: row.get("process_key")?,
        version: row.get("version")?,
        name: row.get("name")?,
        record_type: row.get("record_type")?,
        start_on: row.get("start_on")?,
        variables: row.get("variables")?,
        xml: row.get("xml")?,
        checksum: row.get("checksum")?,
        deployed_at: row.get("deployed_at")?,
        deployed_by: row.get("deployed_by")?,
    })
}

/// The version of `key` deployed from exactly this XML, if any.
pub async fn definition_by_checksum(tx: &mut Tx, key: &str, checksum: &str) -> Result<Option<StoredDefinition>> {
    let select = definitions()
        .and_where(Expr::col(t("process_key")).eq(key))
        .and_where(Expr::col(t("checksum")).eq(checksum))
        .order_by(t("version"), Order::Desc)
        .limit(1)
        .to_owned();
    tx.fetch_optional(&select).await?.as_ref().map(decode_definition).transpose()
}

/// The next version number of `key` (1 for a new key). The unique (key, version) refuses
/// the second of two concurrent deployments taking the same number.
pub async fn next_version(tx: &mut Tx, key: &str) -> Result<i64> {
    let latest = Query::select()
        .expr_as(Expr::col(t("version")).max(), t("v"))
        .from(t("process_definitions"))
        .and_where(Expr::col(t("process_key")).eq(key))
        .to_owned();
    Ok(match tx.fetch_optional(&latest).await? {
        Some(row) => row.get::<Option<i64>>("v")?.unwrap_or(0) + 1,
        None => 1,
    })
}

pub async fn insert_definition(tx: &mut Tx, d: &StoredDefinition) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("process_definitions"))
        .columns(DEFINITION_COLUMNS.map(t))
        .values_panic([
            Expr::val(uuid(d.id)).into(),
            d.process_key.as_str().into(),
            d.version.into(),
            d.name.as_str().into(),
            d.record_type.clone().into(),
            d.start_on.clone().into(),
            d.variables.as_str().into(),
            d.xml.as_str().into(),
            d.checksum.as_str().into(),
            Expr::val(timestamp(backend, d.deployed_at)).into(),
            d.deployed_by.as_str().into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

pub async fn definition(db: &Database, id: Uuid) -> Result<Option<StoredDefinition>> {
    let select = shaped(db.backend(), "process_definitions.by_id", vec![uuid(id)], |v| {
        definitions().and_where(Expr::col(t("id")).eq(v[0].clone())).to_owned()
    });
    db.lookup_rendered(select).await?.as_ref().map(decode_definition).transpose()
}

/// The newest version of `key`.
pub async fn latest_definition(db: &Database, key: &str) -> Result<Option<StoredDefinition>> {
    // sea-query binds the limit as a value.
    let select = shaped(db.backend(), "process_definitions.latest", vec![key.into(), 1_u64.into()], |v| {
        definitions()
            .and_where(Expr::col(t("process_key")).eq(v[0].clone()))
            .order_by(t("version"), Order::Desc)
            .limit(1)
            .to_owned()
    });
    db.lookup_rendered(select).await?.as_ref().map(decode_definition).transpose()
}

/// Every version of every process (or of `key`), by key, newest version first.
pub async fn all_definitions(db: &Database, key: Option<&str>) -> Result<Vec<StoredDefinition>> {
    let mut select = definitions();
    if let Some(key) = key {
        select.and_where(Expr::col(t("process_key")).eq(key));
    }
    let select = select.order_by(t("process_key"), Order::Asc).order_by(t("version"), Order::Desc).to_owned();
    db.fetch_all(&select).await?.iter().map(decode_definition).collect()
}

/// One version of `key`.
pub async fn definition_version(db: &Database, key: &str, version: i64) -> Result<Option<StoredDefinition>> {
    let select = definitions()
        .and_where(Expr::col(t("process_key")).eq(key))
        .and_where(Expr::col(t("version")).eq(version))
        .to_owned();
    db.lookup(&select).await?.as_ref().map(decode_definition).transpose()
}

/// The process keys whose newest version starts on `transition` of `record_type`.
pub async fn started_on(db: &Database, record_type: &str, transition: &str) -> Result<Vec<String>> {
    let select = Query::select()
        .distinct()
        .column(t("process_key"))
        .from(t("process_definitions"))
        .and_where(Expr::col(t("record_type")).eq(record_type))
        .and_where(Expr::col(t("start_on")).eq(transition))
        .order_by(t("process_key"), Order::Asc)
        .to_owned();
    let mut keys = Vec::new();
    for row in db.fetch_all(&select).await? {
        let key: String = row.get("process_key")?;
        // Only if the newest version still starts there.
        if latest_definition(db, &key).await?.is_some_and(|d| d.start_on.as_deref() == Some(transition)) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Every deployed process key (for call activities to name).
pub async fn process_keys(tx: &mut Tx) -> Result<Vec<String>> {
    let select = Query::select().distinct().column(t("process_key")).from(t("process_definitions")).to_owned();
    tx.fetch_all(&select).await?.iter().map(|r| r.get("process_key")).collect()
}

// ── instances ──────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInstance {
    pub id: Uuid,
    pub definition_id: Uuid,
    pub process_key: String,
    pub version: i64,
    pub status: String,
    pub record_type: Option<String>,
    pub record_id: Option<Uuid>,
    pub parent_instance: Option<Uuid>,
    pub parent_wait: Option<String>,
    pub started_by: Option<Uuid>,
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub state: String,
    pub revision: i64,
}

const INSTANCE_COLUMNS: [&str; 14] = [
    "id",
    "definition_id",
    "process_key",
    "version",
    "status",
    "record_type",
    "record_id",
    "parent_instance",
    "parent_wait",
    "started_by",
    "started_at",
    "ended_at",
    "state",
    "revision",
];

fn decode_instance(row: &DbRow) -> Result<StoredInstance> {
    Ok(StoredInstance {
        id: row.get("id")?,
        definition_id: row.get("definition_id")?,
        process_key: row.get("process_key")?,
        version: row.get("version")?,
        status: row.get("status")?,
        record_type: row.get("record_type")?,
        record_id: row.get("record_id")?,
        parent_instance: row.get("parent_instance")?,
        parent_wait: row.get("parent_wait")?,
        started_by: row.get("started_by")?,
        started_at: row.get("started_at")?,
        ended_at: row.get("ended_at")?,
        state: row.get("state")?,
        revision: row.get("revision")?,
    })
}

/// Inserts a new instance; false when one with this id exists already (a child instance
/// started twice by a replayed job).
pub async fn insert_instance(tx: &mut Tx, i: &StoredInstance) -> Result<bool> {
    let insert = render_insert_instance(tx.backend(), i);
    Ok(tx.execute_rendered(insert).await? > 0)
}

/// `insert_instance`'s statement, rendered before the transaction (one row changed: inserted).
pub fn render_insert_instance(backend: Backend, i: &StoredInstance) -> Rendered {
    let values = vec![
        uuid(i.id),
        uuid(i.definition_id),
        i.process_key.as_str().into(),
        i.version.into(),
        i.status.as_str().into(),
        i.record_type.clone().into(),
        opt_uuid(i.record_id),
        opt_uuid(i.parent_instance),
        i.parent_wait.clone().into(),
        opt_uuid(i.started_by),
        timestamp(backend, i.started_at),
        opt_timestamp(backend, i.ended_at),
        i.state.as_str().into(),
        i.revision.into(),
    ];
    shaped(backend, "process_instances.insert", values, |v| {
        Query::insert()
            .into_table(t("process_instances"))
            .columns(INSTANCE_COLUMNS.map(t))
            .values_panic(v.iter().cloned().map(Into::into))
            .on_conflict(OnConflict::column(t("id")).do_nothing().to_owned())
            .to_owned()
    })
}

pub async fn instance(db: &Database, id: Uuid) -> Result<Option<StoredInstance>> {
    let select = shaped(db.backend(), "process_instances.by_id", vec![uuid(id)], |v| {
        Query::select()
            .columns(INSTANCE_COLUMNS.map(t))
            .from(t("process_instances"))
            .and_where(Expr::col(t("id")).eq(v[0].clone()))
            .to_owned()
    });
    db.lookup_rendered(select).await?.as_ref().map(decode_instance).transpose()
}

/// The instances bound to one record, oldest first.
pub async fn instances_of_record(db: &Database, record_type: &str, record_id: Uuid) -> Result<Vec<StoredInstance>> {
    let select = Query::select()
        .columns(INSTANCE_COLUMNS.map(t))
        .from(t("process_instances"))
        .and_where(Expr::col(t("record_type")).eq(record_type))
        .and_where(Expr::col(t("record_id")).eq(uuid(record_id)))
        .order_by(t("started_at"), Order::Asc)
        .to_owned();
    db.lookup_all(&select).await?.iter().map(decode_instance).collect()
}

/// The instances `principal` started (optionally only those with `status`), newest first,
/// at most `limit`.
pub async fn instances_started_by(
    db: &Database,
    principal: Uuid,
    status: Option<&str>,
    limit: u64,
) -> Result<Vec<StoredInstance>> {
    let mut select = Query::select()
        .columns(INSTANCE_COLUMNS.map(t))
        .from(t("process_instances"))
        .and_where(Expr::col(t("started_by")).eq(uuid(principal)))
        .to_owned();
    if let Some(status) = status {
        select.and_where(Expr::col(t("status")).eq(status));
    }
    let select = select.order_by(t("started_at"), Order::Desc).order_by(t("id"), Order::Desc).limit(limit).to_owned();
    db.fetch_all(&select).await?.iter().map(decode_instance).collect()
}

/// Stores a step's new state if nobody stepped the instance since `revision` was read;
/// false otherwise (the caller reloads and tries again).
pub async fn save_state(
    tx: &mut Tx,
    id: Uuid,
    revision: i64,
    status: &str,
    state: &str,
    ended_at: Option<OffsetDateTime>,
) -> Result<bool> {
    let update = render_save_state(tx.backend(), id, revision, status, state, ended_at);
    Ok(tx.execute_rendered(update).await? == 1)
}

/// `save_state`'s statement, rendered before the transaction (one row changed: saved).
pub fn render_save_state(
    backend: Backend,
    id: Uuid,
    revision: i64,
    status: &str,
    state: &str,
    ended_at: Option<OffsetDateTime>,
) -> Rendered {
    let values = vec![
        status.into(),
        state.into(),
        (revision + 1).into(),
        opt_timestamp(backend, ended_at),
        uuid(id),
        revision.into(),
    ];
    shaped(backend, "process_instances.save_state", values, |v| {
        Query::update()
            .table(t("process_instances"))
            .value(t("status"), v[0].clone())
            .value(t("state"), v[1].clone())
            .value(t("revision"), v[2].clone())
            .value(t("ended_at"), v[3].clone())
            .and_where(Expr::col(t("id")).eq(v[4].clone()))
            .and_where(Expr::col(t("revision")).eq(v[5].clone()))
            .to_owned()
    })
}

/// Moves an instance to another deployed version with its migrated state, if nobody
/// stepped it since `revision` was read; false otherwise.
pub async fn migrate_instance(
    tx: &mut Tx,
    id: Uuid,
    revision: i64,
    definition_id: Uuid,
    version: i64,
    state: &str,
) -> Result<bool> {
    let update = Query::update()
        .table(t("process_instances"))
        .value(t("definition_id"), Expr::val(uuid(definition_id)))
        .value(t("version"), version)
        .value(t("state"), state)
        .value(t("revision"), revision + 1)
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("revision")).eq(revision))
        .and_where(Expr::col(t("status")).eq("active"))
        .to_owned();
    Ok(tx.execute(&update).await? == 1)
}

/// Renames the element of an instance's open tasks, pending jobs and open subscriptions
/// (a migration moved the instance from `from` to `to`).
pub async fn rename_open_element(tx: &mut Tx, instance: Uuid, from: &str, to: &str) -> Result<()> {
    let open_jobs: &[&str] = &["pending", "running", "incident"];
    for (table, open) in
        [("process_tasks", &["open"][..]), ("process_jobs", open_jobs), ("process_subscriptions", &["open"])]
    {
        let update = Query::update()
            .table(t(table))
            .value(t("element"), to)
            .and_where(Expr::col(t("instance_id")).eq(uuid(instance)))
            .and_where(Expr::col(t("element")).eq(from))
            .and_where(Expr::col(t("status")).is_in(open.iter().copied()))
            .to_owned();
        tx.execute(&update).await?;
    }
    Ok(())
}

// ── tasks ──────────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTask {
    pub id: String,
    pub instance_id: Uuid,
    pub element: String,
    pub name: Option<String>,
    pub status: String,
    pub assignee: Option<Uuid>,
    pub delegated_from: Option<Uuid>,
    /// JSON arrays.
    pub candidate_principals: String,
    pub candidate_roles: String,
    pub candidate_units: String,
    pub forbid_self_approval: bool,
    pub due_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub ended_by: Option<String>,
    pub outcome: Option<String>,
    pub inputs: String,
    pub record_type: Option<String>,
    pub record_id: Option<Uuid>,
}

const TASK_COLUMNS: [&str; 19] = [
    "id",
    "instance_id",
    "element",
    "name",
    "status",
    "assignee",
    "delegated_from",
    "candidate_principals",
    "candidate_roles",
    "candidate_units",
    "forbid_self_approval",
    "due_at",
    "created_at",
    "ended_at",
    "ended_by",
    "outcome",
    "inputs",
    "record_type",
    "record_id",
];

fn decode_task(row: &DbRow) -> Result<StoredTask> {
    Ok(StoredTask {
        id: row.get("id")?,
        instance_id: row.get("instance_id")?,
        element: row.get("element")?,
        name: row.get("name")?,
        status: row.get("status")?,
        assignee: row.get("assignee")?,
        delegated_from: row.get("delegated_from")?,
        candidate_principals: row.get("candidate_principals")?,
        candidate_roles: row.get("candidate_roles")?,
        candidate_units: row.get("candidate_units")?,
        forbid_self_approval: row.get("forbid_self_approval")?,
        due_at: row.get("due_at")?,
        created_at: row.get("created_at")?,
        ended_at: row.get("ended_at")?,
        ended_by: row.get("ended_by")?,
        outcome: row.get("outcome")?,
        inputs: row.get("inputs")?,
        record_type: row.get("record_type")?,
        record_id: row.get("record_id")?,
    })
}

/// Inserts an open task; a task with this id already there is left alone.
pub async fn insert_task(tx: &mut Tx, task: &StoredTask) -> Result<bool> {
    let insert = render_insert_task(tx.backend(), task);
    Ok(tx.execute_rendered(insert).await? > 0)
}

/// `insert_task`'s statement, rendered before the transaction.
pub fn render_insert_task(backend: Backend, task: &StoredTask) -> Rendered {
    let values = vec![
        task.id.as_str().into(),
        uuid(task.instance_id),
        task.element.as_str().into(),
        task.name.clone().into(),
        task.status.as_str().into(),
        opt_uuid(task.assignee),
        opt_uuid(task.delegated_from),
        task.candidate_principals.as_str().into(),
        task.candidate_roles.as_str().into(),
        task.candidate_units.as_str().into(),
        task.forbid_self_approval.into(),
        opt_timestamp(backend, task.due_at),
        timestamp(backend, task.created_at),
        opt_timestamp(backend, task.ended_at),
        task.ended_by.clone().into(),
        task.outcome.clone().into(),
        task.inputs.as_str().into(),
        task.record_type.clone().into(),
        opt_uuid(task.record_id),
    ];
    shaped(backend, "process_tasks.insert", values, |v| {
        Query::insert()
            .into_table(t("process_tasks"))
            .columns(TASK_COLUMNS.map(t))
            .values_panic(v.iter().cloned().map(Into::into))
            .on_conflict(OnConflict::column(t("id")).do_nothing().to_owned())
            .to_owned()
    })
}

fn task_select() -> SelectStatement {
    Query::select().columns(TASK_COLUMNS.map(t)).from(t("process_tasks")).to_owned()
}

pub async fn task(db: &Database, id: &str) -> Result<Option<StoredTask>> {
    let select = shaped(db.backend(), "process_tasks.by_id", vec![id.into()], |v| {
        task_select().and_where(Expr::col(t("id")).eq(v[0].clone())).to_owned()
    });
    db.lookup_rendered(select).await?.as_ref().map(decode_task).transpose()
}

/// The tasks of one instance, oldest first.
pub async fn tasks_of_instance(db: &Database, instance: Uuid) -> Result<Vec<StoredTask>> {
    let select = shaped(db.backend(), "process_tasks.of_instance", vec![uuid(instance)], |v| {
        task_select()
            .and_where(Expr::col(t("instance_id")).eq(v[0].clone()))
            .order_by(t("created_at"), Order::Asc)
            .order_by(t("id"), Order::Asc)
            .to_owned()
    });
    db.lookup_all_rendered(select).await?.iter().map(decode_task).collect()
}

/// Open tasks assigned to any of `assignees`, oldest first.
pub async fn open_tasks_of(db: &Database, assignees: &[Uuid]) -> Result<Vec<StoredTask>> {
    let select = task_select()
        .and_where(Expr::col(t("status")).eq("open"))
        .and_where(Expr::col(t("assignee")).is_in(assignees.iter().map(|a| uuid(*a))))
        .order_by(t("created_at"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_task).collect()
}

/// Open tasks nobody holds yet (candidates may claim them), oldest first.
pub async fn open_unassigned_tasks(db: &Database) -> Result<Vec<StoredTask>> {
    let select = task_select()
        .and_where(Expr::col(t("status")).eq("open"))
        .and_where(Expr::col(t("assignee")).is_null())
        .order_by(t("created_at"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_task).collect()
}

/// How many open tasks each of `assignees` holds (those holding none are left out).
pub async fn open_task_counts(db: &Database, assignees: &[Uuid]) -> Result<Vec<(Uuid, i64)>> {
    let select = Query::select()
        .column(t("assignee"))
        .expr_as(Expr::col(t("id")).count(), t("n"))
        .from(t("process_tasks"))
        .and_where(Expr::col(t("status")).eq("open"))
        .and_where(Expr::col(t("assignee")).is_in(assignees.iter().map(|a| uuid(*a))))
        .group_by_col(t("assignee"))
        .to_owned();
    db.fetch_all(&select).await?.iter().map(|r| Ok((r.get("assignee")?, r.get("n")?))).collect()
}

/// Who among `among` was given a task at `element` of process `key` last (round robin).
pub async fn last_assignee(db: &Database, key: &str, element: &str, among: &[Uuid]) -> Result<Option<Uuid>> {
    let instances = Query::select()
        .column(t("id"))
        .from(t("process_instances"))
        .and_where(Expr::col(t("process_key")).eq(key))
        .to_owned();
    let select = Query::select()
        .column(t("assignee"))
        .from(t("process_tasks"))
        .and_where(Expr::col(t("element")).eq(element))
        .and_where(Expr::col(t("assignee")).is_in(among.iter().map(|a| uuid(*a))))
        .and_where(Expr::col(t("instance_id")).in_subquery(instances))
        .order_by(t("created_at"), Order::Desc)
        .order_by(t("id"), Order::Desc)
        .limit(1)
        .to_owned();
    db.fetch_optional(&select).await?.map(|r| r.get("assignee")).transpose()
}

/// Ends an open task (completed or cancelled); false when it was not open any more.
pub async fn end_task(
    tx: &mut Tx,
    id: &str,
    status: &str,
    at: OffsetDateTime,
    by: Option<&str>,
    outcome: Option<&str>,
) -> Result<bool> {
    let update = render_end_task(tx.backend(), id, status, at, by, outcome);
    Ok(tx.execute_rendered(update).await? > 0)
}

/// `end_task`'s statement, rendered before the transaction (one row changed: ended).
pub fn render_end_task(
    backend: Backend,
    id: &str,
    status: &str,
    at: OffsetDateTime,
    by: Option<&str>,
    outcome: Option<&str>,
) -> Rendered {
    let values = vec![
        status.into(),
        timestamp(backend, at),
        by.map(str::to_owned).into(),
        outcome.map(str::to_owned).into(),
        id.into(),
        "open".into(),
    ];
    shaped(backend, "process_tasks.end", values, |v| {
        Query::update()
            .table(t("process_tasks"))
            .value(t("status"), v[0].clone())
            .value(t("ended_at"), v[1].clone())
            .value(t("ended_by"), v[2].clone())
            .value(t("outcome"), v[3].clone())
            .and_where(Expr::col(t("id")).eq(v[4].clone()))
            .and_where(Expr::col(t("status")).eq(v[5].clone()))
            .to_owned()
    })
}

/// Gives an open task to `assignee` (claim, transfer, delegation); false when not open.
pub async fn assign_task(tx: &mut Tx, id: &str, assignee: Uuid, delegated_from: Option<Uuid>) -> Result<bool> {
    let update = Query::update()
        .table(t("process_tasks"))
        .value(t("assignee"), Expr::val(uuid(assignee)))
        .value(t("delegated_from"), Expr::val(opt_uuid(delegated_from)))
        .and_where(Expr::col(t("id")).eq(id))
        .and_where(Expr::col(t("status")).eq("open"))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

// ── jobs ───────────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredJob {
    pub id: String,
    pub instance_id: Uuid,
    pub element: String,
    pub kind: String,
    pub payload: String,
    pub due_at: OffsetDateTime,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
}

const JOB_COLUMNS: [&str; 10] =
    ["id", "instance_id", "element", "kind", "payload", "due_at", "status", "attempts", "max_attempts", "last_error"];

fn decode_job(row: &DbRow) -> Result<StoredJob> {
    Ok(StoredJob {
        id: row.get("id")?,
        instance_id: row.get("instance_id")?,
        element: row.get("element")?,
        kind: row.get("kind")?,
        payload: row.get("payload")?,
        due_at: row.get("due_at")?,
        status: row.get("status")?,
        attempts: row.get("attempts")?,
        max_attempts: row.get("max_attempts")?,
        last_error: row.get("last_error")?,
    })
}

/// A pending job; one with this id already there is left alone.
pub async fn insert_job(tx: &mut Tx, job: &StoredJob, created_at: OffsetDateTime) -> Result<bool> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("process_jobs"))
        .columns(
            [
                "id",
                "instance_id",
                "element",
                "kind",
                "payload",
                "due_at",
                "status",
                "attempts",
                "max_attempts",
                "created_at",
            ]
            .map(t),
        )
        .values_panic([
            job.id.as_str().into(),
            Expr::val(uuid(job.instance_id)).into(),
            job.element.as_str().into(),
            job.kind.as_str().into(),
            job.payload.as_str().into(),
            Expr::val(timestamp(backend, job.due_at)).into(),
            "pending".into(),
            0_i64.into(),
            job.max_attempts.into(),
            Expr::val(timestamp(backend, created_at)).into(),
        ])
        .on_conflict(OnConflict::column(t("id")).do_nothing().to_owned())
        .to_owned();
    Ok(tx.execute(&insert).await? > 0)
}

pub async fn job(db: &Database, id: &str) -> Result<Option<StoredJob>> {
    let select = Query::select()
        .columns(JOB_COLUMNS.map(t))
        .from(t("process_jobs"))
        .and_where(Expr::col(t("id")).eq(id))
        .to_owned();
    db.lookup(&select).await?.as_ref().map(decode_job).transpose()
}

/// The jobs of one instance, by due time.
pub async fn jobs_of_instance(db: &Database, instance: Uuid) -> Result<Vec<StoredJob>> {
    let select = Query::select()
        .columns(JOB_COLUMNS.map(t))
        .from(t("process_jobs"))
        .and_where(Expr::col(t("instance_id")).eq(uuid(instance)))
        .order_by(t("due_at"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_job).collect()
}

/// Claims up to `limit` jobs due at `now` (pending, or running with an expired lock: a
/// worker that died) for `worker` until `lock_until`. On PostgreSQL rows other nodes hold
/// are skipped (`FOR UPDATE SKIP LOCKED`); on SQLite the single writer serialises claims.
pub async fn claim_due(
    tx: &mut Tx,
    now: OffsetDateTime,
    limit: u64,
    worker: &str,
    lock_until: OffsetDateTime,
) -> Result<Vec<StoredJob>> {
    let backend = tx.backend();
    let mut select = Query::select();
    select
        .columns(JOB_COLUMNS.map(t))
        .from(t("process_jobs"))
        .cond_where(
            Cond::any()
                .add(
                    Cond::all()
                        .add(Expr::col(t("status")).eq("pending"))
                        .add(Expr::col(t("due_at")).lte(timestamp(backend, now))),
                )
                .add(
                    Cond::all()
                        .add(Expr::col(t("status")).eq("running"))
                        .add(Expr::col(t("locked_until")).lt(timestamp(backend, now))),
                ),
        )
        .order_by(t("due_at"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .limit(limit);
    if backend == Backend::Postgres {
        select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut jobs: Vec<StoredJob> = tx.fetch_all(&select).await?.iter().map(decode_job).collect::<Result<_>>()?;
    for job in &mut jobs {
        let update = Query::update()
            .table(t("process_jobs"))
            .value(t("status"), "running")
            .value(t("attempts"), Expr::col(t("attempts")).add(1))
            .value(t("locked_by"), worker)
            .value(t("locked_until"), Expr::val(timestamp(backend, lock_until)))
            .and_where(Expr::col(t("id")).eq(job.id.as_str()))
            .to_owned();
        tx.execute(&update).await?;
        job.status = "running".into();
        job.attempts += 1;
    }
    Ok(jobs)
}

/// Ends a job (`done`, `cancelled`, `incident`) unless it ended already; false then.
pub async fn end_job(tx: &mut Tx, id: &str, status: &str, error: Option<&str>) -> Result<bool> {
    let update = Query::update()
        .table(t("process_jobs"))
        .value(t("status"), status)
        .value(t("last_error"), error.map(str::to_owned))
        .value(t("locked_by"), Option::<String>::None)
        .and_where(Expr::col(t("id")).eq(id))
        .and_where(Expr::col(t("status")).is_in(["pending", "running"]))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

/// Puts a failed job back in the queue for `due_at`.
pub async fn retry_job(tx: &mut Tx, id: &str, due_at: OffsetDateTime, error: &str) -> Result<bool> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("process_jobs"))
        .value(t("status"), "pending")
        .value(t("due_at"), Expr::val(timestamp(backend, due_at)))
        .value(t("last_error"), error)
        .value(t("locked_by"), Option::<String>::None)
        .and_where(Expr::col(t("id")).eq(id))
        .and_where(Expr::col(t("status")).eq("running"))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

/// Jobs that ran out of retries (or failed with a business error): incidents, oldest first.
pub async fn incident_jobs(db: &Database) -> Result<Vec<StoredJob>> {
    let select = Query::select()
        .columns(JOB_COLUMNS.map(t))
        .from(t("process_jobs"))
        .and_where(Expr::col(t("status")).eq("incident"))
        .order_by(t("due_at"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_job).collect()
}

/// Puts an incident job back in the queue with fresh attempts (an admin's retry); false
/// when it is no incident.
pub async fn requeue_job(tx: &mut Tx, id: &str, due_at: OffsetDateTime) -> Result<bool> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("process_jobs"))
        .value(t("status"), "pending")
        .value(t("attempts"), 0)
        .value(t("due_at"), Expr::val(timestamp(backend, due_at)))
        .value(t("locked_by"), Option::<String>::None)
        .and_where(Expr::col(t("id")).eq(id))
        .and_where(Expr::col(t("status")).eq("incident"))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

/// Closes an incident job whose failure the process took over (its token is retried).
pub async fn resolve_incident_job(tx: &mut Tx, id: &str) -> Result<bool> {
    let update = Query::update()
        .table(t("process_jobs"))
        .value(t("status"), "done")
        .and_where(Expr::col(t("id")).eq(id))
        .and_where(Expr::col(t("status")).eq("incident"))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

// ── subscriptions and steps ────────────────────────────────────────────────────────────

pub async fn insert_subscription(
    tx: &mut Tx,
    id: &str,
    instance: Uuid,
    element: &str,
    message: &str,
    correlation: Option<&str>,
    at: OffsetDateTime,
) -> Result<bool> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("process_subscriptions"))
        .columns(["id", "instance_id", "element", "message", "correlation", "status", "created_at"].map(t))
        .values_panic([
            id.into(),
            Expr::val(uuid(instance)).into(),
            element.into(),
            message.into(),
            correlation.map(str::to_owned).into(),
            "open".into(),
            Expr::val(timestamp(backend, at)).into(),
        ])
        .on_conflict(OnConflict::column(t("id")).do_nothing().to_owned())
        .to_owned();
    Ok(tx.execute(&insert).await? > 0)
}

pub async fn close_subscription(tx: &mut Tx, id: &str) -> Result<bool> {
    let update = Query::update()
        .table(t("process_subscriptions"))
        .value(t("status"), "closed")
        .and_where(Expr::col(t("id")).eq(id))
        .and_where(Expr::col(t("status")).eq("open"))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

/// The instances with an open subscription to `message` (and `correlation`), oldest first.
pub async fn subscribers(db: &Database, message: &str, correlation: Option<&str>) -> Result<Vec<Uuid>> {
    let mut select = Query::select();
    select
        .column(t("instance_id"))
        .from(t("process_subscriptions"))
        .and_where(Expr::col(t("message")).eq(message))
        .and_where(Expr::col(t("status")).eq("open"))
        .order_by(t("created_at"), Order::Asc)
        .order_by(t("id"), Order::Asc);
    match correlation {
        Some(c) => select.and_where(Expr::col(t("correlation")).eq(c)),
        None => select.and_where(Expr::col(t("correlation")).is_null()),
    };
    db.fetch_all(&select).await?.iter().map(|r| r.get("instance_id")).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStep {
    pub instance_id: Uuid,
    pub ordinal: i64,
    pub process_key: String,
    pub version: i64,
    pub element: String,
    pub started_at: OffsetDateTime,
    pub ended_at: OffsetDateTime,
    pub outcome: String,
}

/// Records a finished step; the (instance, ordinal) key makes a replay write it once.
pub async fn insert_step(tx: &mut Tx, s: &StoredStep) -> Result<bool> {
    let insert = render_insert_step(tx.backend(), s);
    Ok(tx.execute_rendered(insert).await? > 0)
}

/// `insert_step`'s statement, rendered before the transaction.
pub fn render_insert_step(backend: Backend, s: &StoredStep) -> Rendered {
    let values = vec![
        uuid(s.instance_id),
        s.ordinal.into(),
        s.process_key.as_str().into(),
        s.version.into(),
        s.element.as_str().into(),
        timestamp(backend, s.started_at),
        timestamp(backend, s.ended_at),
        s.outcome.as_str().into(),
    ];
    shaped(backend, "process_steps.insert", values, |v| {
        Query::insert()
            .into_table(t("process_steps"))
            .columns(
                ["instance_id", "ordinal", "process_key", "version", "element", "started_at", "ended_at", "outcome"]
                    .map(t),
            )
            .values_panic(v.iter().cloned().map(Into::into))
            .on_conflict(OnConflict::columns([t("instance_id"), t("ordinal")]).do_nothing().to_owned())
            .to_owned()
    })
}

pub async fn steps_of_instance(db: &Database, instance: Uuid) -> Result<Vec<StoredStep>> {
    let select = Query::select()
        .columns(
            ["instance_id", "ordinal", "process_key", "version", "element", "started_at", "ended_at", "outcome"].map(t),
        )
        .from(t("process_steps"))
        .and_where(Expr::col(t("instance_id")).eq(uuid(instance)))
        .order_by(t("ordinal"), Order::Asc)
        .to_owned();
    db.lookup_all(&select)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredStep {
                instance_id: r.get("instance_id")?,
                ordinal: r.get("ordinal")?,
                process_key: r.get("process_key")?,
                version: r.get("version")?,
                element: r.get("element")?,
                started_at: r.get("started_at")?,
                ended_at: r.get("ended_at")?,
                outcome: r.get("outcome")?,
            })
        })
        .collect()
}

// ── history (what was done to an instance beyond its task rows) ─────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub instance_id: Uuid,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub task_id: Option<String>,
    pub element: Option<String>,
    /// JSON text.
    pub detail: String,
}

/// Appends one entry to an instance's history; call inside the step's transaction.
pub async fn insert_history(tx: &mut Tx, h: &HistoryEntry) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("process_history"))
        .columns(["instance_id", "at", "actor", "action", "task_id", "element", "detail"].map(t))
        .values_panic([
            Expr::val(uuid(h.instance_id)).into(),
            Expr::val(timestamp(backend, h.at)).into(),
            h.actor.as_str().into(),
            h.action.as_str().into(),
            h.task_id.clone().into(),
            h.element.clone().into(),
            h.detail.as_str().into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// The history of the given instances, oldest first.
pub async fn history_of(db: &Database, instances: &[Uuid]) -> Result<Vec<HistoryEntry>> {
    if instances.is_empty() {
        return Ok(Vec::new());
    }
    let select = Query::select()
        .columns(["instance_id", "at", "actor", "action", "task_id", "element", "detail"].map(t))
        .from(t("process_history"))
        .and_where(Expr::col(t("instance_id")).is_in(instances.iter().map(|i| uuid(*i))))
        .order_by(t("id"), Order::Asc)
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|r| {
            Ok(HistoryEntry {
                instance_id: r.get("instance_id")?,
                at: r.get("at")?,
                actor: r.get("actor")?,
                action: r.get("action")?,
                task_id: r.get("task_id")?,
                element: r.get("element")?,
                detail: r.get("detail")?,
            })
        })
        .collect()
}

// ── business calendars ─────────────────────────────────────────────────────────────────

/// Creates or replaces the calendar `name` (its `CalendarDef` JSON).
pub async fn put_calendar(tx: &mut Tx, name: &str, definition: &str, by: &str, at: OffsetDateTime) -> Result<()> {
    let backend = tx.backend();
    let upsert = Query::insert()
        .into_table(t("business_calendars"))
        .columns(["name", "definition", "updated_at", "updated_by"].map(t))
        .values_panic([name.into(), definition.into(), Expr::val(timestamp(backend, at)).into(), by.into()])
        .on_conflict(
            OnConflict::column(t("name"))
                .update_columns([t("definition"), t("updated_at"), t("updated_by")])
                .to_owned(),
        )
        .to_owned();
    tx.execute(&upsert).await?;
    Ok(())
}

/// Removes the calendar `name`; false when there was none.
pub async fn delete_calendar(tx: &mut Tx, name: &str) -> Result<bool> {
    let delete =
        Query::delete().from_table(t("business_calendars")).and_where(Expr::col(t("name")).eq(name)).to_owned();
    Ok(tx.execute(&delete).await? > 0)
}

/// Every calendar: (name, definition JSON).
pub async fn calendars(db: &Database) -> Result<Vec<(String, String)>> {
    let select = Query::select()
        .columns([t("name"), t("definition")])
        .from(t("business_calendars"))
        .order_by(t("name"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(|r| Ok((r.get("name")?, r.get("definition")?))).collect()
}

// ── early messages ─────────────────────────────────────────────────────────────────────

/// Buffers a message nothing subscribes to yet, until `expires_at`.
#[allow(clippy::too_many_arguments)]
pub async fn buffer_message(
    tx: &mut Tx,
    id: Uuid,
    message: &str,
    correlation: Option<&str>,
    payload: &str,
    at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<()> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("process_messages"))
        .columns(["id", "message", "correlation", "payload", "published_at", "expires_at"].map(t))
        .values_panic([
            Expr::val(uuid(id)).into(),
            message.into(),
            correlation.map(str::to_owned).into(),
            payload.into(),
            Expr::val(timestamp(backend, at)).into(),
            Expr::val(timestamp(backend, expires_at)).into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// The oldest buffered message for `message` / `correlation` still unconsumed at `now`:
/// (id, payload JSON).
pub async fn oldest_buffered(
    db: &Database,
    message: &str,
    correlation: Option<&str>,
    now: OffsetDateTime,
) -> Result<Option<(Uuid, String)>> {
    let backend = db.backend();
    let mut select = Query::select();
    select
        .columns([t("id"), t("payload")])
        .from(t("process_messages"))
        .and_where(Expr::col(t("message")).eq(message))
        .and_where(Expr::col(t("consumed_at")).is_null())
        .and_where(Expr::col(t("expires_at")).gt(timestamp(backend, now)))
        .order_by(t("published_at"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .limit(1);
    match correlation {
        Some(c) => select.and_where(Expr::col(t("correlation")).eq(c)),
        None => select.and_where(Expr::col(t("correlation")).is_null()),
    };
    db.fetch_optional(&select).await?.map(|r| Ok((r.get("id")?, r.get("payload")?))).transpose()
}

/// Marks a buffered message delivered; false when another delivery took it first.
pub async fn consume_message(tx: &mut Tx, id: Uuid, at: OffsetDateTime) -> Result<bool> {
    let update = Query::update()
        .table(t("process_messages"))
        .value(t("consumed_at"), Expr::val(timestamp(tx.backend(), at)))
        .and_where(Expr::col(t("id")).eq(uuid(id)))
        .and_where(Expr::col(t("consumed_at")).is_null())
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}

// ── metrics ────────────────────────────────────────────────────────────────────────────

/// Every finished step of process `key` (all versions): (element, started, ended, outcome).
pub async fn steps_of_process(
    db: &Database,
    key: &str,
) -> Result<Vec<(String, OffsetDateTime, OffsetDateTime, String)>> {
    let select = Query::select()
        .columns(["element", "started_at", "ended_at", "outcome"].map(t))
        .from(t("process_steps"))
        .and_where(Expr::col(t("process_key")).eq(key))
        .to_owned();
    db.fetch_all(&select)
        .await?
        .iter()
        .map(|r| Ok((r.get("element")?, r.get("started_at")?, r.get("ended_at")?, r.get("outcome")?)))
        .collect()
}

/// The active instances of `key`, oldest first.
pub async fn active_instances(db: &Database, key: &str) -> Result<Vec<StoredInstance>> {
    let select = Query::select()
        .columns(INSTANCE_COLUMNS.map(t))
        .from(t("process_instances"))
        .and_where(Expr::col(t("process_key")).eq(key))
        .and_where(Expr::col(t("status")).eq("active"))
        .order_by(t("started_at"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_instance).collect()
}

/// Open tasks of the instances of `key`.
pub async fn open_tasks_of_process(db: &Database, key: &str) -> Result<Vec<StoredTask>> {
    let instances = Query::select()
        .column(t("id"))
        .from(t("process_instances"))
        .and_where(Expr::col(t("process_key")).eq(key))
        .to_owned();
    let select = task_select()
        .and_where(Expr::col(t("status")).eq("open"))
        .and_where(Expr::col(t("instance_id")).in_subquery(instances))
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_task).collect()
}

// ── timer start events ─────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStartTimer {
    /// `<definition id>/<start event id>`
    pub id: String,
    pub definition_id: Uuid,
    pub process_key: String,
    pub element: String,
    pub spec: String,
    pub calendar: Option<String>,
    pub due_at: OffsetDateTime,
    pub fired: i64,
    /// `pending`, `done` or `cancelled`.
    pub status: String,
    pub last_error: Option<String>,
}

const START_TIMER_COLUMNS: [&str; 10] =
    ["id", "definition_id", "process_key", "element", "spec", "calendar", "due_at", "fired", "status", "last_error"];

fn decode_start_timer(row: &DbRow) -> Result<StoredStartTimer> {
    Ok(StoredStartTimer {
        id: row.get("id")?,
        definition_id: row.get("definition_id")?,
        process_key: row.get("process_key")?,
        element: row.get("element")?,
        spec: row.get("spec")?,
        calendar: row.get("calendar")?,
        due_at: row.get("due_at")?,
        fired: row.get("fired")?,
        status: row.get("status")?,
        last_error: row.get("last_error")?,
    })
}

/// Cancels the pending timer start events of every version of `key` (a new version is
/// deployed); returns how many.
pub async fn cancel_start_timers(tx: &mut Tx, key: &str) -> Result<u64> {
    let update = Query::update()
        .table(t("process_start_timers"))
        .value(t("status"), "cancelled")
        .and_where(Expr::col(t("process_key")).eq(key))
        .and_where(Expr::col(t("status")).eq("pending"))
        .to_owned();
    tx.execute(&update).await
}

pub async fn insert_start_timer(tx: &mut Tx, timer: &StoredStartTimer) -> Result<bool> {
    let backend = tx.backend();
    let insert = Query::insert()
        .into_table(t("process_start_timers"))
        .columns(START_TIMER_COLUMNS.map(t))
        .values_panic([
            timer.id.as_str().into(),
            Expr::val(uuid(timer.definition_id)).into(),
            timer.process_key.as_str().into(),
            timer.element.as_str().into(),
            timer.spec.as_str().into(),
            timer.calendar.clone().into(),
            Expr::val(timestamp(backend, timer.due_at)).into(),
            timer.fired.into(),
            timer.status.as_str().into(),
            timer.last_error.clone().into(),
        ])
        .on_conflict(OnConflict::column(t("id")).do_nothing().to_owned())
        .to_owned();
    Ok(tx.execute(&insert).await? > 0)
}

/// Pending timer start events due at `now`, oldest first.
pub async fn due_start_timers(db: &Database, now: OffsetDateTime, limit: u64) -> Result<Vec<StoredStartTimer>> {
    let select = Query::select()
        .columns(START_TIMER_COLUMNS.map(t))
        .from(t("process_start_timers"))
        .and_where(Expr::col(t("status")).eq("pending"))
        .and_where(Expr::col(t("due_at")).lte(timestamp(db.backend(), now)))
        .order_by(t("due_at"), Order::Asc)
        .order_by(t("id"), Order::Asc)
        .limit(limit)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_start_timer).collect()
}

/// The timer start events of `key` (every version), by id.
pub async fn start_timers_of(db: &Database, key: &str) -> Result<Vec<StoredStartTimer>> {
    let select = Query::select()
        .columns(START_TIMER_COLUMNS.map(t))
        .from(t("process_start_timers"))
        .and_where(Expr::col(t("process_key")).eq(key))
        .order_by(t("id"), Order::Asc)
        .to_owned();
    db.fetch_all(&select).await?.iter().map(decode_start_timer).collect()
}

/// Moves a timer start event past occurrence `fired` (it fired): to `next`, or done when
/// there is none. False when another worker moved it first.
pub async fn advance_start_timer(
    tx: &mut Tx,
    id: &str,
    fired: i64,
    next: Option<OffsetDateTime>,
    error: Option<&str>,
) -> Result<bool> {
    let backend = tx.backend();
    let mut update = Query::update();
    update
        .table(t("process_start_timers"))
        .value(t("fired"), fired + 1)
        .value(t("last_error"), error.map(str::to_owned))
        .and_where(Expr::col(t("id")).eq(id))
        .and_where(Expr::col(t("fired")).eq(fired))
        .and_where(Expr::col(t("status")).eq("pending"));
    match next {
        Some(at) => update.value(t("due_at"), Expr::val(timestamp(backend, at))),
        None => update.value(t("status"), "done"),
    };
    Ok(tx.execute(&update).await? > 0)
}

/// Puts a failed occurrence off until `due_at`, keeping the error for admins.
pub async fn delay_start_timer(tx: &mut Tx, id: &str, due_at: OffsetDateTime, error: &str) -> Result<bool> {
    let backend = tx.backend();
    let update = Query::update()
        .table(t("process_start_timers"))
        .value(t("due_at"), Expr::val(timestamp(backend, due_at)))
        .value(t("last_error"), error)
        .and_where(Expr::col(t("id")).eq(id))
        .and_where(Expr::col(t("status")).eq("pending"))
        .to_owned();
    Ok(tx.execute(&update).await? > 0)
}
