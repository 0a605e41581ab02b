//! The fast path: decision tables whose cells are plain literals, comparisons, ranges and
//! lists over input data and other such tables, evaluated without the general engine.
//! It mirrors the engine's semantics exactly (a cell matches when its test is `true`; hit
//! policies, default outputs, allowed values and result coercion as the engine does them);
//! the TCK and a differential test check that both paths agree.

use crate::dmn::{Aggregation, Document, HitPolicy, ItemDef, Logic, Table};
use crate::value::{BuiltinType, Value};
use dsntk_feel::values::Value as FeelValue;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// How a result (or an input) is coerced to its declared type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ty {
    Builtin(BuiltinType),
    ListOf(BuiltinType),
}

impl Ty {
    /// The engine's `coerced`: conforming values pass, a singleton list unwraps, a single
    /// value wraps into a list type, everything else is null.
    pub(crate) fn coerce(&self, value: Value) -> Value {
        match self {
            Ty::Builtin(t) => {
                if t.accepts(&value) {
                    return value;
                }
                if let Value::List(items) = &value
                    && items.len() == 1
                    && t.accepts(&items[0])
                {
                    return items[0].clone();
                }
                Value::Null
            }
            Ty::ListOf(t) => match value {
                Value::Null => Value::Null,
                Value::List(items) => {
                    if items.iter().all(|i| t.accepts(i)) {
                        Value::List(items)
                    } else {
                        Value::Null
                    }
                }
                v if t.accepts(&v) => Value::List(vec![v]),
                _ => Value::Null,
            },
        }
    }
}

/// Resolves a `typeRef` to a type the fast path handles, if it is one.
pub(crate) fn resolve_type(type_ref: Option<&str>, items: &BTreeMap<String, ItemDef>) -> Option<Ty> {
    let Some(t) = type_ref else { return Some(Ty::Builtin(BuiltinType::Any)) };
    if let Some(b) = BuiltinType::from_type_ref(t) {
        return Some(Ty::Builtin(b));
    }
    let item = items.get(t.trim())?;
    if !item.components.is_empty() {
        return None;
    }
    let inner = BuiltinType::from_type_ref(item.type_ref.as_deref()?)?;
    Some(if item.is_collection { Ty::ListOf(inner) } else { Ty::Builtin(inner) })
}

#[derive(Clone, Debug)]
enum Test {
    Any,
    Eq(Value),
    Cmp(Ordering, bool, Value), // (direction, or-equal, literal): `< 5` is (Less, false, 5)
    Range { lo: Value, lo_closed: bool, hi: Value, hi_closed: bool },
}

/// A cell: a list of tests (matches when one is true) or its negation.
#[derive(Clone, Debug)]
struct Cell {
    negated: bool,
    tests: Vec<Test>,
}

impl Cell {
    fn matches(&self, v: &Value) -> bool {
        let any = self.tests.iter().any(|t| t.is_true(v));
        if self.negated { !any } else { any }
    }
}

/// FEEL's ternary equality for the simple types the fast path handles.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        _ => false,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Test {
    fn is_true(&self, v: &Value) -> bool {
        match self {
            Test::Any => true,
            Test::Eq(lit) => equal(v, lit),
            Test::Cmp(dir, or_eq, lit) => match compare(v, lit) {
                Some(o) => o == *dir || (*or_eq && o == Ordering::Equal),
                None => false,
            },
            Test::Range { lo, lo_closed, hi, hi_closed } => {
                let (Value::Number(x), Value::Number(l), Value::Number(h)) = (v, lo, hi) else { return false };
                let lo_ok = if *lo_closed { x >= l } else { x > l };
                let hi_ok = if *hi_closed { x <= h } else { x < h };
                lo_ok && hi_ok
            }
        }
    }
}

/// Splits at commas outside strings and brackets.
fn split_top(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut in_string, mut start) = (vec![], 0i32, false, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '(' | '[' if !in_string => depth += 1,
            ')' | ']' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A literal: number, string without escapes, boolean or null.
fn literal(text: &str) -> Option<Value> {
    let t = text.trim();
    match t {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        "null" => return Some(Value::Null),
        _ => {}
    }
    if let Some(inner) = t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        if inner.contains('"') || inner.contains('\\') {
            return None;
        }
        return Some(Value::String(inner.to_string()));
    }
    // FEEL number literals: digits with an optional fraction, optionally negated
    let body = t.strip_prefix('-').unwrap_or(t).trim_start();
    let valid = !body.is_empty()
        && body.chars().all(|c| c.is_ascii_digit() || c == '.')
        && body.chars().filter(|c| *c == '.').count() <= 1
        && body.chars().any(|c| c.is_ascii_digit());
    if !valid {
        return None;
    }
    let normal = if t.starts_with('-') { format!("-{body}") } else { body.to_string() };
    Value::number(&normal)
}

