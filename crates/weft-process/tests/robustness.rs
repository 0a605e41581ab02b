//! Whatever happens to an instance, in whatever order, the engine neither panics nor loses
//! track: refused events leave the state alone (the driver checks), the state survives
//! JSON, waits belong to live tokens, ended instances hold nothing open, and the same
//! events always give the same result.

mod common;

use common::{Driver, vars};
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use weft_process::{Event, Instance, Status, WaitId, WaitKind};

const FIXTURES: &[(&str, &str)] = &[
    ("three_tier.bpmn", "po_approval"),
    ("countersign_all.bpmn", "countersign_all"),
    ("countersign_two_of_three.bpmn", "countersign_two_of_three"),
    ("review_in_turn.bpmn", "review_in_turn"),
    ("reminders.bpmn", "sla_approval"),
    ("return_withdraw.bpmn", "leave_request"),
    ("call_activity.bpmn", "onboard_supplier"),
    ("inclusive.bpmn", "contract_review"),
    ("parallel.bpmn", "new_hire"),
    ("event_gateway.bpmn", "quote_request"),
    ("errors.bpmn", "order_fulfilment"),
    ("terminate.bpmn", "tender"),
    ("batch.bpmn", "batch_check"),
];

fn start_vars(flags: u8) -> Json {
    let amount = [5, 50_000, 500_000][usize::from(flags % 3)];
    json!({
        "amount": amount,
        "approvers": ["ann", "bob", "cy"],
        "approver": "ann",
        "needs_legal": flags & 4 != 0,
        "in_stock": flags & 8 != 0,
        "rfq_number": "RFQ-1",
        "supplier_name": "Acme",
        "items": ["x", "y"],
    })
}

#[derive(Debug, Clone)]
enum Action {
    /// Answer the n-th open wait (modulo their number).
    Answer {
        pick: usize,
        approved: bool,
        flag: bool,
    },
    Fail {
        pick: usize,
        code: Option<&'static str>,
    },
    Message {
        correlation: Option<&'static str>,
    },
    ReturnTo {
        pick: usize,
    },
    Retry {
        pick: usize,
    },
    Stale {
        seq: u32,
    },
    SetVariables {
        approved: bool,
    },
    Cancel,
    Withdraw,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => (any::<usize>(), any::<bool>(), any::<bool>()).prop_map(|(pick, approved, flag)| Action::Answer { pick, approved, flag }),
        2 => (any::<usize>(), prop::sample::select(vec![
                None,
                Some("card_declined"),
                Some("out_of_stock"),
                Some("blacklisted"),
                Some("bad_line"),
                Some("junk"),
            ]))
            .prop_map(|(pick, code)| Action::Fail { pick, code }),
        1 => prop::sample::select(vec![None, Some("RFQ-1"), Some("RFQ-2")]).prop_map(|correlation| Action::Message { correlation }),
        1 => any::<usize>().prop_map(|pick| Action::ReturnTo { pick }),
        1 => any::<usize>().prop_map(|pick| Action::Retry { pick }),
        1 => (0u32..64).prop_map(|seq| Action::Stale { seq }),
        1 => any::<bool>().prop_map(|approved| Action::SetVariables { approved }),
        1 => Just(Action::Cancel),
        1 => Just(Action::Withdraw),
    ]
}

fn event_for(d: &Driver<'_>, action: &Action) -> Event {
    let open: Vec<(WaitId, &weft_process::Wait)> = d.instance.open_waits().collect();
    let process = d.deployment.definitions().process(&d.instance.process).expect("process");
    match action {
        Action::Answer { pick, approved, flag } if !open.is_empty() => {
            let (id, wait) = open[pick % open.len()];
            let outputs = vars(json!({ "approved": approved, "in_stock": flag, "blacklisted": !flag, "score": 40 }));
            match &wait.kind {
                WaitKind::UserTask => Event::TaskCompleted { task: id, outputs },
                WaitKind::Job => Event::JobCompleted { job: id, outputs },
                WaitKind::Timer { .. } => Event::TimerFired { timer: id },
                WaitKind::Child => Event::ChildCompleted { child: id, outputs },
                WaitKind::Message { name, correlation } => {
                    Event::MessageReceived { name: name.clone(), correlation: correlation.clone(), payload: outputs }
                }
            }
        }
        Action::Fail { pick, code } if !open.is_empty() => {
            let (id, wait) = open[pick % open.len()];
            let error_code = code.map(str::to_owned);
            match wait.kind {
                WaitKind::Child => Event::ChildFailed { child: id, error_code, message: "failed".into() },
                _ => Event::JobFailed { job: id, error_code, message: "failed".into() },
            }
        }
        Action::Message { correlation } => Event::MessageReceived {
            name: "quote".into(),
            correlation: correlation.map(str::to_owned),
            payload: vars(json!({ "price": 3 })),
        },
        Action::ReturnTo { pick } => {
            let element =
                process.elements.get(pick % (process.elements.len() + 1)).map_or("nowhere", |e| e.id.as_str());
            Event::ReturnTo { element: element.to_owned() }
        }
        Action::Retry { pick } => {
            let incidents: Vec<WaitId> = d.instance.incidents().map(|(id, _, _)| id).collect();
            let incident = incidents
                .get(pick % (incidents.len() + 1))
                .copied()
                .unwrap_or(WaitId { instance: d.instance.id, seq: 999 });
            Event::RetryIncident { incident }
        }
        Action::Stale { seq } => Event::TimerFired { timer: WaitId { instance: d.instance.id, seq: *seq } },
        Action::SetVariables { approved } => Event::SetVariables { variables: vars(json!({ "approved": approved })) },
        Action::Cancel => Event::Cancel,
        Action::Withdraw => Event::Withdraw,
        Action::Answer { .. } | Action::Fail { .. } => Event::SetVariables { variables: Default::default() },
    }
}

