//! The names an expression may use and what each holds: the fields of an object type with
//! the system fields every record has, transition inputs, or any list of variables.

use std::collections::BTreeMap;
use std::fmt;

use weft_model::schema::{FieldDecl, FieldKind, ObjectTypeDecl, ScalarKind};

/// What a reference points to; references only compare with references of the same kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// A record of the named object type.
    Record(String),
    Party,
    Principal,
    OrgUnit,
}

impl fmt::Display for RefKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefKind::Record(t) => write!(f, "a reference to a `{t}`"),
            RefKind::Party => f.write_str("a party"),
            RefKind::Principal => f.write_str("a principal"),
            RefKind::OrgUnit => f.write_str("an org unit"),
        }
    }
}

/// What a name in scope holds, as far as expressions are concerned. It decides both the
/// FEEL type and how a literal compared with it becomes a `weft_model` value in a `Filter`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Text, long text, rich text, e-mail, phone and URL fields.
    Text,
    Integer,
    /// Decimal and percent fields.
    Decimal,
    /// An amount with a currency; compared with numbers by its amount.
    Money,
    Boolean,
    Date,
    DateTime,
    Duration,
    /// A select field (or a record's `state`) with its options' values.
    Select(Vec<String>),
    Reference(RefKind),
    /// A kind expressions cannot look into yet (multi select, child lines, attachments,
    /// JSON), named by its declaration type; it can only be compared with `null`.
    Opaque(&'static str),
}

impl FieldType {
    pub fn of(kind: &FieldKind) -> FieldType {
        match kind {
            FieldKind::Text { .. }
            | FieldKind::LongText {}
            | FieldKind::RichText {}
            | FieldKind::Email {}
            | FieldKind::Phone {}
            | FieldKind::Url {} => FieldType::Text,
            FieldKind::Integer { .. } => FieldType::Integer,
            FieldKind::Decimal { .. } | FieldKind::Percent {} => FieldType::Decimal,
            FieldKind::Money { .. } => FieldType::Money,
            FieldKind::Boolean {} => FieldType::Boolean,
            FieldKind::Date {} => FieldType::Date,
            FieldKind::Datetime {} => FieldType::DateTime,
            FieldKind::Duration {} => FieldType::Duration,
            FieldKind::Select { options } => FieldType::Select(options.iter().map(|o| o.value.clone()).collect()),
            FieldKind::Reference { target, .. } => FieldType::Reference(RefKind::Record(target.clone())),
            FieldKind::Party {} => FieldType::Reference(RefKind::Party),
            FieldKind::Principal {} => FieldType::Reference(RefKind::Principal),
            FieldKind::OrgUnit {} => FieldType::Reference(RefKind::OrgUnit),
            FieldKind::MultiSelect { .. }
            | FieldKind::Lines { .. }
            | FieldKind::Attachment { .. }
            | FieldKind::Json {} => FieldType::Opaque(kind.type_name()),
            FieldKind::Computed { result, .. } => FieldType::of_scalar(result),
        }
    }

    fn of_scalar(kind: &ScalarKind) -> FieldType {
        match kind {
            ScalarKind::Text {} => FieldType::Text,
            ScalarKind::Integer {} => FieldType::Integer,
            ScalarKind::Decimal { .. } | ScalarKind::Percent {} => FieldType::Decimal,
            ScalarKind::Money { .. } => FieldType::Money,
            ScalarKind::Boolean {} => FieldType::Boolean,
            ScalarKind::Date {} => FieldType::Date,
            ScalarKind::Datetime {} => FieldType::DateTime,
            ScalarKind::Duration {} => FieldType::Duration,
        }
    }

    /// The FEEL type of a value of this field.
    pub fn value_type(&self) -> Type {
        match self {
            FieldType::Text | FieldType::Select(_) => Type::String,
            FieldType::Integer | FieldType::Decimal => Type::Number,
            FieldType::Money => Type::Money,
            FieldType::Boolean => Type::Boolean,
            FieldType::Date => Type::Date,
            FieldType::DateTime => Type::DateTime,
            FieldType::Duration => Type::Duration,
            FieldType::Reference(kind) => Type::Reference(kind.clone()),
            FieldType::Opaque(kind) => Type::Opaque(kind),
        }
    }
}

/// The type of an expression's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// Only the literal `null` has this type; any other value may also be null at run time.
    Null,
    Boolean,
    /// An exact decimal.
    Number,
    /// Compares and computes as its amount; `.amount` and `.currency` read its parts.
    Money,
    String,
    Date,
    DateTime,
    /// Days and time, in whole seconds.
    Duration,
    Reference(RefKind),
    Opaque(&'static str),
}

