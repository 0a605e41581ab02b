// What the record page and the kanban board share: problem documents shown at their
// fields, and the dialog that runs a lifecycle transition with its inputs.
import { Alert, Form, Modal, Typography } from 'antd';
import { useCallback, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, versionOf, type Problem, type RecordJson } from '../api/client';
import { fieldErrors, type FieldError } from '../api/problem';
import { FieldInput } from '../fields/dispatch';
import { labelOf, type FieldDef, type TransitionDef, type TypeDef } from '../meta/fields';

export type FormApi = ReturnType<typeof Form.useForm>[0];

/** A field error in the UI's language: English shows the server's reason (the most
 * precise); Chinese the message for the error's code, or the reason when it has none. */
export function useFieldErrorText() {
  const { t, i18n } = useTranslation();
  return useCallback(
    (e: FieldError) => {
      if (i18n.language === 'en' || !e.code || !i18n.exists(`fieldError.${e.code}`)) return e.reason;
      // The reason's closing figure (an open quantity, a limit) is language-neutral: keep it.
      const figure = /\(([^()]*\d[^()]*)\)\s*$/.exec(e.reason);
      const text = t(`fieldError.${e.code}` as 'fieldError.required');
      return figure ? `${text.replace(/。$/, '')}（${figure[1]}）` : text;
    },
    [t, i18n],
  );
}

/** Shows a problem: field errors at their fields, the rest in the returned message. */
export function useProblemText() {
  const { t, i18n } = useTranslation();
  const errorText = useFieldErrorText();
  return useCallback(
    (problem: Problem, form: FormApi | null, fields: FieldDef[]): string => {
      if (problem.status === 422 && problem.errors?.length && form) {
        const { fields: at, other } = fieldErrors(problem, (n) => fields.some((f) => f.name === n), errorText);
        form.setFields(onLinesField(at, fields, i18n.language, (n, field) => t('record.lineError', { n, field })));
        return other.length ? `${t('record.invalid')} ${other.join('; ')}` : t('record.invalid');
      }
      if (problem.status === 403) return t('record.forbidden');
      if (problem.status === 404) return t('record.notFound');
      return t('record.error', { detail: problem.detail ?? problem.title });
    },
    [t, i18n, errorText],
  );
}

/** A line cell's errors go to its lines field (cells have no form item of their own),
 * each saying which line and which column. */
function onLinesField(
  at: { name: (string | number)[]; errors: string[] }[],
  fields: FieldDef[],
  lang: string,
  where: (n: number, field: string) => string,
): { name: (string | number)[]; errors: string[] }[] {
  const out = new Map<string, { name: (string | number)[]; errors: string[] }>();
  for (const e of at) {
    let name = e.name;
    let errors = e.errors;
    if (e.name.length === 3) {
      const [lines, row, column] = e.name as [string, number, string];
      const label = fields.find((f) => f.name === lines)?.lines?.find((c) => c.name === column)?.label;
      const prefix = where(row + 1, label ? labelOf(label, lang) : column);
      name = [lines];
      errors = e.errors.map((m) => `${prefix}${m}`);
    }
    const key = JSON.stringify(name);
    const entry = out.get(key) ?? { name, errors: [] };
    entry.errors.push(...errors);
    out.set(key, entry);
  }
  return [...out.values()];
}

/** Clears a field's server error as soon as its value changes. */
export function clearErrorsOnChange(form: FormApi) {
  return (changed: Record<string, unknown>) =>
    form.setFields(Object.keys(changed).map((name) => ({ name, errors: [] })));
}

/** "「Invoice number」：" for a pointer at a field of the record (a line's cell: "Line 2,
 * Received: "), or null when it names none. */
function recordField(
  def: TypeDef,
  pointer: string,
  lang: string,
  t: (key: 'record.fieldRefused' | 'record.lineError', values: Record<string, unknown>) => string,
): string | null {
  const [name, row, column] = pointer.split('/').slice(1);
  const field = def.fields.find((f) => f.name === name);
  if (!field) return null;
  const cell = column ? field.lines?.find((c) => c.name === column) : undefined;
  if (cell && row !== undefined && /^\d+$/.test(row)) {
    return t('record.lineError', { n: Number(row) + 1, field: labelOf(cell.label, lang) });
  }
  return t('record.fieldRefused', { field: labelOf(field.label, lang) });
}

export function TransitionDialog({
  def,
  id,
  version,
  transition,
  onClose,
  onDone,
  onConflict,
}: {
  def: TypeDef;
  id: string;
  version: number;
  transition: TransitionDef;
  onClose: () => void;
  onDone: (record: RecordJson, version: number) => void;
  onConflict: (current?: number) => void;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [form] = Form.useForm();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const problemText = useProblemText();
  const errorText = useFieldErrorText();
  const title = labelOf(transition.label, lang);

  const run = async () => {
    setBusy(true);
    setError(null);
    const values = form.getFieldsValue(true) as Record<string, unknown>;
    const body: Record<string, unknown> = {};
    for (const f of transition.inputs) if (values[f.name] !== undefined && values[f.name] !== null) body[f.name] = values[f.name];
    const { data, error: problem, response } = await api.POST('/api/v1/records/{type}/{id}/transitions/{name}', {
      params: { path: { type: def.name, id, name: transition.name }, header: { 'If-Match': `"${version}"` } },
      body,
    });
    setBusy(false);
    if (data) {
      const record = data as RecordJson;
      onDone(record, versionOf(response.headers.get('etag')) ?? record.version);
    } else if (problem?.status === 412) onConflict(problem.current_version ?? undefined);
    else if (problem) {
      // What the record itself lacks (an app engine's check: an invoice number to submit,
      // a quantity to post) is named by the record's field, not by a pointer.
      const isInput = (e: FieldError) => transition.inputs.some((f) => f.name === e.pointer.split('/')[1]);
      const onRecord = (problem.errors ?? []).filter((e) => !isInput(e) && recordField(def, e.pointer, lang, t) !== null);
      if (problem.status === 422 && onRecord.length) {
        problemText({ ...problem, errors: (problem.errors ?? []).filter(isInput) }, form, transition.inputs);
        const detail = onRecord.map((e) => `${recordField(def, e.pointer, lang, t)}${errorText(e)}`).join(' ');
        setError(t('record.transitionRefused', { detail }));
        return;
      }
      const text = problemText(problem, form, transition.inputs);
      setError(problem.status === 422 && problem.errors?.length ? text : t('record.transitionRefused', { detail: problem.detail ?? problem.title }));
    }
  };

  return (
    <Modal
      open
      title={t('record.transitionTitle', { action: title })}
      onCancel={onClose}
      onOk={() => void run()}
      okText={t('record.confirm')}
      cancelText={t('record.cancel')}
      confirmLoading={busy}
      destroyOnClose
    >
      {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      {transition.inputs.length ? (
        <Form form={form} layout="vertical" name="transition" onValuesChange={clearErrorsOnChange(form)}>
          {transition.inputs.map((f) => (
            <Form.Item key={f.name} name={f.name} label={labelOf(f.label, lang)} required={f.required} validateTrigger={[]}>
              <FieldInput field={f} />
            </Form.Item>
          ))}
        </Form>
      ) : (
        <Typography.Paragraph>{title}?</Typography.Paragraph>
      )}
    </Modal>
  );
}

