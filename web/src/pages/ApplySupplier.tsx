import { Alert, Button, Card, Form, Input, Result, Select, Typography, Upload } from 'antd';
import type { UploadFile } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Problem } from '../api/client';
import { fieldErrors } from '../api/problem';
import { LangSwitch } from '../LangSwitch';
import { useFieldErrorText } from './transition';

/** The categories of the procurement app's declaration (`manifest.json`); the form is
 * public, so it cannot read the declaration itself. */
const CATEGORIES = ['raw_material', 'components', 'electronics', 'packaging', 'mro', 'services', 'capex'] as const;
const TEXT_FIELDS = ['company_name', 'tax_id', 'contact_name', 'contact_email', 'contact_phone', 'website', 'address', 'description'] as const;
const REQUIRED = new Set(['company_name', 'tax_id', 'contact_name', 'contact_email']);

type Values = Partial<Record<(typeof TEXT_FIELDS)[number], string>> & { categories?: string[] };

/** `/apply/supplier`: a company applies to become a supplier (journey J2), without an
 * account. Procurement, legal and finance review it in turn. */
export default function ApplySupplier() {
  const { t } = useTranslation();
  const [form] = Form.useForm<Values>();
  const errorText = useFieldErrorText();
  const [files, setFiles] = useState<{ licences: UploadFile[]; certificates: UploadFile[] }>({ licences: [], certificates: [] });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const submit = async (values: Values) => {
    setBusy(true);
    setError(null);
    const body = new FormData();
    for (const name of TEXT_FIELDS) {
      const v = values[name]?.trim();
      if (v) body.append(name, v);
    }
    for (const c of values.categories ?? []) body.append('categories', c);
    for (const group of ['licences', 'certificates'] as const)
      for (const f of files[group]) if (f.originFileObj) body.append(group, f.originFileObj, f.name);
    const response = await fetch('/api/v1/public/supplier-applications', { method: 'POST', body }).catch(() => null);
    setBusy(false);
    if (!response) return setError(t('apply.offline'));
    const json = (await response.json().catch(() => null)) as (Problem & { number?: string }) | null;
    if (response.status === 201) return setDone(json?.number ?? '');
    if (response.status === 422 && json) {
      const { fields, other } = fieldErrors(json, (n) => (TEXT_FIELDS as readonly string[]).includes(n) || n === 'categories', errorText);
      form.setFields(fields.map((f) => ({ name: f.name[0] as keyof Values, errors: f.errors })));
      return setError(other.length ? other.join('; ') : t('record.invalid'));
    }
    if (response.status === 429) return setError(t('apply.tooMany'));
    if (response.status === 413) return setError(t('apply.tooLarge'));
    setError(t('record.error', { detail: json?.detail ?? response.statusText }));
  };

  return (
    <main className="weft-login">
      <div className="weft-login-lang">
        <LangSwitch />
      </div>
      <Card className="weft-login-card weft-apply-card">
        {done !== null ? (
          <div data-testid="apply-done">
            <Result status="success" title={t('apply.thanks')} subTitle={t('apply.next', { number: done })} />
          </div>
        ) : (
          <>
            <Typography.Title level={3}>{t('apply.title')}</Typography.Title>
            <Typography.Paragraph type="secondary">{t('apply.help')}</Typography.Paragraph>
            {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
            <Form form={form} layout="vertical" name="apply" onFinish={(v) => void submit(v)}>
              {TEXT_FIELDS.map((name) => (
                <Form.Item
                  key={name}
                  name={name}
                  label={t(`apply.fields.${name}`)}
                  rules={[
                    ...(REQUIRED.has(name) ? [{ required: true, message: t('login.required') }] : []),
                    ...(name === 'contact_email' ? [{ type: 'email' as const, message: t('fieldError.invalid_format') }] : []),
                  ]}
                >
                  {name === 'address' || name === 'description' ? <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} /> : <Input />}
                </Form.Item>
              ))}
              <Form.Item name="categories" label={t('apply.fields.categories')}>
                <Select mode="multiple" options={CATEGORIES.map((c) => ({ value: c, label: t(`apply.categories.${c}`) }))} />
              </Form.Item>
              {(['licences', 'certificates'] as const).map((group) => (
                <Form.Item key={group} label={t(`apply.fields.${group}`)}>
                  <div data-testid={`apply-${group}`}>
                    <Upload
                      multiple
                      fileList={files[group]}
                      beforeUpload={() => false}
                      onChange={({ fileList }) => setFiles((f) => ({ ...f, [group]: fileList }))}
                    >
                      <Button>{t('apply.choose')}</Button>
                    </Upload>
                  </div>
                </Form.Item>
              ))}
              <Button type="primary" htmlType="submit" block loading={busy}>
                {t('apply.submit')}
              </Button>
            </Form>
          </>
        )}
      </Card>
    </main>
  );
}
