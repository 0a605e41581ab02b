// One's own notification settings (`/settings/notifications`): for each inbox kind, mail
// at once, in a digest or not at all, and how long a digest collects; over
// GET/PUT /api/v1/me/delivery. The inbox and the live badge are not affected: they always
// show everything.
import { Alert, App, Button, Form, InputNumber, Radio, Skeleton, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, asProblem } from '../api/client';
import { useFieldErrorText } from '../pages/transition';
import { kindsOf, MODES, settingsChange, settingsProblems, type Settings } from './delivery';

interface Values {
  email: Record<string, string>;
  digest_minutes: number;
}

export default function NotificationSettings() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errorText = useFieldErrorText();

  useEffect(() => {
    void api.GET('/api/v1/me/delivery').then(({ data, error: problem, response }) => {
      if (data) setSettings(data);
      else setError(asProblem(problem, response.status).detail ?? response.statusText);
    });
  }, []);
  useEffect(() => {
    if (settings) form.setFieldsValue({ email: { ...settings.email }, digest_minutes: settings.digest_minutes });
  }, [settings, form]);

  const save = async (values: Values) => {
    if (!settings) return;
    const body = settingsChange(settings, values);
    if (!Object.keys(body).length) {
      void message.info(t('notify.unchanged'));
      return;
    }
    setBusy(true);
    setError(null);
    const { data, error: problem, response } = await api.PUT('/api/v1/me/delivery', { body });
    setBusy(false);
    if (data) {
      setSettings(data);
      void message.success(t('notify.saved'));
      return;
    }
    const p = asProblem(problem, response.status);
    if (p.status === 422) {
      const { fields, other } = settingsProblems(p, kindsOf(settings), errorText);
      form.setFields(fields.map((f) => ({ name: f.name as never, errors: f.errors })));
      setError(other.length ? `${t('record.invalid')} ${other.join('; ')}` : t('record.invalid'));
    } else setError(p.detail ?? p.title);
  };

  return (
    <div className="weft-page weft-narrow" data-testid="notification-settings">
      <Typography.Title level={2}>{t('notify.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('notify.intro')}</Typography.Paragraph>
      {settings ? (
        settings.address ? (
          <Alert type="info" showIcon message={t('notify.address', { address: settings.address })} style={{ marginBottom: 16 }} data-testid="notify-address" />
        ) : (
          <Alert type="warning" showIcon message={t('notify.noAddress')} style={{ marginBottom: 16 }} data-testid="notify-address" />
        )
      ) : null}
      {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
      {!settings ? (
        error ? null : <Skeleton active />
      ) : (
        <Form form={form} layout="vertical" name="notify" onFinish={(v) => void save(v)}>
          {kindsOf(settings).map((kind) => (
            <Form.Item
              key={kind}
              name={['email', kind]}
              label={i18n.exists(`notify.kind.${kind}`) ? t(`notify.kind.${kind}` as 'notify.kind.todo') : kind}
              extra={i18n.exists(`notify.kindHelp.${kind}`) ? t(`notify.kindHelp.${kind}` as 'notify.kindHelp.todo') : undefined}
            >
              <Radio.Group
                optionType="button"
                aria-label={i18n.exists(`notify.kind.${kind}`) ? t(`notify.kind.${kind}` as 'notify.kind.todo') : kind}
                data-kind={kind}
                options={MODES.map((m) => ({ value: m, label: t(`notify.mode.${m}`) }))}
              />
            </Form.Item>
          ))}
          <Form.Item
            name="digest_minutes"
            label={t('notify.digestMinutes')}
            extra={t('notify.digestHelp')}
            rules={[{ required: true, message: t('notify.digestRange') }]}
          >
            <InputNumber min={5} max={1440} step={5} addonAfter={t('notify.minutes')} style={{ maxWidth: 220 }} />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={busy}>
            {t('notify.save')}
          </Button>
        </Form>
      )}
    </div>
  );
}