fn test(text: &str) -> Option<Test> {
    let t = text.trim();
    for (op, dir, or_eq) in [
        ("<=", Ordering::Less, true),
        (">=", Ordering::Greater, true),
        ("<", Ordering::Less, false),
        (">", Ordering::Greater, false),
    ] {
        if let Some(rest) = t.strip_prefix(op) {
            let lit = literal(rest)?;
            if !matches!(lit, Value::Number(_) | Value::String(_)) {
                return None;
            }
            return Some(Test::Cmp(dir, or_eq, lit));
        }
    }
    let first = t.chars().next()?;
    let last = t.chars().last()?;
    if matches!(first, '[' | '(' | ']') && matches!(last, ']' | ')' | '[') && t.contains("..") {
        let inner = &t[1..t.len() - 1];
        let (a, b) = inner.split_once("..")?;
        let (lo, hi) = (literal(a)?, literal(b)?);
        if !matches!((&lo, &hi), (Value::Number(_), Value::Number(_))) {
            return None;
        }
        return Some(Test::Range { lo, lo_closed: first == '[', hi, hi_closed: last == ']' });
    }
    literal(t).map(Test::Eq)
}

fn cell(text: &str) -> Option<Cell> {
    let t = text.trim();
    if t.is_empty() || t == "-" {
        return Some(Cell { negated: false, tests: vec![Test::Any] });
    }
    if let Some(inner) =
        t.strip_prefix("not").map(str::trim_start).and_then(|s| s.strip_prefix('(')).and_then(|s| s.strip_suffix(')'))
    {
        let tests = split_top(inner).into_iter().map(test).collect::<Option<Vec<_>>>()?;
        if tests.iter().any(|t| matches!(t, Test::Any)) {
            return None;
        }
        return Some(Cell { negated: true, tests });
    }
    let tests = split_top(t).into_iter().map(test).collect::<Option<Vec<_>>>()?;
    Some(Cell { negated: false, tests })
}

#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// Input data: its name and declared type.
    Input(String, Ty),
    /// Another decision of the fast path, by index into the document's decisions.
    Decision(usize),
}

#[derive(Clone, Debug)]
pub(crate) struct NativeTable {
    pub decision: usize,
    pub sources: Vec<Source>,
    /// For each required decision: (its name, its index), so inputs may override it.
    pub required: Vec<(String, usize)>,
    allowed: Vec<Option<Cell>>,
    rules: Vec<(Vec<Cell>, Vec<Value>)>,
    hit_policy: HitPolicy,
    component_names: Vec<String>,
    output_allowed: Vec<Option<Cell>>,
    /// All outputs' allowed values, flattened, for PRIORITY and OUTPUT ORDER.
    priority_values: Vec<Value>,
    defaults: Vec<Value>,
    result_type: Ty,
}

