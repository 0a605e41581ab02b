// The dispatcher: the one place that maps a field kind to its display and input
// components. The switches end in `never`, so a kind added to `FieldKind` without a
// component fails the build.
import type { ComponentType } from 'react';
import { message, useLang } from '../i18n/lang';
import { displayKind, type FieldKind } from '../meta/fields';
import * as D from './display';
import type { DisplayProps } from './display';
import * as I from './inputs';
import type { InputProps } from './inputs';
import { LineOfDisplay } from './reference';

export function displayComponent(kind: Exclude<FieldKind, 'computed'>): ComponentType<DisplayProps> {
  switch (kind) {
    case 'text':
      return D.TextDisplay;
    case 'long_text':
      return D.LongTextDisplay;
    case 'rich_text':
      return D.RichTextDisplay;
    case 'integer':
      return D.IntegerDisplay;
    case 'decimal':
      return D.DecimalDisplay;
    case 'money':
      return D.MoneyDisplay;
    case 'percent':
      return D.PercentDisplay;
    case 'boolean':
      return D.BooleanDisplay;
    case 'date':
      return D.DateDisplay;
    case 'datetime':
      return D.DateTimeDisplay;
    case 'duration':
      return D.DurationDisplay;
    case 'email':
      return D.EmailDisplay;
    case 'phone':
      return D.PhoneDisplay;
    case 'url':
      return D.UrlDisplay;
    case 'select':
      return D.SelectDisplay;
    case 'multi_select':
      return D.MultiSelectDisplay;
    case 'reference':
    case 'party':
      return D.ReferenceDisplay;
    case 'principal':
      return D.PrincipalDisplay;
    case 'org_unit':
      return D.OrgUnitDisplay;
    case 'lines':
      return D.LinesDisplay;
    case 'attachment':
      return D.AttachmentDisplay;
    case 'json':
      return D.JsonDisplay;
    default: {
      const never: never = kind;
      throw new Error(`no display for field kind ${String(never)}`);
    }
  }
}

/** The input for a kind; `null` for computed fields, which nobody sets. */
export function inputComponent(kind: FieldKind): ComponentType<InputProps> | null {
  switch (kind) {
    case 'text':
      return I.TextInput;
    case 'long_text':
      return I.LongTextInput;
    case 'rich_text':
      return I.RichTextInput;
    case 'integer':
      return I.IntegerInput;
    case 'decimal':
      return I.DecimalInput;
    case 'money':
      return I.MoneyInput;
    case 'percent':
      return I.PercentInput;
    case 'boolean':
      return I.BooleanInput;
    case 'date':
      return I.DateInput;
    case 'datetime':
      return I.DateTimeInput;
    case 'duration':
      return I.DurationInput;
    case 'email':
      return I.EmailInput;
    case 'phone':
      return I.PhoneInput;
    case 'url':
      return I.UrlInput;
    case 'select':
      return I.SelectInput;
    case 'multi_select':
      return I.MultiSelectInput;
    case 'reference':
    case 'party':
      return I.ReferenceInput;
    case 'principal':
    case 'org_unit':
      return I.IdInput;
    case 'lines':
      return I.LinesInput;
    case 'attachment':
      return I.AttachmentInput;
    case 'json':
      return I.JsonInput;
    case 'computed':
      return null;
    default: {
      const never: never = kind;
      throw new Error(`no input for field kind ${String(never)}`);
    }
  }
}

/** A field's value for reading; empty values show a dash, hidden ones say so. */
export function FieldDisplay({ field, value, hidden }: DisplayProps & { hidden?: boolean }) {
  const lang = useLang();
  if (hidden) return <span className="weft-empty">{message(lang, 'record.hidden')}</span>;
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
    return <D.Empty />;
  }
  if (field.lineOf?.target) return <LineOfDisplay field={field} value={value} />;
  const Display = displayComponent(displayKind(field));
  return <Display field={field} value={value} />;
}

/** A field's input; a computed or read-only field shows its value instead. */
export function FieldInput(props: InputProps) {
  const Input = inputComponent(props.field.kind);
  if (!Input || props.field.readOnly) return <FieldDisplay field={props.field} value={props.value} />;
  return <Input {...props} />;
}
