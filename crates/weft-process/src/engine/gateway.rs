//! Gateways: choosing (exclusive, inclusive), forking and joining (parallel, inclusive),
//! and waiting for the first of several events (event-based).

use super::run::Run;
use super::state::TokenState;
use crate::model::{CatchTrigger, Element, ElementKind};

impl Run<'_> {
    /// The first outgoing flow, in document order, whose condition holds; else the default.
    pub(crate) fn exclusive(&mut self, t: u32, e: &Element, default: Option<usize>) {
        let scope = self.token_scope(t);
        for &f in &e.outgoing {
            if Some(f) == default {
                continue;
            }
            let Some(flow) = self.flow(f) else { continue };
            let Some(condition) = flow.condition else {
                self.take(t, &[f]);
                return;
            };
            match self.test(condition, scope) {
                Ok(true) => {
                    self.take(t, &[f]);
                    return;
                }
                Ok(false) => {}
                Err(message) => {
                    self.incident(t, format!("the condition of flow `{}`: {message}", flow.id), None);
                    return;
                }
            }
        }
        match default {
            Some(d) => self.take(t, &[d]),
            None => self.incident(t, format!("no condition out of `{}` holds and it has no default flow", e.id), None),
        }
    }

    /// Every outgoing flow whose condition holds; the default only when none does.
    pub(crate) fn inclusive(&mut self, t: u32, e: &Element, default: Option<usize>) {
        let scope = self.token_scope(t);
        let mut chosen = Vec::with_capacity(e.outgoing.len());
        for &f in &e.outgoing {
            if Some(f) == default {
                continue;
            }
            let Some(flow) = self.flow(f) else { continue };
            let holds = match flow.condition {
                None => Ok(true),
                Some(condition) => self.test(condition, scope),
            };
            match holds {
                Ok(true) => chosen.push(f),
                Ok(false) => {}
                Err(message) => {
                    self.incident(t, format!("the condition of flow `{}`: {message}", flow.id), None);
                    return;
                }
            }
        }
        if chosen.is_empty() {
            match default {
                Some(d) => chosen.push(d),
                None => {
                    self.incident(t, format!("no condition out of `{}` holds and it has no default flow", e.id), None);
                    return;
                }
            }
        }
        self.take(t, &chosen);
    }

    fn flow_id(&self, via: Option<usize>) -> String {
        via.and_then(|f| self.flow(f)).map(|f| f.id.clone()).unwrap_or_default()
    }

    /// A token arrives at an inclusive join; whether the join fires is decided once the
    /// step's tokens have settled (`fire_inclusive_join`).
    pub(crate) fn join_wait(&mut self, t: u32, via: Option<usize>) {
        let via = self.flow_id(via);
        if let Some(tok) = self.token_mut(t) {
            tok.state = TokenState::Joining { via };
        }
    }

    /// A parallel join fires when a token waits on every incoming flow; one token per flow
    /// is used, and the oldest goes on.
    pub(crate) fn parallel_join(&mut self, t: u32, e: &Element, via: Option<usize>) {
        self.join_wait(t, via);
        let scope = self.token_scope(t);
        let mut picked: Vec<u32> = Vec::with_capacity(e.incoming.len());
        for &f in &e.incoming {
            let Some(flow) = self.flow(f) else { return };
            let arrived = self.inst.tokens.iter().find(|x| {
                x.scope == scope
                    && x.element == e.id
                    && matches!(&x.state, TokenState::Joining { via } if *via == flow.id)
                    && !picked.contains(&x.id)
            });
            match arrived {
                Some(x) => picked.push(x.id),
                None => return,
            }
        }
        let Some((&keep, rest)) = picked.split_first() else { return };
        self.inst.tokens.retain(|x| !rest.contains(&x.id));
        if let Some(tok) = self.token_mut(keep) {
            tok.state = TokenState::Waiting;
        }
        self.take(keep, &e.outgoing);
    }

    /// Fires one inclusive join that no other token of its scope can still reach, if any;
    /// the caller repeats until none fires.
    pub(crate) fn fire_inclusive_join(&mut self) -> bool {
        let mut found = None;
        for tok in &self.inst.tokens {
            if !matches!(tok.state, TokenState::Joining { .. }) {
                continue;
            }
            let Some((g, e)) = self.element(&tok.element) else { continue };
            if !matches!(e.kind, ElementKind::InclusiveGateway { .. }) {
                continue;
            }
            if !self.join_blocked(g, &e.id, tok.scope) {
                found = Some((e, tok.scope));
                break;
            }
        }
        let Some((e, scope)) = found else { return false };
        let joined: Vec<u32> = self
            .inst
            .tokens
            .iter()
            .filter(|x| x.scope == scope && x.element == e.id && matches!(x.state, TokenState::Joining { .. }))
            .map(|x| x.id)
            .collect();
        let Some((&keep, rest)) = joined.split_first() else { return false };
        self.inst.tokens.retain(|x| !rest.contains(&x.id));
        if let Some(tok) = self.token_mut(keep) {
            tok.state = TokenState::Waiting;
        }
        let default = match e.kind {
            ElementKind::InclusiveGateway { default } => default,
            _ => None,
        };
        self.inclusive(keep, e, default);
        true
    }

    /// Whether some token of `scope`, elsewhere than waiting at the join, has a path to it.
    fn join_blocked(&self, join: usize, join_id: &str, scope: u32) -> bool {
        let Some(reach) = self.plan.reaches.get(&join) else { return false };
        self.inst.tokens.iter().any(|x| {
            x.scope == scope
                && !(x.element == join_id && matches!(x.state, TokenState::Joining { .. }))
                && self.element(&x.element).is_some_and(|(i, _)| reach.get(i).copied().unwrap_or(false))
        })
    }

    /// Waits for the first of the events after the gateway; the gateway's token holds every
    /// wait, and the first to fire cancels the rest.
    pub(crate) fn event_gateway(&mut self, t: u32, e: &Element) {
        for &f in &e.outgoing {
            let Some(target) = self.flow(f).and_then(|f| f.target).and_then(|i| self.element_at(i)) else { continue };
            let ok = match &target.kind {
                ElementKind::IntermediateCatch(CatchTrigger::Timer(timer)) => self.schedule(t, target, timer),
                ElementKind::IntermediateCatch(CatchTrigger::Message(m)) | ElementKind::ReceiveTask(m) => {
                    self.subscribe(t, target, m)
                }
                _ => {
                    self.incident(t, format!("`{}` after the event-based gateway is no catch event", target.id), None);
                    false
                }
            };
            if !ok {
                self.drop_waits(t);
                return;
            }
        }
    }
}