/// Compiles every decision the fast path can take; the rest stay with the engine.
pub(crate) fn compile(doc: &Document) -> Vec<Option<NativeTable>> {
    let mut plans: Vec<Option<NativeTable>> = vec![None; doc.decisions.len()];
    let by_id: HashMap<&str, usize> = doc.decisions.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
    // repeat until no change, so tables over tables compile once their requirements have
    for _ in 0..doc.decisions.len().min(64) + 1 {
        let mut changed = false;
        for i in 0..doc.decisions.len() {
            if plans[i].is_none()
                && let Some(plan) = compile_one(doc, i, &by_id, &plans)
            {
                plans[i] = Some(plan);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    plans
}

fn compile_one(
    doc: &Document,
    index: usize,
    by_id: &HashMap<&str, usize>,
    plans: &[Option<NativeTable>],
) -> Option<NativeTable> {
    let d = &doc.decisions[index];
    let Logic::Table(table) = &d.logic else { return None };
    if !d.required_knowledge.is_empty() {
        return None;
    }
    let mut names: HashMap<&str, Source> = HashMap::new();
    let mut required = vec![];
    for r in &d.required_decisions {
        let j = *by_id.get(r.strip_prefix('#')?)?;
        plans[j].as_ref()?;
        names.insert(doc.decisions[j].name.as_str(), Source::Decision(j));
        required.push((doc.decisions[j].name.clone(), j));
    }
    for r in &d.required_inputs {
        let id = r.strip_prefix('#')?;
        let input = doc.input_data.iter().find(|x| x.id == id)?;
        let ty = resolve_type(input.type_ref.as_deref(), &doc.item_definitions)?;
        names.insert(input.name.as_str(), Source::Input(input.name.clone(), ty));
    }
    let result_type = resolve_type(d.type_ref.as_deref(), &doc.item_definitions)?;
    compile_table(table, index, &names, required, result_type)
}

fn compile_table(
    table: &Table,
    decision: usize,
    names: &HashMap<&str, Source>,
    required: Vec<(String, usize)>,
    result_type: Ty,
) -> Option<NativeTable> {
    let mut sources = vec![];
    let mut allowed = vec![];
    for input in &table.inputs {
        sources.push(names.get(input.expression.trim())?.clone());
        allowed.push(match &input.allowed_values {
            Some(t) => Some(cell(t)?),
            None => None,
        });
    }
    let mut output_allowed = vec![];
    let mut priority_values = vec![];
    let mut defaults = vec![];
    let mut component_names = vec![];
    for output in &table.outputs {
        match &output.allowed_values {
            Some(t) => {
                let c = cell(t)?;
                if c.negated {
                    return None;
                }
                for test in &c.tests {
                    match test {
                        Test::Eq(v) => priority_values.push(v.clone()),
                        _ => return None,
                    }
                }
                output_allowed.push(Some(c));
            }
            None => output_allowed.push(None),
        }
        if let Some(t) = &output.default {
            defaults.push(literal(t)?);
        }
        if let Some(n) = &output.name {
            component_names.push(n.trim().to_string());
        }
        if let Some(t) = &output.type_ref {
            // the engine ignores output clause types; the fast path only takes plain ones
            BuiltinType::from_type_ref(t)?;
        }
    }
    if table.outputs.len() > 1 && component_names.len() != table.outputs.len() {
        return None;
    }
    let mut rules = vec![];
    for rule in &table.rules {
        let cells = rule.inputs.iter().map(|t| cell(t)).collect::<Option<Vec<_>>>()?;
        let outs = rule.outputs.iter().map(|t| literal(t)).collect::<Option<Vec<_>>>()?;
        rules.push((cells, outs));
    }
    Some(NativeTable {
        decision,
        sources,
        required,
        allowed,
        rules,
        hit_policy: table.hit_policy.clone(),
        component_names,
        output_allowed,
        priority_values,
        defaults,
        result_type,
    })
}

/// Explanation of one table evaluation: which rules matched (0-based, in rule order).
pub(crate) type Trace = Vec<(usize, Vec<usize>)>;

/// Evaluates decision `index` (and the tables it requires) on `input`.
pub(crate) fn evaluate(
    plans: &[Option<NativeTable>],
    index: usize,
    input: &BTreeMap<String, Value>,
    trace: &mut Trace,
) -> Value {
    let mut memo: Vec<Option<Value>> = vec![None; plans.len()];
    eval_at(plans, index, input, &mut memo, trace, 0)
}

fn eval_at(
    plans: &[Option<NativeTable>],
    index: usize,
    input: &BTreeMap<String, Value>,
    memo: &mut Vec<Option<Value>>,
    trace: &mut Trace,
    depth: usize,
) -> Value {
    if let Some(v) = &memo[index] {
        return v.clone();
    }
    let Some(plan) = &plans[index] else { return Value::Null };
    if depth > 64 {
        return Value::Null;
    }
    let mut required: Vec<(usize, Value)> = Vec::with_capacity(plan.required.len());
    for (name, j) in &plan.required {
        let v = match input.get(name) {
            Some(v) => v.clone(),
            None => eval_at(plans, *j, input, memo, trace, depth + 1),
        };
        required.push((*j, v));
    }
    let mut values: Vec<Value> = Vec::with_capacity(plan.sources.len());
    for source in &plan.sources {
        values.push(match source {
            Source::Input(name, ty) => match input.get(name) {
                Some(v) => ty.coerce(v.clone()),
                None => Value::Null,
            },
            Source::Decision(j) => required.iter().find(|(k, _)| k == j).map(|(_, v)| v.clone()).unwrap_or_default(),
        });
    }
    let mut matched = Vec::new();
    'rules: for (r, (cells, _)) in plan.rules.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let v = &values[c];
            if let Some(allowed) = &plan.allowed[c]
                && !allowed.matches(v)
            {
                continue 'rules;
            }
            if !cell.matches(v) {
                continue 'rules;
            }
        }
        matched.push(r);
    }
    let result = plan.result_type.coerce(plan.hit(&matched));
    trace.push((plan.decision, matched));
    memo[index] = Some(result.clone());
    result
}

impl NativeTable {
    fn output(&self, rule: usize, column: usize) -> Value {
        let v = &self.rules[rule].1[column];
        match &self.output_allowed[column] {
            Some(allowed) if !allowed.matches(v) => Value::Null,
            _ => v.clone(),
        }
    }

    fn result(&self, rule: usize) -> Value {
        let n = self.rules[rule].1.len();
        if n > 1 {
            Value::Context((0..n).map(|c| (self.component_names[c].clone(), self.output(rule, c))).collect())
        } else {
            self.output(rule, 0)
        }
    }

    fn default_result(&self) -> Value {
        match self.defaults.len() {
            0 => Value::Null,
            1 => self.defaults[0].clone(),
            _ => Value::Context(
                self.defaults
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| self.component_names.get(i).map(|n| (n.clone(), v.clone())))
                    .collect(),
            ),
        }
    }

    fn prioritized(&self, matched: &[usize]) -> Vec<usize> {
        let mut rules = matched.to_vec();
        let position = |v: &Value| self.priority_values.iter().position(|p| equal_for_priority(p, v));
        rules.sort_by(|&x, &y| {
            let n = self.rules[x].1.len();
            for c in 0..n {
                match (position(&self.output(x, c)), position(&self.output(y, c))) {
                    (Some(a), Some(b)) if a != b => return a.cmp(&b),
                    (Some(_), None) => return Ordering::Less,
                    (None, Some(_)) => return Ordering::Greater,
                    _ => {}
                }
            }
            Ordering::Equal
        });
        rules
    }

    fn hit(&self, matched: &[usize]) -> Value {
        if matched.is_empty() {
            return self.default_result();
        }
        let single = |a: Aggregation| a != Aggregation::List && self.component_names.len() > 1;
        match &self.hit_policy {
            HitPolicy::Collect(a) if single(*a) => Value::Null,
            HitPolicy::Unique => {
                if matched.len() > 1 {
                    Value::Null
                } else {
                    self.result(matched[0])
                }
            }
            HitPolicy::Any => {
                let first = self.result(matched[0]);
                if matched.iter().skip(1).all(|&r| self.result(r) == first) { first } else { Value::Null }
            }
            HitPolicy::First => self.result(matched[0]),
            HitPolicy::Priority => self.result(self.prioritized(matched)[0]),
            HitPolicy::RuleOrder | HitPolicy::Collect(Aggregation::List) => {
                Value::List(matched.iter().map(|&r| self.result(r)).collect())
            }
            HitPolicy::OutputOrder => Value::List(self.prioritized(matched).iter().map(|&r| self.result(r)).collect()),
            HitPolicy::Collect(Aggregation::Count) => Value::Number((matched.len() as i64).into()),
            HitPolicy::Collect(a) => {
                let values: Vec<FeelValue> = matched.iter().map(|&r| self.output(r, 0).to_feel()).collect();
                let v = match a {
                    Aggregation::Sum => dsntk_feel_evaluator::evaluate_sum(values),
                    Aggregation::Min => dsntk_feel_evaluator::evaluate_min(values),
                    _ => dsntk_feel_evaluator::evaluate_max(values),
                };
                Value::from_feel(&v)
            }
        }
    }
}