impl Type {
    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self, Type::Number | Type::Money)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Null => f.write_str("null"),
            Type::Boolean => f.write_str("a boolean"),
            Type::Number => f.write_str("a number"),
            Type::Money => f.write_str("money"),
            Type::String => f.write_str("a string"),
            Type::Date => f.write_str("a date"),
            Type::DateTime => f.write_str("a date and time"),
            Type::Duration => f.write_str("a duration"),
            Type::Reference(kind) => write!(f, "{kind}"),
            Type::Opaque(kind) => write!(f, "a {kind} value"),
        }
    }
}

/// The names in scope for an expression.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    vars: BTreeMap<String, Var>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Var {
    pub ty: FieldType,
    /// Whether the record table has a column for it (a computed field that is not stored
    /// has none), so whether a filter can use it.
    pub column: bool,
    /// For a reference: the names of the record it points to, for paths `supplier.name`.
    pub target: Option<Schema>,
    /// For child lines: the fields of a line, for `sum(lines.amount)` and `count(lines)`.
    pub lines: Option<Schema>,
}

impl Schema {
    /// No names at all: only literals, functions and `@` references.
    pub fn new() -> Schema {
        Schema::default()
    }

    /// The fields of a record of `decl`: its declared fields and the system fields every
    /// record has (`id`, `number`, `state`, `owner`, `party`, `unit`, `version`, `created_at`,
    /// `updated_at`, `created_by`, `updated_by`). `state` is a select over the lifecycle's
    /// states when the type has one. A child-lines field is a list: it can be counted and
    /// its lines' fields summed, averaged and compared (`sum(lines.amount)`), nothing more.
    pub fn for_type(decl: &ObjectTypeDecl) -> Schema {
        let state = match &decl.lifecycle {
            Some(lifecycle) => FieldType::Select(lifecycle.states.iter().map(|s| s.name.clone()).collect()),
            None => FieldType::Text,
        };
        let system = [
            ("id", FieldType::Reference(RefKind::Record(decl.name.clone()))),
            ("number", FieldType::Text),
            ("state", state),
            ("owner", FieldType::Reference(RefKind::Principal)),
            ("party", FieldType::Reference(RefKind::Party)),
            ("unit", FieldType::Reference(RefKind::OrgUnit)),
            ("version", FieldType::Integer),
            ("created_at", FieldType::DateTime),
            ("updated_at", FieldType::DateTime),
            ("created_by", FieldType::Reference(RefKind::Principal)),
            ("updated_by", FieldType::Reference(RefKind::Principal)),
        ];
        let mut schema = Schema::new();
        for (name, ty) in system {
            schema = schema.with_var(name, ty);
        }
        schema.with_fields(&decl.fields)
    }

    /// Variables declared as fields, such as a transition's inputs.
    pub fn from_fields(fields: &[FieldDecl]) -> Schema {
        Schema::new().with_fields(fields)
    }

    /// Adds `fields`; a name already in scope is replaced.
    pub fn with_fields(mut self, fields: &[FieldDecl]) -> Schema {
        for field in fields {
            let column = !matches!(field.kind, FieldKind::Computed { stored: false, .. });
            let lines = match &field.kind {
                FieldKind::Lines { fields } => Some(Schema::new().with_fields(fields)),
                _ => None,
            };
            self.vars.insert(field.name.clone(), Var { ty: FieldType::of(&field.kind), column, target: None, lines });
        }
        self
    }

    /// Adds one variable with a column; a name already in scope is replaced.
    pub fn with_var(mut self, name: impl Into<String>, ty: FieldType) -> Schema {
        self.vars.insert(name.into(), Var { ty, column: true, target: None, lines: None });
        self
    }

    /// Says what the record referenced by `field` holds, so `field.name` can be checked.
    /// Ignored when `field` is not a reference in scope.
    pub fn with_target(mut self, field: &str, target: Schema) -> Schema {
        if let Some(var) = self.vars.get_mut(field).filter(|v| matches!(v.ty, FieldType::Reference(_))) {
            var.target = Some(target);
        }
        self
    }

    pub fn field_type(&self, name: &str) -> Option<&FieldType> {
        self.vars.get(name).map(|v| &v.ty)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    pub(crate) fn var(&self, name: &str) -> Option<&Var> {
        self.vars.get(name)
    }
}
