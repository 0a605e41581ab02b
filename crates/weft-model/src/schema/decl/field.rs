use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::{DefaultValue, Label};
use crate::schema::currency::{MAX_MINOR_UNITS, minor_units};

/// One field of an object type (or of its child lines, or a transition input).
///
/// On the wire the kind's `type` tag and parameters sit beside the common keys:
/// `{"name": "qty", "label": {...}, "type": "decimal", "scale": 3, "required": true}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldDecl {
    pub name: String,
    pub label: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Label>,
    #[serde(flatten)]
    pub kind: FieldKind,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultValue>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub indexed: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The keys of a field that are not the kind's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldCommon {
    name: String,
    label: Label,
    #[serde(default)]
    help: Option<Label>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    default: Option<DefaultValue>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    indexed: bool,
}

const COMMON_KEYS: [&str; 7] = ["name", "label", "help", "required", "default", "unique", "indexed"];

// serde cannot combine `flatten` with `deny_unknown_fields`, so the object is split by
// hand: the common keys go to `FieldCommon`, the rest to the kind, and each half refuses
// keys it does not know.
impl<'de> Deserialize<'de> for FieldDecl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut object = serde_json::Map::deserialize(deserializer)?;
        let mut common = serde_json::Map::new();
        for key in COMMON_KEYS {
            if let Some(value) = object.remove(key) {
                common.insert(key.to_owned(), value);
            }
        }
        let name = common.get("name").and_then(|n| n.as_str()).unwrap_or("?").to_owned();
        let common: FieldCommon =
            serde_json::from_value(common.into()).map_err(|e| D::Error::custom(format_args!("field `{name}`: {e}")))?;
        let kind: FieldKind =
            serde_json::from_value(object.into()).map_err(|e| D::Error::custom(format_args!("field `{name}`: {e}")))?;
        Ok(FieldDecl {
            name: common.name,
            label: common.label,
            help: common.help,
            kind,
            required: common.required,
            default: common.default,
            unique: common.unique,
            indexed: common.indexed,
        })
    }
}

pub(crate) const fn default_text_max_length() -> u32 {
    255
}

/// What a field holds, and so its column type and how input is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldKind {
    /// One line of text, at most `max_length` characters.
    Text {
        #[serde(default = "default_text_max_length")]
        max_length: u32,
        /// The id of a line of the record another field references: on a child line, a
        /// reference field of the parent record (a shipping notice line's `po_line` names a
        /// line of the notice's `purchase_order`). Forms offer that record's lines; the app
        /// that declares it checks the id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line_of: Option<String>,
    },
    LongText {},
    /// HTML, sanitised on input.
    RichText {},
    Integer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// Exact decimal with at most `scale` places; bounds are decimal strings.
    Decimal {
        scale: u8,
        #[serde(default, skip_serializing_if = "Option::is_none", with = "rust_decimal::serde::str_option")]
        #[schema(value_type = Option<String>)]
        min: Option<Decimal>,
        #[serde(default, skip_serializing_if = "Option::is_none", with = "rust_decimal::serde::str_option")]
        #[schema(value_type = Option<String>)]
        max: Option<Decimal>,
    },
    /// An exact amount with its currency. `currency` fixes the currency for every record;
    /// `scale` defaults to the currency's minor units (2 for CNY, 0 for JPY).
    Money {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<u8>,
    },
    /// Percentage points: 12.5 means 12.5 %.
    Percent {},
    Boolean {},
    Date {},
    /// An instant, stored in UTC.
    Datetime {},
    /// Whole seconds; ISO 8601 (`PT1H30M`) on the wire.
    Duration {},
    Email {},
    Phone {},
    /// An http or https address.
    Url {},
    Select {
        options: Vec<SelectOption>,
    },
    MultiSelect {
        options: Vec<SelectOption>,
    },
    /// A record of another object type (or of this one).
    Reference {
        target: String,
        #[serde(default)]
        on_delete: OnDelete,
    },
    Party {},
    Principal {},
    OrgUnit {},
    /// Child lines stored in their own table, ordered; lines cannot hold lines.
    Lines {
        #[schema(no_recursion)]
        fields: Vec<FieldDecl>,
    },
    /// Content-addressed files, named by the SHA-256 of their content.
    Attachment {
        #[serde(default, skip_serializing_if = "is_false")]
        multiple: bool,
    },
    Json {},
    /// Read-only, computed by a FEEL expression over the record; `stored` keeps the
    /// result in a column so it can be filtered, sorted and indexed.
    Computed {
        expression: String,
        result: ScalarKind,
        #[serde(default, skip_serializing_if = "is_false")]
        stored: bool,
    },
}