fn check_invariants(instance: &Instance) {
    for w in &instance.waits {
        assert!(instance.tokens.iter().any(|t| t.id == w.token), "wait {} has no token: {instance:#?}", w.id);
    }
    for t in &instance.tokens {
        assert!(instance.scopes.iter().any(|s| s.id == t.scope), "token {} has no scope: {instance:#?}", t.id);
        assert_ne!(t.state, weft_process::TokenState::Moving, "a token was left moving: {instance:#?}");
    }
    if instance.status != Status::Active {
        assert!(
            instance.tokens.is_empty() && instance.waits.is_empty(),
            "an ended instance holds things: {instance:#?}"
        );
    }
}

fn run(fixture: usize, flags: u8, actions: &[Action]) -> (Instance, Vec<weft_process::Effect>) {
    let (file, process) = FIXTURES[fixture % FIXTURES.len()];
    let mut d = Driver::start(file, process, start_vars(flags));
    check_invariants(&d.instance);
    for action in actions {
        if d.status() != Status::Active {
            break;
        }
        let event = event_for(&d, action);
        let _ = d.try_apply(event);
        check_invariants(&d.instance);
        d.now += time::Duration::minutes(7);
    }
    (d.instance, d.log)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_sequence_of_events_keeps_the_instance_consistent_and_is_deterministic(
        fixture in 0usize..FIXTURES.len(),
        flags in any::<u8>(),
        actions in prop::collection::vec(action(), 0..40),
    ) {
        let first = run(fixture, flags, &actions);
        let second = run(fixture, flags, &actions);
        prop_assert_eq!(first, second);
    }

    #[test]
    fn any_text_is_parsed_without_panicking(text in ".{0,400}") {
        let _ = weft_process::parse(&text);
    }

    #[test]
    fn cut_fixtures_are_refused_or_deployed_without_panicking(
        fixture in 0usize..FIXTURES.len(),
        start in any::<prop::sample::Index>(),
        len in 0usize..200,
    ) {
        let xml = common::fixture(FIXTURES[fixture].0);
        let from = start.index(xml.len());
        let to = (from + len).min(xml.len());
        if xml.is_char_boundary(from) && xml.is_char_boundary(to) {
            let cut = format!("{}{}", &xml[..from], &xml[to..]);
            let _ = weft_process::deploy(&cut, &weft_process::Environment::new(common::schema()));
        }
    }

    #[test]
    fn a_tampered_state_gives_errors_or_incidents_not_panics(
        fixture in 0usize..FIXTURES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u32..8, prop::sample::select(vec!["start", "nowhere", "approve", "countersign", "join"])), 1..6),
        actions in prop::collection::vec(action(), 1..10),
    ) {
        let (file, process) = FIXTURES[fixture % FIXTURES.len()];
        let mut d = Driver::start(file, process, start_vars(5));
        for (index, number, name) in edits {
            let instance = &mut d.instance;
            match number % 4 {
                0 if !instance.tokens.is_empty() => {
                    let i = index.index(instance.tokens.len());
                    instance.tokens[i].element = name.to_owned();
                }
                1 if !instance.tokens.is_empty() => {
                    let i = index.index(instance.tokens.len());
                    instance.tokens[i].scope = number;
                }
                2 if !instance.scopes.is_empty() => {
                    let i = index.index(instance.scopes.len());
                    instance.scopes[i].parent = Some(number);
                    instance.scopes[i].token = Some(number);
                }
                _ if !instance.waits.is_empty() => {
                    let i = index.index(instance.waits.len());
                    instance.waits[i].token = number;
                }
                _ => {}
            }
        }
        for action in &actions {
            if d.status() != Status::Active {
                break;
            }
            let event = event_for(&d, action);
            let _ = d.try_apply(event);
        }
    }
}
