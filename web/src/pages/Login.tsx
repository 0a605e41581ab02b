import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../auth/session';
import { LangSwitch } from '../LangSwitch';

type Step = { kind: 'password' } | { kind: 'totp'; challenge: string };

/** Sign-in: password, then a TOTP code when enrolled. Errors never tell whether the
 * account exists: the server answers every failure alike, and so does this page. */
export default function Login() {
  const { t } = useTranslation();
  const { signedIn } = useSession();
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const failure = (status: number, totp: boolean) =>
    setError(status === 429 ? t('login.throttled') : totp ? t('login.totpFailed') : t('login.failed'));

  const onPassword = async (v: { login: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      const { data, response } = await api.POST('/api/v1/auth/login', { body: { login: v.login, password: v.password } });
      if (!data) return failure(response.status, false);
      if (data.status === 'totp_required') setStep({ kind: 'totp', challenge: data.challenge });
      else signedIn(data.principal, data.csrf_token);
    } catch {
      setError(t('record.error', { detail: 'network' }));
    } finally {
      setBusy(false);
    }
  };

  const onTotp = async (v: { code: string }) => {
    if (step.kind !== 'totp') return;
    setBusy(true);
    setError(null);
    try {
      const { data, response } = await api.POST('/api/v1/auth/login/totp', {
        body: { challenge: step.challenge, code: v.code.trim() },
      });
      if (data?.status === 'signed_in') signedIn(data.principal, data.csrf_token);
      else failure(response.status, true);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="weft-login">
      <div className="weft-login-lang">
        <LangSwitch />
      </div>
      <Card className="weft-login-card">
        <Typography.Title level={3}>{step.kind === 'password' ? t('login.title') : t('login.totpTitle')}</Typography.Title>
        {error ? <Alert role="alert" type="error" showIcon message={error} style={{ marginBottom: 16 }} /> : null}
        {step.kind === 'password' ? (
          <Form layout="vertical" onFinish={onPassword} requiredMark={false} name="login">
            <Form.Item name="login" label={t('login.login')} rules={[{ required: true, message: t('login.required') }]}>
              <Input autoComplete="username" autoFocus />
            </Form.Item>
            <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.required') }]}>
              <Input.Password autoComplete="current-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t('login.submit')}
            </Button>
          </Form>
        ) : (
          <Form layout="vertical" onFinish={onTotp} requiredMark={false} name="totp">
            <Typography.Paragraph type="secondary">{t('login.totpHelp')}</Typography.Paragraph>
            <Form.Item name="code" label={t('login.code')} rules={[{ required: true, message: t('login.required') }]}>
              <Input autoComplete="one-time-code" inputMode="numeric" autoFocus />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t('login.verify')}
            </Button>
            <Button type="link" block onClick={() => { setStep({ kind: 'password' }); setError(null); }}>
              {t('login.back')}
            </Button>
          </Form>
        )}
      </Card>
    </main>
  );
}