impl FieldKind {
    /// The `type` tag, as written in declarations.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::LongText {} => "long_text",
            FieldKind::RichText {} => "rich_text",
            FieldKind::Integer { .. } => "integer",
            FieldKind::Decimal { .. } => "decimal",
            FieldKind::Money { .. } => "money",
            FieldKind::Percent {} => "percent",
            FieldKind::Boolean {} => "boolean",
            FieldKind::Date {} => "date",
            FieldKind::Datetime {} => "datetime",
            FieldKind::Duration {} => "duration",
            FieldKind::Email {} => "email",
            FieldKind::Phone {} => "phone",
            FieldKind::Url {} => "url",
            FieldKind::Select { .. } => "select",
            FieldKind::MultiSelect { .. } => "multi_select",
            FieldKind::Reference { .. } => "reference",
            FieldKind::Party {} => "party",
            FieldKind::Principal {} => "principal",
            FieldKind::OrgUnit {} => "org_unit",
            FieldKind::Lines { .. } => "lines",
            FieldKind::Attachment { .. } => "attachment",
            FieldKind::Json {} => "json",
            FieldKind::Computed { .. } => "computed",
        }
    }

    /// Whether a column of this kind can carry a unique constraint or a plain index.
    /// Large or composite values cannot; a computed field can only when it is stored.
    pub fn indexable(&self) -> bool {
        match self {
            FieldKind::LongText {}
            | FieldKind::RichText {}
            | FieldKind::Json {}
            | FieldKind::MultiSelect { .. }
            | FieldKind::Lines { .. } => false,
            FieldKind::Attachment { multiple } => !multiple,
            FieldKind::Computed { stored, .. } => *stored,
            _ => true,
        }
    }

    /// Decimal places the column of a decimal, money or percent field (or a computed field
    /// of those) must keep; `None` for other kinds.
    pub fn decimal_places(&self) -> Option<u8> {
        match self {
            FieldKind::Decimal { scale, .. } => Some(*scale),
            FieldKind::Money { currency, scale } => Some(money_places(currency.as_deref(), *scale)),
            FieldKind::Percent {} => Some(PERCENT_SCALE),
            FieldKind::Computed { result, .. } => result.field_kind().decimal_places(),
            _ => None,
        }
    }

    pub fn options(&self) -> Option<&[SelectOption]> {
        match self {
            FieldKind::Select { options } | FieldKind::MultiSelect { options } => Some(options),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectOption {
    /// The stored value; labels may change, values may not.
    pub value: String,
    pub label: Label,
    /// `#rgb`, `#rrggbb` or a palette name such as `green`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

/// Places a percent keeps: 12.3456 %.
pub const PERCENT_SCALE: u8 = 4;

fn money_places(currency: Option<&str>, scale: Option<u8>) -> u8 {
    // Without a fixed currency the column must hold the widest minor unit in use.
    scale.unwrap_or_else(|| currency.map_or(MAX_MINOR_UNITS, minor_units))
}

/// What happens to a record whose reference target is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    /// The target cannot be deleted while referenced.
    #[default]
    Restrict,
    SetNull,
    Cascade,
}

/// The kinds a computed field may produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScalarKind {
    Text {},
    Integer {},
    Decimal {
        scale: u8,
    },
    Money {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<u8>,
    },
    Percent {},
    Boolean {},
    Date {},
    Datetime {},
    Duration {},
}

impl ScalarKind {
    /// The field kind a result of this kind is stored and read as.
    pub fn field_kind(&self) -> FieldKind {
        match self {
            // A computed text has no declared limit; store it like long text.
            ScalarKind::Text {} => FieldKind::LongText {},
            ScalarKind::Integer {} => FieldKind::Integer { min: None, max: None },
            ScalarKind::Decimal { scale } => FieldKind::Decimal { scale: *scale, min: None, max: None },
            ScalarKind::Money { currency, scale } => FieldKind::Money { currency: currency.clone(), scale: *scale },
            ScalarKind::Percent {} => FieldKind::Percent {},
            ScalarKind::Boolean {} => FieldKind::Boolean {},
            ScalarKind::Date {} => FieldKind::Date {},
            ScalarKind::Datetime {} => FieldKind::Datetime {},
            ScalarKind::Duration {} => FieldKind::Duration {},
        }
    }
}
