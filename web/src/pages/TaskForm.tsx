// Completing a to-do whose process step declares a form (`weft:form`): the task's fields,
// read from the task itself, sent as its outputs. Server field errors land at their fields.
import { Alert, DatePicker, Form, Input, InputNumber, Modal, Select, Skeleton, Switch } from 'antd';
import dayjs from 'dayjs';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, asProblem, type Schemas } from '../api/client';
import { fieldErrors } from '../api/problem';
import { useFieldErrorText } from './transition';

type FormField = Schemas['FormFieldBody'];

/** `payment_reference` → `Payment reference`: for a form field declared without a label. */
export function fieldLabel(name: string): string {
  const words = name.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** How option `i` of a form field is shown: its label in the language, else the English
 *  one, else the value made readable. */
export function optionLabel(field: Pick<FormField, 'options' | 'option_labels' | 'option_labels_zh'>, i: number, lang: string): string {
  const zh = lang !== 'en' ? field.option_labels_zh?.[i] : undefined;
  return zh || field.option_labels?.[i] || fieldLabel(field.options[i] ?? '');
}

/** The control for a form field; `Form.Item` hands it `id`, `value` and `onChange`. */
function FieldControl({ field, lang, ...control }: { field: FormField; lang: string; id?: string; value?: unknown; onChange?: (v: unknown) => void }) {
  const props = control as Record<string, never>;
  if (field.options.length) return <Select {...props} options={field.options.map((o, i) => ({ value: o, label: optionLabel(field, i, lang) }))} />;
  switch (field.type) {
    case 'integer':
      return <InputNumber {...props} precision={0} style={{ width: '100%' }} />;
    case 'decimal':
      return <InputNumber {...props} stringMode style={{ width: '100%' }} />;
    case 'boolean':
      return <Switch {...props} />;
    case 'date':
      return <DatePicker {...props} style={{ width: '100%' }} />;
    default:
      return <Input.TextArea {...props} autoSize={{ minRows: 1, maxRows: 6 }} />;
  }
}

export function TaskFormDialog({ task, title, onClose, onDone }: { task: string; title: string; onClose: () => void; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const [form] = Form.useForm();
  const errorText = useFieldErrorText();
  const [fields, setFields] = useState<FormField[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void api.GET('/api/v1/tasks/{id}', { params: { path: { id: task } } }).then(({ data, error: problem, response }) => {
      if (data) setFields(data.form ?? []);
      else setError(asProblem(problem, response.status).detail ?? response.statusText);
    });
  }, [task]);

  const submit = async () => {
    const values = (await form.validateFields().catch(() => null)) as Record<string, unknown> | null;
    if (!values || !fields) return;
    const outputs: Record<string, unknown> = {};
    for (const f of fields) {
      const v = values[f.name];
      if (v === undefined || v === null || v === '') continue;
      outputs[f.name] = f.type === 'date' && dayjs.isDayjs(v) ? v.format('YYYY-MM-DD') : v;
    }
    setBusy(true);
    const { error: problem, response } = await api.POST('/api/v1/tasks/{id}/complete', {
      params: { path: { id: task } },
      body: { outputs },
    });
    setBusy(false);
    if (response.ok) return onDone();
    const p = asProblem(problem, response.status);
    if (response.status === 422) {
      const { fields: at, other } = fieldErrors(p, (n) => fields.some((f) => f.name === n), errorText);
      form.setFields(at.map((e) => ({ name: e.name[0], errors: e.errors })));
      setError(other.length ? other.join('; ') : t('record.invalid'));
    } else setError(p.detail ?? response.statusText);
  };

  return (
    <Modal open title={title} okText={t('inbox.complete')} okButtonProps={{ loading: busy, disabled: !fields }} onOk={() => void submit()} onCancel={onClose}>
      {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      {fields === null ? (
        <Skeleton active />
      ) : (
        <Form form={form} layout="vertical" name="task">
          {fields.map((f) => (
            <Form.Item
              key={f.name}
              name={f.name}
              label={(i18n.language !== 'en' ? f.label_zh : null) ?? f.label ?? fieldLabel(f.name)}
              valuePropName={f.type === 'boolean' ? 'checked' : 'value'}
              rules={f.required ? [{ required: true, message: t('login.required') }] : []}
            >
              <FieldControl field={f} lang={i18n.language} />
            </Form.Item>
          ))}
        </Form>
      )}
    </Modal>
  );
}
