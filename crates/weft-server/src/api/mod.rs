//! The business API under `/api/v1`: object types, records, decisions, processes, tasks,
//! saved list views, collaboration (threads, channels, inbox, live) and delivery outward (e-mail settings, IM
//! robots, dead letters). Handlers translate HTTP into façade calls and façade errors into
//! problems; they hold no business rules.

pub mod actor;
pub mod auth;
pub mod collab;
pub mod decisions;
pub mod delegations;
pub mod delivery;
pub mod errors;
pub mod events;
pub mod live;
pub mod me;
pub mod org;
pub mod principals;
pub mod processes;
pub mod procurement;
pub mod public;
pub mod records;
pub mod roles;
pub mod rules;
pub mod search;
pub mod tasks;
pub mod types;
pub mod views;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(types::list_types, types::declare_type))
        .routes(routes!(types::get_type, types::alter_type))
        .routes(routes!(views::list_views, views::create_view))
        .routes(routes!(views::update_view, views::delete_view))
        .routes(routes!(records::list_records, records::create_record))
        .routes(routes!(records::bulk_create))
        .routes(routes!(records::bulk_action))
        .routes(routes!(records::aggregate_records))
        .routes(routes!(records::get_record, records::update_record, records::delete_record))
        .routes(routes!(records::restore_record))
        .routes(routes!(records::transition_record))
        .routes(routes!(records::record_timeline))
        .routes(routes!(records::export_records))
        .routes(routes!(records::list_shares, records::share_record))
        .routes(routes!(records::unshare_record))
        .routes(routes!(roles::list_roles))
        .routes(routes!(roles::get_role, roles::put_role, roles::delete_role))
        .routes(routes!(rules::list_rules))
        .routes(routes!(rules::put_rule, rules::delete_rule))
        .routes(routes!(auth::login))
        .routes(routes!(auth::login_totp))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::session))
        .routes(routes!(auth::accept_invitation))
        .routes(routes!(public::apply_as_supplier))
        .routes(routes!(me::me))
        .routes(routes!(me::change_password))
        .routes(routes!(me::enrol_totp))
        .routes(routes!(me::confirm_totp))
        .routes(routes!(me::disable_totp))
        .routes(routes!(me::list_sessions))
        .routes(routes!(me::revoke_session))
        .routes(routes!(me::list_tokens, me::create_token))
        .routes(routes!(me::revoke_token))
        .routes(routes!(principals::list_principals, principals::create_principal))
        .routes(routes!(principals::get_principal, principals::update_principal))
        .routes(routes!(principals::set_roles))
        .routes(routes!(principals::disable_principal))
        .routes(routes!(principals::enable_principal))
        .routes(routes!(principals::reset_password))
        .routes(routes!(principals::revoke_sessions))
        .routes(routes!(principals::list_tokens, principals::create_token))
        .routes(routes!(principals::revoke_token))
        .routes(routes!(principals::invite))
        .routes(routes!(org::create_unit))
        .routes(routes!(org::rename_unit))
        .routes(routes!(org::move_unit))
        .routes(routes!(org::set_manager))
        .routes(routes!(org::archive_unit))
        .routes(routes!(org::restore_unit))
        .routes(routes!(org::add_member))
        .routes(routes!(org::remove_member))
        .routes(routes!(org::set_primary_unit))
        .routes(routes!(org::transfer_member))
        .routes(routes!(org::tree))
        .routes(routes!(org::unit))
        .routes(routes!(org::principal_units))
        .routes(routes!(org::unit_manager))
        .routes(routes!(org::manager_chain))
        .routes(routes!(org::head_of_unit))
        .routes(routes!(delegations::mine, delegations::create))
        .routes(routes!(delegations::revoke))
        .routes(routes!(delegations::all))
        .routes(routes!(delegations::delegates))
        .routes(routes!(events::consumers))
        .routes(routes!(procurement::supplier_scorecard))
        .routes(routes!(procurement::order_from_requisition))
        .routes(routes!(decisions::deploy, decisions::list))
        .routes(routes!(decisions::versions))
        .routes(routes!(decisions::version))
        .routes(routes!(decisions::evaluate))
        .routes(routes!(collab::record_thread, collab::post_on_record))
        .routes(routes!(collab::followers))
        .routes(routes!(collab::follow, collab::unfollow))
        .routes(routes!(collab::get_message, collab::edit_message, collab::delete_message))
        .routes(routes!(collab::message_revisions))
        .routes(routes!(collab::add_reaction, collab::remove_reaction))
        .routes(routes!(collab::list_channels, collab::create_channel))
        .routes(routes!(collab::get_channel))
        .routes(routes!(collab::channel_messages, collab::post_in_channel))
        .routes(routes!(collab::add_member))
        .routes(routes!(collab::remove_member))
        .routes(routes!(collab::inbox))
        .routes(routes!(collab::inbox_counts))
        .routes(routes!(collab::mark_inbox))
        .routes(routes!(collab::record_attachments, collab::upload_attachment))
        .routes(routes!(collab::get_attachment, collab::delete_attachment))
        .routes(routes!(collab::attachment_content))
        .routes(routes!(search::search))
        .routes(routes!(collab::attachment_thumbnail))
        .routes(routes!(live::live))
        .routes(routes!(delivery::my_settings, delivery::put_my_settings))
        .routes(routes!(delivery::list_robots, delivery::create_robot))
        .routes(routes!(delivery::get_robot, delivery::update_robot, delivery::delete_robot))
        .routes(routes!(delivery::all_channels))
        .routes(routes!(delivery::list_dead_letters))
        .routes(routes!(delivery::replay_dead_letter))
        .routes(routes!(processes::deploy_process, processes::list_processes))
        .routes(routes!(processes::process_versions))
        .routes(routes!(processes::process_version))
        .routes(routes!(processes::start_instance))
        .routes(routes!(processes::process_metrics))
        .routes(routes!(processes::my_instances))
        .routes(routes!(processes::get_instance))
        .routes(routes!(processes::withdraw_instance))
        .routes(routes!(processes::cancel_instance))
        .routes(routes!(processes::migrate_instance))
        .routes(routes!(processes::migrate_version))
        .routes(routes!(processes::record_processes))
        .routes(routes!(processes::publish_message))
        .routes(routes!(processes::list_incidents))
        .routes(routes!(processes::retry_incident))
        .routes(routes!(processes::list_calendars))
        .routes(routes!(processes::get_calendar, processes::put_calendar, processes::delete_calendar))
        .routes(routes!(tasks::my_tasks))
        .routes(routes!(tasks::get_task))
        .routes(routes!(tasks::claim_task))
        .routes(routes!(tasks::complete_task))
        .routes(routes!(tasks::approve_task))
        .routes(routes!(tasks::reject_task))
        .routes(routes!(tasks::transfer_task))
        .routes(routes!(tasks::delegate_task))
        .routes(routes!(tasks::return_task))
        .routes(routes!(tasks::add_approver))
}