/// The engine compares priority values with its structural equality.
fn equal_for_priority(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        _ => equal(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse_the_simple_forms() {
        for (text, ok) in [
            ("-", true),
            ("", true),
            ("\"A\",\"B\"", true),
            ("< 10", true),
            (">= -2.5", true),
            ("[1..10]", true),
            ("]1..10[", true),
            ("not(\"A\", \"B\")", true),
            ("true", true),
            ("null", true),
            ("x + 1", false),
            ("< y", false),
            ("date(\"2020-01-01\")", false),
            ("\"a\\\"b\"", false),
        ] {
            assert_eq!(cell(text).is_some(), ok, "{text}");
        }
    }

    #[test]
    fn cell_semantics_follow_the_engine() {
        let n = |s: &str| Value::number(s).unwrap();
        let c = cell("[1..10]").unwrap();
        assert!(c.matches(&n("1")) && c.matches(&n("10")) && !c.matches(&n("10.5")));
        let c = cell("(1..10)").unwrap();
        assert!(!c.matches(&n("1")) && c.matches(&n("2")));
        let c = cell("not(\"A\")").unwrap();
        assert!(c.matches(&Value::string("B")) && c.matches(&Value::Null) && !c.matches(&Value::string("A")));
        let c = cell("< 10").unwrap();
        assert!(!c.matches(&Value::string("A")) && !c.matches(&Value::Null));
        let c = cell("null").unwrap();
        assert!(c.matches(&Value::Null));
    }
}
