// One field of a type (or of its child lines) in a dialog: name, labels, kind and the
// kind's parameters, required/unique/indexed, default and help. A lines field edits its own
// fields with the same dialog, one level down (lines cannot hold lines).
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, EditOutlined, MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Checkbox, ColorPicker, Form, Input, InputNumber, Modal, Radio, Select, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useTypes } from '../meta/context';
import { labelOf } from '../meta/fields';
import {
  FIELD_TYPES,
  type FieldForm,
  type FieldJson,
  type FieldType,
  ON_DELETE,
  RESULT_TYPES,
  fieldOfForm,
  formItemOf,
  formOfField,
  indexable,
  moved,
  takesDefault,
} from './typeDraft';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

export interface FieldEditorProps {
  /** The field being edited; undefined for a new one. */
  field?: FieldJson;
  /** Names already taken by the other fields. */
  taken: string[];
  /** Problems the server reported for this field (path inside the field, reason). */
  problems?: { path: string; reason: string }[];
  /** A line's field: no lines inside. */
  inLines?: boolean;
  /** Whether the field exists on the server already (its name cannot change). */
  stored?: boolean;
  readOnly?: boolean;
  onDone: (field: FieldJson) => void;
  onCancel: () => void;
}

export default function FieldEditor({ field, taken, problems, inLines, stored, readOnly, onDone, onCancel }: FieldEditorProps) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { types } = useTypes();
  const [form] = Form.useForm<FieldForm>();
  const type = (Form.useWatch('type', form) ?? field?.type ?? 'text') as FieldType;
  const multiple = Form.useWatch('multiple', form);
  const storedResult = Form.useWatch('stored', form);
  const resultType = Form.useWatch('result_type', form);
  const defaultKind = Form.useWatch('default_kind', form);
  const [lines, setLines] = useState<FieldJson[]>([]);
  const [lineEditing, setLineEditing] = useState<{ index: number | null } | null>(null);

  useEffect(() => {
    const initial: FieldForm = field
      ? formOfField(field)
      : { name: '', type: 'text', max_length: 255, default_kind: 'none', on_delete: 'restrict', result_type: 'text' };
    form.setFieldsValue(initial as never);
    setLines(initial.lines ?? []);
    // The server's problems at their items; the rest stay listed above the form.
    const byItem = new Map<string, string[]>();
    for (const p of problems ?? []) {
      const item = formItemOf(p.path);
      if (item) byItem.set(item, [...(byItem.get(item) ?? []), p.reason]);
    }
    form.setFields([...byItem].map(([name, errors]) => ({ name: name as never, errors })));
  }, [field, problems, form]);

  const typeOptions = useMemo(
    () => FIELD_TYPES.filter((k) => !(inLines && k === 'lines')).map((k) => ({ value: k, label: t(`types.kind.${k}`) })),
    [inLines, t],
  );
  const canIndex = indexable({ type, multiple, stored: storedResult });
  const unplaced = (problems ?? []).filter((p) => !formItemOf(p.path));
  // `fields/2/scale` inside a lines field: line field 2's `scale`.
  const lineProblems = useMemo(() => {
    const out = new Map<number, { path: string; reason: string }[]>();
    for (const p of problems ?? []) {
      const m = /^fields\/(\d+)\/?(.*)$/.exec(p.path);
      if (m) out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), { path: m[2], reason: p.reason }]);
    }
    return out;
  }, [problems]);

  const done = async () => {
    const values = await form.validateFields().catch(() => null);
    if (!values) return;
    onDone(fieldOfForm({ ...values, lines }, field));
  };

  const lineNames = lines.map((l) => l.name);
  return (
    <Modal
      open
      title={field ? t('types.fieldTitle', { name: field.name }) : t('types.newField')}
      onCancel={onCancel}
      onOk={() => void done()}
      okText={t('types.fieldDone')}
      cancelText={t('record.cancel')}
      okButtonProps={{ disabled: readOnly }}
      width={760}
      destroyOnClose
    >
      {unplaced.length ? (
        <ul className="weft-problems" role="alert">
          {unplaced.map((p, i) => (
            <li key={i}>{p.path ? `${p.path}: ${p.reason}` : p.reason}</li>
          ))}
        </ul>
      ) : null}
      <Form form={form} layout="vertical" name="field" disabled={readOnly}>
        <div className="weft-form-grid">
          <Form.Item
            name="name"
            label={t('types.fieldName')}
            extra={stored ? t('types.nameFixed') : undefined}
            rules={[
              { required: true, message: t('fieldError.required') },
              { pattern: NAME, message: t('types.nameRule') },
              {
                validator: (_, v: string) =>
                  v && taken.includes(v.trim()) ? Promise.reject(new Error(t('types.nameTaken'))) : Promise.resolve(),
              },
            ]}
          >
            <Input autoComplete="off" disabled={stored || readOnly} />
          </Form.Item>
          <Form.Item name="type" label={t('types.fieldType')} rules={[{ required: true }]}>
            <Select showSearch optionFilterProp="label" options={typeOptions} />
          </Form.Item>
          <Form.Item name="label_zh" label={t('types.labelZh')} rules={[{ required: true, message: t('fieldError.required') }]}>
            <Input />
          </Form.Item>
          <Form.Item name="label_en" label={t('types.labelEn')} rules={[{ required: true, message: t('fieldError.required') }]}>
            <Input />
          </Form.Item>
        </div>

        <div className="weft-form-grid">
          {type === 'text' ? (
            <Form.Item name="max_length" label={t('types.maxLength')}>
              <InputNumber min={1} max={10000} style={{ width: '100%' }} />
            </Form.Item>
          ) : null}
          {type === 'integer' || type === 'decimal' ? (
            <>
              <Form.Item name="min" label={t('types.min')}>
                <Input inputMode="decimal" />
              </Form.Item>
              <Form.Item name="max" label={t('types.max')}>
                <Input inputMode="decimal" />
              </Form.Item>
            </>
          ) : null}
          {type === 'decimal' ? (
            <Form.Item name="scale" label={t('types.scale')} initialValue={2} rules={[{ required: true, message: t('fieldError.required') }]}>
              <InputNumber min={0} max={12} style={{ width: '100%' }} />
            </Form.Item>
          ) : null}
          {type === 'money' ? (
            <>
              <Form.Item name="currency" label={t('types.currency')} extra={t('types.currencyHelp')}>
                <Input maxLength={3} placeholder="CNY" style={{ textTransform: 'uppercase' }} />
              </Form.Item>
              <Form.Item name="scale" label={t('types.scale')} extra={t('types.moneyScaleHelp')}>
                <InputNumber min={0} max={6} style={{ width: '100%' }} />
              </Form.Item>
            </>
          ) : null}
          {type === 'reference' ? (
            <>
              <Form.Item name="target" label={t('types.target')} rules={[{ required: true, message: t('fieldError.required') }]}>
                <Select
                  showSearch
                  optionFilterProp="label"
                  options={types.map((d) => ({ value: d.name, label: `${labelOf(d.label, lang)} (${d.name})` }))}
                />
              </Form.Item>
              <Form.Item name="on_delete" label={t('types.onDelete')}>
                <Select options={ON_DELETE.map((o) => ({ value: o, label: t(`types.onDeleteOption.${o}`) }))} />
              </Form.Item>
            </>
          ) : null}
          {type === 'attachment' ? (
            <Form.Item name="multiple" valuePropName="checked" label=" ">
              <Checkbox>{t('types.multiple')}</Checkbox>
            </Form.Item>
          ) : null}
          {type === 'computed' ? (
            <>
              <Form.Item name="result_type" label={t('types.result')}>
                <Select options={RESULT_TYPES.map((k) => ({ value: k, label: t(`types.kind.${k}`) }))} />
              </Form.Item>
              {resultType === 'decimal' || resultType === 'money' ? (
                <Form.Item name="result_scale" label={t('types.scale')}>
                  <InputNumber min={0} max={12} style={{ width: '100%' }} />
                </Form.Item>
              ) : null}
              {resultType === 'money' ? (
                <Form.Item name="result_currency" label={t('types.currency')}>
                  <Input maxLength={3} placeholder="CNY" />
                </Form.Item>
              ) : null}
              <Form.Item name="stored" valuePropName="checked" label=" ">
                <Checkbox>{t('types.stored')}</Checkbox>
              </Form.Item>
            </>
          ) : null}
        </div>
        {type === 'computed' ? (
          <Form.Item name="expression" label={t('types.expression')} extra={t('types.expressionHelp')} rules={[{ required: true, message: t('fieldError.required') }]}>
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} placeholder="qty * price" className="weft-code" />
          </Form.Item>
        ) : null}

        {type === 'select' || type === 'multi_select' ? (
          <Form.Item label={t('types.options')} required>
            <Form.List
              name="options"
              rules={[{ validator: (_, v) => (v?.length ? Promise.resolve() : Promise.reject(new Error(t('types.optionsRequired')))) }]}
            >
              {(items, { add, remove }, { errors }) => (
                <>
                  {items.map(({ key, name }) => (
                    <div key={key} className="weft-option-row" data-testid="option-row">
                      <Form.Item name={[name, 'value']} rules={[{ required: true, message: t('fieldError.required') }]}>
                        <Input placeholder={t('types.optionValue')} aria-label={t('types.optionValue')} />
                      </Form.Item>
                      <Form.Item name={[name, 'label_zh']}>
                        <Input placeholder={t('types.labelZh')} aria-label={t('types.labelZh')} />
                      </Form.Item>
                      <Form.Item name={[name, 'label_en']}>
                        <Input placeholder={t('types.labelEn')} aria-label={t('types.labelEn')} />
                      </Form.Item>
                      <div className="weft-option-tools">
                        <Form.Item name={[name, 'color']} getValueFromEvent={(c) => (c ? c.toHexString() : undefined)}>
                          <ColorPicker allowClear size="small" aria-label={t('types.color')} />
                        </Form.Item>
                        <Button type="text" danger icon={<MinusCircleOutlined />} onClick={() => remove(name)} aria-label={t('types.removeOption')} />
                      </div>
                    </div>
                  ))}
                  <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ value: '' })}>
                    {t('types.addOption')}
                  </Button>
                  <Form.ErrorList errors={errors} />
                </>
              )}
            </Form.List>
          </Form.Item>
        ) : null}

        {type === 'lines' ? (
          <Form.Item
            label={t('types.lineFields')}
            required
            validateStatus={lineProblems.size ? 'error' : undefined}
            help={lineProblems.size ? t('types.lineProblems', { count: [...lineProblems.values()].flat().length }) : undefined}
          >
            <div>
              <Table<FieldJson>
                rowKey="name"
                size="small"
                pagination={false}
                dataSource={lines}
                scroll={{ x: 'max-content' }}
                columns={[
                  { key: 'name', title: t('types.fieldName'), render: (_, f) => <code>{f.name}</code> },
                  { key: 'label', title: t('types.label'), render: (_, f) => labelOf(f.label as never, lang) },
                  { key: 'type', title: t('types.fieldType'), render: (_, f) => <Tag>{t(`types.kind.${f.type as FieldType}`)}</Tag> },
                  {
                    key: 'problems',
                    title: '',
                    render: (_, _f, i) =>
                      lineProblems.get(i)?.length ? (
                        <Typography.Text type="danger">{lineProblems.get(i)!.map((p) => (p.path ? `${p.path}: ${p.reason}` : p.reason)).join('; ')}</Typography.Text>
                      ) : null,
                  },
                  {
                    key: 'edit',
                    title: '',
                    render: (_, f, i) => (
                      <Space size={0}>
                        <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={readOnly || i === 0} onClick={() => setLines(moved(lines, i, i - 1))} aria-label={t('types.moveUp', { name: f.name })} />
                        <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={readOnly || i === lines.length - 1} onClick={() => setLines(moved(lines, i, i + 1))} aria-label={t('types.moveDown', { name: f.name })} />
                        <Button size="small" type="text" icon={<EditOutlined />} onClick={() => setLineEditing({ index: i })} aria-label={t('types.editField', { name: f.name })} />
                        <Button size="small" type="text" danger icon={<DeleteOutlined />} disabled={readOnly} onClick={() => setLines(lines.filter((_, j) => j !== i))} aria-label={t('types.removeField', { name: f.name })} />
                      </Space>
                    ),
                  },
                ]}
              />
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => setLineEditing({ index: null })} disabled={readOnly} style={{ marginTop: 8 }}>
                {t('types.addLineField')}
              </Button>
            </div>
          </Form.Item>
        ) : null}

        <div className="weft-flags">
          <Form.Item name="required" valuePropName="checked">
            <Checkbox disabled={type === 'computed' || readOnly}>{t('types.required')}</Checkbox>
          </Form.Item>
          <Form.Item name="unique" valuePropName="checked" extra={canIndex ? undefined : t('types.notIndexable')}>
            <Checkbox disabled={!canIndex || readOnly}>{t('types.unique')}</Checkbox>
          </Form.Item>
          <Form.Item name="indexed" valuePropName="checked">
            <Checkbox disabled={!canIndex || readOnly}>{t('types.indexed')}</Checkbox>
          </Form.Item>
        </div>
        {takesDefault(type) ? (
          <div className="weft-form-grid">
            <Form.Item name="default_kind" label={t('types.default')}>
              <Radio.Group
                optionType="button"
                options={[
                  { value: 'none', label: t('types.defaultNone') },
                  { value: 'literal', label: t('types.defaultLiteral') },
                  { value: 'feel', label: t('types.defaultFeel') },
                ]}
              />
            </Form.Item>
            {defaultKind && defaultKind !== 'none' ? (
              <Form.Item name="default_text" label={defaultKind === 'feel' ? t('types.defaultFeelLabel') : t('types.defaultValue')}>
                <Input placeholder={defaultKind === 'feel' ? 'today()' : ''} className={defaultKind === 'feel' ? 'weft-code' : undefined} />
              </Form.Item>
            ) : null}
          </div>
        ) : null}
        <div className="weft-form-grid">
          <Form.Item name="help_zh" label={t('types.helpZh')}>
            <Input />
          </Form.Item>
          <Form.Item name="help_en" label={t('types.helpEn')}>
            <Input />
          </Form.Item>
        </div>
        {readOnly ? null : (
          <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
            {t('types.fieldNote')}
          </Typography.Paragraph>
        )}
      </Form>
      {lineEditing ? (
        <FieldEditor
          field={lineEditing.index === null ? undefined : lines[lineEditing.index]}
          taken={lineNames.filter((_, j) => j !== lineEditing.index)}
          inLines
          problems={lineEditing.index === null ? undefined : lineProblems.get(lineEditing.index)}
          readOnly={readOnly}
          stored={false}
          onCancel={() => setLineEditing(null)}
          onDone={(f) => {
            setLines(lineEditing.index === null ? [...lines, f] : lines.map((x, j) => (j === lineEditing.index ? f : x)));
            setLineEditing(null);
          }}
        />
      ) : null}
    </Modal>
  );
}
